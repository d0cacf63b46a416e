"""Scarce-brand allocation by points: the exact rule of DESIGN.md §4, with no Django import.

The rule, in units of ``unit`` cartons (``U = supply // unit``, ``k = cap // unit``):

1. If Σk ≤ U every eligible retailer gets k (rule 1); the rest stays unallocated.
2. Otherwise water-fill (rule 2): in k/p order, a retailer is capped (quota = k) while
   k/p < s/P, starting from s = U and P = Σp and removing each capped retailer from both;
   every other retailer gets quota = p·s/P.
3. Everyone gets ⌊quota⌋; the U − Σ⌊quota⌋ units left go one each to the retailers below their
   cap with the largest fractional part, ties broken by more points, then higher star, then the
   cycle's lottery key ascending (rule 3).

With a guaranteed minimum ("小户有量") the rule runs twice: first with each cap lowered to the
minimum, then on what is left with each cap lowered by what the first pass gave.

All arithmetic is on Python ints (or int64 arrays that provably cannot overflow); a quota is the
exact fraction ``quota_num / den`` and remainders are compared as numerators over the common
denominator ``den``, never as floats.

Two engines compute the same thing: ``"python"`` is the reference, a literal transcription of the
rule; ``"numpy"`` is the fast path for large runs and must give an identical ``Result`` (the
tests compare them on every generated example). ``"auto"`` picks NumPy for large inputs and falls
back to the reference whenever an int64 product might overflow or the float-ordered guess at the
water-fill cannot be confirmed exactly.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from itertools import repeat
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

Engine = Literal["auto", "python", "numpy"]
ENGINES: tuple[Engine, ...] = ("auto", "python", "numpy")

# From about this many candidates up the NumPy engine is the faster (measured: 0.3 ms each at
# 50, 1.8 against 0.7 ms at 200, 66 against 12 ms at 5,000); below it "auto" uses the reference.
NUMPY_MIN_CANDIDATES = 100

# Every int64 value the NumPy engine forms (sums, cross-products k·P and p·s, quota numerators)
# is checked beforehand, with exact Python ints, to stay below this: a factor of two of margin
# under 2**63.
_INT64_LIMIT = 1 << 62

# The NumPy engine breaks remainder ties by at most this many leading bits of the lottery key,
# and sorts by all 256 bits only when two contenders share them. A module constant so that the
# tests can shorten it and force the full-key path.
_LOTTERY_PREFIX_BITS = 64

STAR_MAX = 5


def lottery_key(cycle_code: str, licence: str) -> str:
    """The cycle's lottery key of a licence (DESIGN §4 rule 3): hex SHA-256 of ``cycle:licence``.

    Anyone can recompute it, and it changes every cycle, so the same retailers do not win every
    tie every cycle.
    """
    return hashlib.sha256(f"{cycle_code}:{licence}".encode()).hexdigest()


def _lottery_keys(cycle_code: str, licences: list[str]) -> list[str]:
    # Same expression as lottery_key, inlined: a function call per licence costs a fifth more
    # at 500,000 licences.
    sha256 = hashlib.sha256
    return [sha256(f"{cycle_code}:{licence}".encode()).hexdigest() for licence in licences]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One retailer offered to the rule. Eligibility by status, star and violations is the
    caller's job (DESIGN §4); the rule itself only drops ``points == 0`` and ``cap < unit``."""

    key: Hashable  # opaque retailer id, returned unchanged
    points: int  # >= 0, from the previous cycle
    cap: int  # cartons, already lowered to the requested quantity by the caller
    star: int  # 0 for unrated, else 1..5; used only to break ties
    licence: str  # for the lottery key


class Line(NamedTuple):
    """How one candidate fared, with everything needed to explain the award (DESIGN §4).

    Fields named ``*_units`` are in units of ``Result.unit`` cartons; ``cap`` and ``award`` are
    cartons. Each quota is kept as an exact numerator over the pass's common denominator (the
    ``P`` of rule 3) and read as a ``Fraction`` through ``quota``, ``minimum_quota`` and
    ``share``.

    A ``NamedTuple`` rather than a frozen dataclass, and fractions built on demand, because a
    run makes one line per retailer: 500,000 frozen slotted dataclasses of these fields took
    1.2 s to construct here, 500,000 of these 0.15 s. It is just as immutable and typed, and
    being a tuple it feeds ``executemany`` or ``COPY`` through ``operator.itemgetter`` without
    a Python loop.
    """

    key: Hashable
    points: int
    cap: int
    star: int
    licence: str
    eligible: bool  # points > 0 and cap >= unit
    cap_units: int  # k = cap // unit
    minimum_cap_units: int  # min(minimum, cap) // unit; 0 without a minimum pass
    minimum_quota_num: int  # minimum-pass quota = minimum_quota_num / minimum_quota_den units
    minimum_quota_den: int
    minimum_remainder_rank: int | None  # 1-based rank in the minimum pass's remainder hand-out
    minimum_units: int  # units awarded by the minimum pass
    main_cap_units: int  # cap of the main pass: cap_units - minimum_units
    share_den: int  # Σ points of the eligible candidates (1 if none): share = points / share_den
    quota_num: int  # main-pass quota = quota_num / quota_den units
    quota_den: int
    floor_units: int  # ⌊quota⌋
    remainder_rank: int | None  # 1-based rank in the main remainder hand-out, None if no unit
    capped: bool  # quota = main_cap_units (rule 1, or capped in the water-fill)
    award_units: int  # minimum_units + main-pass units
    award: int  # cartons: award_units * unit
    lottery: str  # lottery_key(cycle_code, licence)

    @property
    def share(self) -> Fraction:
        """points / Σ points over the eligible candidates; 0 if not eligible."""
        return Fraction(self.points, self.share_den) if self.eligible else Fraction(0)

    @property
    def quota(self) -> Fraction:
        """Main-pass quota in units (exact): main_cap_units if capped, else p·s/P."""
        return Fraction(self.quota_num, self.quota_den)

    @property
    def minimum_quota(self) -> Fraction:
        """Minimum-pass quota in units (exact); 0 without a minimum pass."""
        return Fraction(self.minimum_quota_num, self.minimum_quota_den)

    @property
    def total_quota(self) -> Fraction:
        """Both passes' quotas in units: what the award rounds, pass by pass."""
        return self.minimum_quota + self.quota


@dataclass(frozen=True, slots=True)
class Result:
    """A whole allocation: one line per candidate in input order, and the run's totals."""

    lines: tuple[Line, ...]
    supply: int  # cartons
    unit: int  # cartons per unit
    minimum: int  # guaranteed minimum, cartons
    cycle_code: str
    supply_units: int  # U = supply // unit
    allocated: int  # cartons
    unallocated: int  # cartons: supply - allocated, including supply % unit
    total_points: int  # P = Σ points of the eligible candidates
    minimum_pass_units: int  # units given by the minimum pass
    main_supply_units: int  # units shared by the main pass: supply_units - minimum_pass_units
    # The water level s/P at the end of the main pass: every uncapped quota is points times this.
    # None when the main pass fell under rule 1 (every cap covered).
    units_per_point: Fraction | None
    minimum_units_per_point: Fraction | None  # the same for the minimum pass


class _NumpyUnsafe(Exception):
    """The NumPy engine cannot vouch for an exact answer; the reference engine takes over."""


@dataclass(frozen=True, slots=True)
class _Problem:
    """Validated input columns, as both engines read them."""

    points: list[int]
    caps: list[int]
    stars: list[int]
    lottery: list[str]
    unit: int
    supply_units: int  # U = supply // unit
    minimum_units: int  # minimum // unit; 0 for no minimum pass


@dataclass(slots=True)
class _Pass:
    """One pass of the rule over all candidates (ineligible ones hold zeros), as plain lists.

    A quota is ``quota_num[i] / den``: capped quotas are stored as ``k * den`` so that a whole
    pass shares one denominator. ``rank`` holds 0 for "no remainder unit".
    """

    quota_num: list[int]
    den: int
    floor: list[int]
    rank: list[int]
    capped: list[bool]
    award: list[int]
    units_per_point: Fraction | None


@dataclass(slots=True)
class _Outcome:
    """What an engine hands to ``_assemble``: every per-line number, one list per column."""

    eligible: list[bool]
    cap_units: list[int]
    total_points: int
    first_cap_units: list[int] | None  # min(minimum, cap) // unit; None without a minimum pass
    first: _Pass | None
    main_cap_units: list[int]
    main: _Pass
    award_units: list[int]
    awards: list[int]  # cartons


def allocate(
    candidates: Sequence[Candidate],
    *,
    supply: int,
    unit: int = 1,
    minimum: int = 0,
    cycle_code: str,
    engine: Engine = "auto",
) -> Result:
    """Share ``supply`` cartons among ``candidates`` by the exact rule of DESIGN §4.

    Lines come back in input order; everything else is independent of the input order. Zero
    eligible candidates is not an error: every line gets 0 and ``unallocated == supply``.
    A ``minimum`` below one ``unit`` guarantees nothing (min(minimum, c) // unit is 0), so its
    pass is skipped.
    Raises ``ValueError`` for negative supply, points, caps or minimum, ``unit < 1``, a star
    outside 0..5, non-integer numbers, and duplicate keys or licences (a repeated licence would
    tie with itself in the lottery, and the order of the input would decide).
    """
    return allocate_columns(
        keys=[c.key for c in candidates],
        points=[c.points for c in candidates],
        caps=[c.cap for c in candidates],
        stars=[c.star for c in candidates],
        licences=[c.licence for c in candidates],
        supply=supply,
        unit=unit,
        minimum=minimum,
        cycle_code=cycle_code,
        engine=engine,
    )


def allocate_columns(
    *,
    keys: Sequence[Hashable],
    points: Sequence[int],
    caps: Sequence[int],
    stars: Sequence[int],
    licences: Sequence[str],
    supply: int,
    unit: int = 1,
    minimum: int = 0,
    cycle_code: str,
    engine: Engine = "auto",
) -> Result:
    """``allocate`` for callers that already hold the columns (e.g. a ``values_list`` query),
    which saves building one ``Candidate`` per retailer. Same rule, same errors, same result."""
    keys, points, caps, stars, licences = (
        list(keys),
        list(points),
        list(caps),
        list(stars),
        list(licences),
    )
    _check_scalars(supply=supply, unit=unit, minimum=minimum, cycle_code=cycle_code, engine=engine)
    _check_columns(keys, points, caps, stars, licences)
    problem = _Problem(
        points=points,
        caps=caps,
        stars=stars,
        lottery=_lottery_keys(cycle_code, licences),
        unit=unit,
        supply_units=supply // unit,
        minimum_units=minimum // unit,
    )
    with _gc_paused():
        outcome = None
        if engine == "numpy" or (engine == "auto" and len(keys) >= NUMPY_MIN_CANDIDATES):
            try:
                outcome = _engine_numpy(problem)
            except _NumpyUnsafe:
                outcome = None
        if outcome is None:
            outcome = _engine_python(problem)
        result = _assemble(
            problem,
            outcome,
            keys=keys,
            licences=licences,
            supply=supply,
            minimum=minimum,
            cycle_code=cycle_code,
        )
        # Free the engine's columns now, so that the first collection after the pause has only
        # the lines to walk.
        del outcome
    return result


# --- validation -----------------------------------------------------------------------------


def _check_scalars(*, supply: int, unit: int, minimum: int, cycle_code: str, engine: str) -> None:
    for name, value in (("supply", supply), ("unit", unit), ("minimum", minimum)):
        if not _is_int(value):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if supply < 0:
        raise ValueError(f"supply must not be negative, got {supply}")
    if unit < 1:
        raise ValueError(f"unit must be at least 1 carton, got {unit}")
    if minimum < 0:
        raise ValueError(f"minimum must not be negative, got {minimum}")
    if not isinstance(cycle_code, str):
        raise ValueError(f"cycle_code must be a string, got {cycle_code!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True points are a bug in the caller, not 1 point.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_columns(
    keys: list[Hashable],
    points: list[int],
    caps: list[int],
    stars: list[int],
    licences: list[str],
) -> None:
    n = len(keys)
    if any(len(column) != n for column in (points, caps, stars, licences)):
        raise ValueError("keys, points, caps, stars and licences must have the same length")
    _check_int_column("points", points, keys, low=0)
    _check_int_column("cap", caps, keys, low=0)
    _check_int_column("star", stars, keys, low=0, high=STAR_MAX)
    if not set(map(type, licences)) <= {str}:
        i = next(i for i, licence in enumerate(licences) if not isinstance(licence, str))
        raise ValueError(f"licence of candidate {keys[i]!r} must be a string")
    _check_unique("key", keys)
    _check_unique("licence", licences)


def _check_int_column(
    name: str, values: list[int], keys: list[Hashable], *, low: int, high: int | None = None
) -> None:
    # Checked per type, not per value: one pass in C over 500,000 values instead of a loop.
    if any(t is bool or not issubclass(t, int) for t in set(map(type, values))):
        i = next(i for i, v in enumerate(values) if not _is_int(v))
        raise ValueError(f"{name} of candidate {keys[i]!r} must be an integer, got {values[i]!r}")
    if values and min(values) < low:
        i = next(i for i, v in enumerate(values) if v < low)
        raise ValueError(f"{name} of candidate {keys[i]!r} must be at least {low}, got {values[i]}")
    if high is not None and values and max(values) > high:
        i = next(i for i, v in enumerate(values) if v > high)
        raise ValueError(f"{name} of candidate {keys[i]!r} must be at most {high}, got {values[i]}")


def _check_unique(name: str, values: list[Hashable]) -> None:
    if len(set(values)) == len(values):
        return
    seen: set[Hashable] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {name} {value!r}")
        seen.add(value)


# --- reference engine -----------------------------------------------------------------------


def _engine_python(problem: _Problem) -> _Outcome:
    """The reference: DESIGN §4 transcribed with Python ints and ``Fraction``."""
    n, unit = len(problem.points), problem.unit
    cap_units = problem.caps if unit == 1 else [c // unit for c in problem.caps]
    eligible = [p > 0 and k > 0 for p, k in zip(problem.points, cap_units, strict=True)]
    index = [i for i in range(n) if eligible[i]]
    p = [problem.points[i] for i in index]
    k = [cap_units[i] for i in index]
    star = [problem.stars[i] for i in index]
    lottery = [problem.lottery[i] for i in index]
    units = problem.supply_units

    first = first_cap_units = None
    main_cap_units = cap_units
    if problem.minimum_units:
        # min(minimum, c) // unit == min(minimum // unit, c // unit): floor division is monotone.
        first_cap_units = [min(problem.minimum_units, kk) for kk in cap_units]
        first_k = [first_cap_units[i] for i in index]
        first = _spread_pass(_pass_python(p, first_k, star, lottery, units), index, n)
        # The main pass shares what is left, each cap lowered by what the retailer got.
        main_cap_units = [kk - got for kk, got in zip(cap_units, first.award, strict=True)]
        k = [main_cap_units[i] for i in index]
        units -= sum(first.award)
    main = _spread_pass(_pass_python(p, k, star, lottery, units), index, n)
    award_units = (
        main.award
        if first is None
        else [a + b for a, b in zip(first.award, main.award, strict=True)]
    )
    return _Outcome(
        eligible=eligible,
        cap_units=cap_units,
        total_points=sum(p),
        first_cap_units=first_cap_units,
        first=first,
        main_cap_units=main_cap_units,
        main=main,
        award_units=award_units,
        awards=award_units if unit == 1 else [a * unit for a in award_units],
    )


def _pass_python(
    p: list[int], k: list[int], star: list[int], lottery: list[str], units: int
) -> _Pass:
    """One pass of DESIGN §4 over eligible candidates only (every p > 0)."""
    m = len(p)
    if sum(k) <= units:
        # Rule 1: every cap is covered. Nobody is water-filled, so there is no level.
        return _Pass(list(k), 1, list(k), [0] * m, [True] * m, list(k), None)

    # Rule 2. Equal ratios need no tie-break: once one of them is capped s/P rises above the
    # ratio, so the others are capped too, whatever their order.
    s, big_p = units, sum(p)
    capped = [False] * m
    for i in sorted(range(m), key=lambda i: Fraction(k[i], p[i])):
        if k[i] * big_p >= s * p[i]:  # not k/p < s/P, cross-multiplied (p, P > 0)
            break
        capped[i] = True
        s -= k[i]
        big_p -= p[i]
    # The loop always stops with P > 0: a capped retailer has k < p·s/P ≤ s, so capping them all
    # would mean Σk < U, which is rule 1.
    quota_num = [k[i] * big_p if capped[i] else p[i] * s for i in range(m)]
    floor = [q // big_p for q in quota_num]

    # Rule 3: fractional parts compared as numerators over the common denominator P. Capped
    # retailers have floor == k, so "below cap" leaves only uncapped ones.
    left = units - sum(floor)
    below_cap = [i for i in range(m) if floor[i] < k[i]]
    below_cap.sort(key=lambda i: (-(quota_num[i] % big_p), -p[i], -star[i], lottery[i]))
    rank = [0] * m
    for r, i in enumerate(below_cap[:left], start=1):
        rank[i] = r
    award = [f + (r > 0) for f, r in zip(floor, rank, strict=True)]
    return _Pass(quota_num, big_p, floor, rank, capped, award, Fraction(s, big_p))


def _spread_pass(sub: _Pass, index: list[int], n: int) -> _Pass:
    """A pass over the eligible candidates, spread back to all ``n`` lines (zeros elsewhere)."""

    def spread(values: list[Any], fill: object) -> list[Any]:
        full = [fill] * n
        for i, value in zip(index, values, strict=True):
            full[i] = value
        return full

    return _Pass(
        quota_num=spread(sub.quota_num, 0),
        den=sub.den,
        floor=spread(sub.floor, 0),
        rank=spread(sub.rank, 0),
        capped=spread(sub.capped, False),
        award=spread(sub.award, 0),
        units_per_point=sub.units_per_point,
    )


# --- NumPy engine ---------------------------------------------------------------------------

_I64 = npt.NDArray[np.int64]
_Index = npt.NDArray[np.intp]


@dataclass(slots=True)
class _NpPass:
    quota_num: _I64
    den: int
    floor: _I64
    rank: _I64
    capped: npt.NDArray[np.bool_]
    award: _I64
    units_per_point: Fraction | None


def _engine_numpy(problem: _Problem) -> _Outcome:
    """The passes of ``_engine_python`` on int64 arrays. Raises ``_NumpyUnsafe`` rather than
    give an answer it cannot vouch for."""
    points, caps, unit, units = problem.points, problem.caps, problem.unit, problem.supply_units
    n = len(points)
    # Overflow guards, in exact ints, bounding every int64 value formed later: sums and prefix
    # sums by Σp and Σk; k·P and capped quota numerators k·P' by max k·Σp; s·p and quota
    # numerators p·s by max p·U (s never exceeds U; the minimum pass only lowers k and U).
    sum_p, max_p = sum(points), max(points, default=0)
    max_k = max(caps, default=0) // unit
    if max(sum_p, sum(caps) // unit, max(caps, default=0), max_k * sum_p, max_p * units) >= (
        _INT64_LIMIT
    ):
        raise _NumpyUnsafe("int64 could overflow")

    p = np.fromiter(points, dtype=np.int64, count=n)
    all_k = np.fromiter(caps, dtype=np.int64, count=n)
    if unit != 1:
        all_k //= unit
    star = np.fromiter(problem.stars, dtype=np.int64, count=n)
    # The lottery keys as four big-endian 64-bit words each: comparing the words in order is
    # comparing the hex strings.
    words = (
        np.frombuffer(bytes.fromhex("".join(problem.lottery)), dtype=">u8")
        .reshape(n, 4)
        .astype(np.uint64)
    )
    elig = (p > 0) & (all_k > 0)
    index: _Index | None = None
    k = all_k
    if not elig.all():
        index = np.flatnonzero(elig)
        p, k, star, words = p[index], all_k[index], star[index], words[index]

    cap_units = caps if unit == 1 else all_k.tolist()
    first_cap_units, first_pass, main_cap_units = None, None, cap_units
    award_units = np.zeros(n, dtype=np.int64)
    if problem.minimum_units:
        # min(minimum, c) // unit == min(minimum // unit, c // unit): floor division is monotone.
        all_first_k = np.minimum(all_k, min(problem.minimum_units, max_k))
        first = _pass_numpy(
            p, all_first_k if index is None else all_first_k[index], star, words, units
        )
        k = k - first.award
        units -= int(first.award.sum())
        award_units = _spread(first.award, index, n)
        first_cap_units = all_first_k.tolist()
        first_pass = _spread_np_pass(first, index, n)
        main_cap_units = (all_k - award_units).tolist()
    main = _pass_numpy(p, k, star, words, units)
    award_units = award_units + _spread(main.award, index, n)
    award_list = award_units.tolist()
    return _Outcome(
        eligible=elig.tolist(),
        cap_units=cap_units,
        total_points=int(p.sum()),
        first_cap_units=first_cap_units,
        first=first_pass,
        main_cap_units=main_cap_units,
        main=_spread_np_pass(main, index, n),
        award_units=award_list,
        awards=award_list if unit == 1 else (award_units * unit).tolist(),
    )


def _approx_ratio_order(k: _I64, p: _I64) -> _Index:
    """Candidates in ascending k/p, as far as floats can tell. Nearly equal ratios may come out
    misordered, and equal ones in any order; ``_pass_numpy`` checks its outcome exactly, so
    this is only a first guess (and need not be a stable sort)."""
    return np.argsort(k / p)


def _pass_numpy(p: _I64, k: _I64, star: _I64, words: npt.NDArray[np.uint64], units: int) -> _NpPass:
    m = len(p)
    if int(k.sum()) <= units:  # rule 1
        return _NpPass(k, 1, k, np.zeros(m, dtype=np.int64), np.ones(m, dtype=np.bool_), k, None)

    # Rule 2 without the loop: in k/p order the capped retailers are a prefix, and the loop
    # stops at the first j with k_j·(P − P_<j) ≥ (U − K_<j)·p_j, the sums running over the
    # retailers before j (all capped by then).
    big_p = int(p.sum())
    order = _approx_ratio_order(k, p)
    k_sorted, p_sorted = k[order], p[order]
    k_before = np.cumsum(k_sorted) - k_sorted
    p_before = np.cumsum(p_sorted) - p_sorted
    goes_on = k_sorted * (big_p - p_before) < (units - k_before) * p_sorted
    stop = int(np.argmin(goes_on))
    if goes_on[stop]:  # everyone capped: impossible under rule 2, so the order was wrong
        raise _NumpyUnsafe("water-fill ran past the end")
    s, den = units - int(k_before[stop]), big_p - int(p_before[stop])
    capped = np.zeros(m, dtype=np.bool_)
    capped[order[:stop]] = True
    # The capped set is the one fixed point of "capped ⟺ k/p < s/P, with s and P taken over
    # the uncapped" (two fixed points would be nested, and the larger would have the lower
    # level, a contradiction). Checking it exactly makes the float order harmless.
    if not ((k[capped] * den < s * p[capped]).all() and (k[~capped] * den >= s * p[~capped]).all()):
        raise _NumpyUnsafe("the float order misplaced the water level")

    quota_num = np.where(capped, k * den, p * s)
    floor = quota_num // den
    left = units - int(floor.sum())
    rank = np.zeros(m, dtype=np.int64)
    if left:
        below_cap = np.flatnonzero(floor < k)
        order = _remainder_order(
            p=p[below_cap],
            star=star[below_cap],
            words=words[below_cap],
            s=s,
            den=den,
            left=left,
        )
        rank[below_cap[order[:left]]] = np.arange(1, left + 1)
    award = floor + (rank > 0)
    return _NpPass(quota_num, den, floor, rank, capped, award, Fraction(s, den))


def _remainder_order(
    *, p: _I64, star: _I64, words: npt.NDArray[np.uint64], s: int, den: int, left: int
) -> _Index:
    """Rule 3 order of the contenders (all uncapped, quota p·s/den): larger fraction, more
    points, higher star, lower lottery key. Exact over the first ``left + 1`` places; past them
    nobody gets a unit, so the order there does not matter."""
    # An uncapped fraction (p·s mod den)/den depends on p alone, so rank the distinct p values
    # (a few thousand) by (fraction, p) and pack group rank, star and the top of the lottery key
    # into one uint64: one plain sort instead of a lexsort over 500,000 rows.
    distinct_p, group = np.unique(p, return_inverse=True)
    group_order = np.lexsort((-distinct_p, -((distinct_p * s) % den)))
    group_rank = np.empty(len(distinct_p), dtype=np.uint64)
    group_rank[group_order] = np.arange(len(distinct_p), dtype=np.uint64)
    rank_bits = max(len(distinct_p) - 1, 1).bit_length()
    lottery_bits = min(64 - rank_bits - 3, _LOTTERY_PREFIX_BITS)
    packed = (
        (group_rank[group] << np.uint64(lottery_bits + 3))
        | ((STAR_MAX - star).astype(np.uint64) << np.uint64(lottery_bits))
        | (words[:, 0] >> np.uint64(64 - lottery_bits))
    )
    order = np.argsort(packed)
    head = packed[order[: left + 1]]
    if (head[1:] == head[:-1]).any():
        # Two contenders alike up to the lottery bits that fit: sort by the whole key.
        order = np.lexsort(
            (words[:, 3], words[:, 2], words[:, 1], words[:, 0], -star, group_rank[group])
        )
    return order


def _spread(values: npt.NDArray[Any], index: _Index | None, n: int) -> npt.NDArray[Any]:
    """Values over the eligible candidates, spread back to all ``n`` lines (zeros elsewhere)."""
    if index is None:
        return values
    full = np.zeros(n, dtype=values.dtype)
    full[index] = values
    return full


def _spread_np_pass(sub: _NpPass, index: _Index | None, n: int) -> _Pass:
    return _Pass(
        quota_num=_spread(sub.quota_num, index, n).tolist(),
        den=sub.den,
        floor=_spread(sub.floor, index, n).tolist(),
        rank=_spread(sub.rank, index, n).tolist(),
        capped=_spread(sub.capped, index, n).tolist(),
        award=_spread(sub.award, index, n).tolist(),
        units_per_point=sub.units_per_point,
    )


# --- result ---------------------------------------------------------------------------------

# Builds a Line from a ready tuple in C, skipping NamedTuple's Python-level __new__.
_line_from_tuple = partial(tuple.__new__, Line)


def _assemble(
    problem: _Problem,
    outcome: _Outcome,
    *,
    keys: list[Hashable],
    licences: list[str],
    supply: int,
    minimum: int,
    cycle_code: str,
) -> Result:
    """Turn an engine's columns into Lines and totals. Shared, so that the engines cannot differ
    in how they present the same numbers."""
    n, first, main = len(keys), outcome.first, outcome.main
    if first is None or outcome.first_cap_units is None:
        minimum_pass_units = 0
        minimum_columns: tuple[Iterable[Any], ...] = (
            repeat(0, n),  # minimum_cap_units
            repeat(0, n),  # minimum_quota_num
            repeat(1, n),  # minimum_quota_den
            repeat(None, n),  # minimum_remainder_rank
            repeat(0, n),  # minimum_units
        )
    else:
        minimum_pass_units = sum(first.award)
        minimum_columns = (
            outcome.first_cap_units,
            first.quota_num,
            repeat(first.den, n),
            _ranks(first.rank),
            first.award,
        )
    columns = (
        keys,
        problem.points,
        problem.caps,
        problem.stars,
        licences,
        outcome.eligible,
        outcome.cap_units,
        *minimum_columns,
        outcome.main_cap_units,
        repeat(outcome.total_points or 1, n),  # share_den
        main.quota_num,
        repeat(main.den, n),
        main.floor,
        _ranks(main.rank),
        main.capped,
        outcome.award_units,
        outcome.awards,
        problem.lottery,
    )
    allocated = sum(outcome.awards)
    return Result(
        lines=tuple(map(_line_from_tuple, zip(*columns, strict=True))),
        supply=supply,
        unit=problem.unit,
        minimum=minimum,
        cycle_code=cycle_code,
        supply_units=problem.supply_units,
        allocated=allocated,
        unallocated=supply - allocated,
        total_points=outcome.total_points,
        minimum_pass_units=minimum_pass_units,
        main_supply_units=problem.supply_units - minimum_pass_units,
        units_per_point=main.units_per_point,
        minimum_units_per_point=None if first is None else first.units_per_point,
    )


def _ranks(ranks: list[int]) -> list[int | None]:
    return [r or None for r in ranks]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a run builds its lines.

    Otherwise building 500,000 tuples sets off collection after collection, each walking every
    container alive, input columns included: a whole 500,000-line run measured 2.3-2.6 s of CPU
    with the collector running, 1.1 s with it paused. Reference counting still frees everything
    meanwhile; only the search for cycles waits until the run is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


__all__ = [
    "ENGINES",
    "NUMPY_MIN_CANDIDATES",
    "Candidate",
    "Engine",
    "Line",
    "Result",
    "allocate",
    "allocate_columns",
    "lottery_key",
]
