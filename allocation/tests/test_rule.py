"""The allocation rule of DESIGN §4: worked examples, properties, errors, and engine agreement."""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation import rule
from allocation.rule import Candidate, Line, Result, allocate, allocate_columns, lottery_key

ENGINES = ("python", "numpy")


def candidate(key: str, points: int, cap: int, star: int = 3, licence: str | None = None):
    return Candidate(key=key, points=points, cap=cap, star=star, licence=licence or f"L-{key}")


def design_example() -> list[Candidate]:
    """DESIGN §4's worked example: caps 4, points A 50, B 30, C 15, D 5."""
    return [
        candidate(key, points, 4) for key, points in (("A", 50), ("B", 30), ("C", 15), ("D", 5))
    ]


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def by_key(result: Result) -> dict[Any, Line]:
    return {line.key: line for line in result.lines}


def awards(result: Result) -> dict[Any, int]:
    return {line.key: line.award for line in result.lines}


# --- worked and hand-computed examples ------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_design_worked_example(engine):
    # S = 10, unit 1. A is capped (4/50 < 10/100): s = 6, P = 50.
    cands = design_example()

    result = allocate(cands, supply=10, cycle_code="2024W07", engine=engine)

    assert [line.key for line in result.lines] == ["A", "B", "C", "D"]
    assert [line.award for line in result.lines] == [4, 4, 2, 0]
    assert [line.capped for line in result.lines] == [True, False, False, False]
    assert [line.quota for line in result.lines] == [
        4,
        Fraction("3.6"),
        Fraction("1.8"),
        Fraction("0.6"),
    ]
    assert [line.floor_units for line in result.lines] == [4, 3, 1, 0]
    # C (.8) first, then B (.6, tied with D at .6 but with more points).
    assert [line.remainder_rank for line in result.lines] == [None, 2, 1, None]
    assert [line.share for line in result.lines] == [
        Fraction(50, 100),
        Fraction(30, 100),
        Fraction(15, 100),
        Fraction(5, 100),
    ]
    assert result.units_per_point == Fraction(6, 50)  # s = 6, P = 50 after capping A
    assert (result.supply_units, result.allocated, result.unallocated) == (10, 10, 0)
    assert result.total_points == 100


@pytest.mark.parametrize("engine", ENGINES)
def test_supply_covering_every_cap_gives_each_its_cap_and_reports_the_rest(engine):
    cands = [candidate("A", 10, 3), candidate("B", 1, 5), candidate("C", 0, 5)]

    result = allocate(cands, supply=20, cycle_code="C", engine=engine)

    assert awards(result) == {"A": 3, "B": 5, "C": 0}
    assert (result.allocated, result.unallocated) == (8, 12)
    assert result.units_per_point is None  # rule 1: no water-fill
    a, b, c = result.lines
    assert (a.capped, a.quota, a.remainder_rank) == (True, 3, None)
    assert (b.capped, b.quota) == (True, 5)
    assert (c.eligible, c.capped, c.quota, c.share) == (False, False, 0, 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_whole_cases_when_supply_is_not_a_multiple_of_the_unit(engine):
    # unit 50, supply 230: U = 4 and 30 cartons can never be handed out.
    # k: A 120 // 50 = 2, B 100 // 50 = 2, C 49 // 50 = 0 (ineligible), D 200 // 50 = 4.
    # Eligible P = 60, s/P = 4/60; B's 2/30 is not below it, so nobody is capped.
    # Quotas A 2/3, B 2, D 4/3; floors 0, 2, 1; one unit left, and B is at its cap: A (.67) > D.
    cands = [
        candidate("A", 10, 120),
        candidate("B", 30, 100),
        candidate("C", 30, 49),
        candidate("D", 20, 200),
    ]

    result = allocate(cands, supply=230, unit=50, cycle_code="C", engine=engine)

    assert awards(result) == {"A": 50, "B": 100, "C": 0, "D": 50}
    lines = by_key(result)
    assert [lines[k].quota for k in "ABD"] == [Fraction(2, 3), 2, Fraction(4, 3)]
    assert [lines[k].award_units for k in "ABD"] == [1, 2, 1]
    assert [lines[k].remainder_rank for k in "ABD"] == [1, None, None]
    assert (lines["C"].eligible, lines["C"].cap_units) == (False, 0)
    assert (result.supply_units, result.allocated, result.unallocated) == (4, 200, 30)


@pytest.mark.parametrize("engine", ENGINES)
def test_tie_on_fraction_goes_to_more_points(engine):
    # s/P = 2/4: quotas A 1.5 and B 0.5, the same fraction; one unit left.
    result = allocate(
        [candidate("A", 3, 10, star=1), candidate("B", 1, 10, star=5)],
        supply=2,
        cycle_code="C",
        engine=engine,
    )

    assert awards(result) == {"A": 2, "B": 0}
    assert by_key(result)["A"].remainder_rank == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_tie_on_fraction_and_points_goes_to_higher_star(engine):
    result = allocate(
        [candidate("A", 1, 5, star=2), candidate("B", 1, 5, star=4)],
        supply=1,
        cycle_code="C",
        engine=engine,
    )

    assert awards(result) == {"A": 0, "B": 1}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("cycle_code", "winner"),
    [("2024W07", "320102100002"), ("2024W10", "320102100001")],
)
def test_full_tie_goes_to_lower_lottery_key_which_changes_with_the_cycle(
    engine, cycle_code, winner
):
    licences = ["320102100001", "320102100002"]
    # The rule, recomputed independently: lower hex SHA-256 of "<cycle>:<licence>" wins.
    assert min(licences, key=lambda lic: sha256_hex(f"{cycle_code}:{lic}")) == winner
    cands = [candidate(lic, 7, 5, star=3, licence=lic) for lic in licences]

    result = allocate(cands, supply=1, cycle_code=cycle_code, engine=engine)

    assert awards(result) == {lic: int(lic == winner) for lic in licences}
    assert [line.lottery for line in result.lines] == [
        sha256_hex(f"{cycle_code}:{lic}") for lic in licences
    ]


def test_lottery_key_is_hex_sha256_of_cycle_and_licence():
    assert lottery_key("2024W07", "320102100001") == sha256_hex("2024W07:320102100001")
    assert lottery_key("第7周", "烟草专卖") == hashlib.sha256("第7周:烟草专卖".encode()).hexdigest()


@pytest.mark.parametrize("engine", ENGINES)
def test_guaranteed_minimum_gives_small_retailers_their_carton(engine):
    # Without a minimum: P = 102, s/P = 6/102; quotas Big 5.88, S1 and S2 0.06: Big gets all 6.
    cands = [candidate("Big", 100, 10), candidate("S1", 1, 3), candidate("S2", 1, 3)]
    assert awards(allocate(cands, supply=6, cycle_code="C", engine=engine)) == {
        "Big": 6,
        "S1": 0,
        "S2": 0,
    }

    # 小户有量, minimum 1: pass 1 (caps 1, Σ 3 ≤ 6) gives everyone 1; pass 2 shares 3 units
    # with caps 9, 2, 2: quotas 300/102, 3/102, 3/102, floors 2, 0, 0, the last unit to Big.
    result = allocate(cands, supply=6, minimum=1, cycle_code="C", engine=engine)

    assert awards(result) == {"Big": 4, "S1": 1, "S2": 1}
    big, s1, _ = result.lines
    assert (big.minimum_cap_units, big.minimum_units, big.main_cap_units) == (1, 1, 9)
    assert (big.quota, big.floor_units, big.remainder_rank) == (Fraction(300, 102), 2, 1)
    assert (s1.minimum_units, s1.main_cap_units, s1.quota) == (1, 2, Fraction(3, 102))
    assert s1.minimum_quota == 1
    assert (result.minimum_pass_units, result.main_supply_units) == (3, 3)
    assert result.minimum_units_per_point is None  # the minimum pass fell under rule 1


@pytest.mark.parametrize("engine", ENGINES)
def test_scarce_minimum_is_itself_shared_by_the_rule(engine):
    # Supply 2 for three minimums of 1. Pass 1: Big's 1/100 < 2/102, so Big is capped at 1;
    # s = 1, P = 2: S1 and S2 quota 1/2 each, same points, S1 has the higher star.
    cands = [
        candidate("Big", 100, 10, star=3),
        candidate("S1", 1, 3, star=4),
        candidate("S2", 1, 3, star=2),
    ]

    result = allocate(cands, supply=2, minimum=1, cycle_code="C", engine=engine)

    assert awards(result) == {"Big": 1, "S1": 1, "S2": 0}
    assert [line.minimum_quota for line in result.lines] == [1, Fraction(1, 2), Fraction(1, 2)]
    assert [line.minimum_remainder_rank for line in result.lines] == [None, 1, None]
    assert result.minimum_units_per_point == Fraction(1, 2)
    assert (result.minimum_pass_units, result.main_supply_units) == (2, 0)
    assert [line.quota for line in result.lines] == [0, 0, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_minimum_below_one_unit_guarantees_nothing(engine):
    cands = [candidate("A", 9, 100), candidate("B", 1, 100)]

    with_minimum = allocate(cands, supply=100, unit=50, minimum=10, cycle_code="C", engine=engine)
    without = allocate(cands, supply=100, unit=50, cycle_code="C", engine=engine)

    assert awards(with_minimum) == awards(without) == {"A": 100, "B": 0}


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_supply_gives_nothing(engine):
    result = allocate(
        [candidate("A", 5, 4), candidate("B", 1, 4)], supply=0, cycle_code="C", engine=engine
    )

    assert awards(result) == {"A": 0, "B": 0}
    assert [line.quota for line in result.lines] == [0, 0]
    assert (result.allocated, result.unallocated, result.units_per_point) == (0, 0, 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_nobody_eligible_is_not_an_error(engine):
    cands = [candidate("no-points", 0, 10), candidate("cap-below-unit", 8, 4)]

    result = allocate(cands, supply=12, unit=5, cycle_code="C", engine=engine)

    assert awards(result) == {"no-points": 0, "cap-below-unit": 0}
    assert [line.eligible for line in result.lines] == [False, False]
    assert [line.share for line in result.lines] == [0, 0]
    assert (result.allocated, result.unallocated, result.total_points) == (0, 12, 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_candidates_at_all(engine):
    result = allocate([], supply=12, cycle_code="C", engine=engine)

    assert (result.lines, result.allocated, result.unallocated) == ((), 0, 12)


@pytest.mark.parametrize("engine", ENGINES)
def test_ineligible_rows_get_nothing_and_do_not_count(engine):
    cands = [
        candidate("A", 10, 10),
        candidate("zero-points", 0, 10),
        candidate("cap-below-unit", 1000, 1),
        candidate("B", 10, 10),
    ]

    result = allocate(cands, supply=4, unit=2, cycle_code="C", engine=engine)

    assert awards(result) == {"A": 2, "zero-points": 0, "cap-below-unit": 0, "B": 2}
    assert result.total_points == 20
    lines = by_key(result)
    assert lines["cap-below-unit"].cap_units == 0
    assert lines["A"].share == Fraction(1, 2)


# --- properties (DESIGN §4) -----------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn, max_size: int = 24, max_points: int = 12) -> dict[str, Any]:
    """Small inputs dense in ties: few distinct points, caps, stars."""
    n = draw(st.integers(0, max_size))
    licences = draw(
        st.lists(
            st.text("0123456789AB", min_size=1, max_size=6), min_size=n, max_size=n, unique=True
        )
    )
    unit = draw(st.sampled_from((1, 1, 1, 2, 3, 5)))
    cands = [
        Candidate(
            key=f"r{i}",
            points=draw(st.integers(0, max_points) | st.just(0)),
            cap=draw(st.integers(0, 12 * unit)),
            star=draw(st.integers(0, 5)),
            licence=licences[i],
        )
        for i in range(n)
    ]
    total_caps = sum(c.cap for c in cands)
    return {
        "candidates": cands,
        "supply": draw(st.integers(0, total_caps + 3 * unit)),
        "unit": unit,
        "minimum": draw(st.sampled_from((0, 0, 0)) | st.integers(0, 6 * unit)),
        "cycle_code": draw(st.text(max_size=4)),
    }


def eligible_units(p: dict[str, Any]) -> int:
    return sum(c.cap // p["unit"] for c in p["candidates"] if c.points > 0 and c.cap >= p["unit"])


def remainder_key(line: Line) -> tuple[Fraction, int, int, str]:
    """Rule 3's order, from the explained numbers alone, as a sort key (best first)."""
    return (-(line.quota - line.floor_units), -line.points, -line.star, line.lottery)


def check_rule(p: dict[str, Any], result: Result) -> None:
    """Every DESIGN §4 property that must hold for any input, and the explanation's own
    consistency. Holds with a minimum too, except where said."""
    cands: Sequence[Candidate] = p["candidates"]
    unit, supply, minimum = p["unit"], p["supply"], p["minimum"]
    lines = result.lines
    assert [line.key for line in lines] == [c.key for c in cands]
    assert [(ln.points, ln.cap, ln.star, ln.licence) for ln in lines] == [
        (c.points, c.cap, c.star, c.licence) for c in cands
    ]
    units = supply // unit
    assert result.supply_units == units

    # Σaward = min(U, Σk)·unit (with a minimum too: pass 1 gives min(U, Σk1), pass 2 the rest).
    assert sum(ln.award for ln in lines) == result.allocated == min(units, eligible_units(p)) * unit
    assert result.unallocated == supply - result.allocated
    assert result.total_points == sum(ln.points for ln in lines if ln.eligible)

    for line in lines:
        assert line.eligible == (line.points > 0 and line.cap >= unit)
        assert line.lottery == sha256_hex(f"{p['cycle_code']}:{line.licence}")
        assert line.award == line.award_units * unit
        assert 0 <= line.award <= line.cap  # award ≤ cap
        assert line.cap_units == line.cap // unit
        if not line.eligible:
            assert line.award == 0
            assert line.share == 0
            continue
        assert line.share == Fraction(line.points, result.total_points)
        # ⌊quota⌋ ≤ award/unit ≤ ⌈quota⌉, pass by pass. (Summed over both passes this can
        # fail: quotas 0.5 + 0.5 may round to 0 + 0.)
        main_units = line.award_units - line.minimum_units
        assert line.floor_units == math.floor(line.quota)
        assert math.floor(line.quota) <= main_units <= math.ceil(line.quota)
        assert main_units == line.floor_units + (line.remainder_rank is not None)
        assert main_units <= line.main_cap_units
        assert line.main_cap_units == line.cap_units - line.minimum_units
        if minimum:
            assert line.minimum_cap_units == min(minimum, line.cap) // unit
            mq = line.minimum_quota
            assert math.floor(mq) <= line.minimum_units <= math.ceil(mq)
            assert line.minimum_units <= line.minimum_cap_units
        else:
            assert (line.minimum_units, line.minimum_quota, line.minimum_remainder_rank) == (
                0,
                0,
                None,
            )

    eligible = [ln for ln in lines if ln.eligible]
    # The water-fill, checked against its closed form: quota = min(k, p·level) with Σ = s.
    level = result.units_per_point
    if level is None:
        assert sum(ln.main_cap_units for ln in eligible) <= result.main_supply_units
        assert all(ln.capped and ln.quota == ln.main_cap_units for ln in eligible)
    else:
        assert sum(ln.quota for ln in eligible) == result.main_supply_units
        for line in eligible:
            assert line.capped == (line.main_cap_units < line.points * level)  # k/p < s/P
            assert line.quota == min(line.main_cap_units, line.points * level)

    # Rule 3: the first `left` contenders in (fraction, points, star, lottery) order get
    # ranks 1..left, in that order.
    left = result.main_supply_units - sum(ln.floor_units for ln in eligible) if level else 0
    contenders = sorted(
        (ln for ln in eligible if ln.floor_units < ln.main_cap_units), key=remainder_key
    )
    assert [ln.remainder_rank for ln in contenders] == [
        r + 1 if r < left else None for r in range(len(contenders))
    ]
    assert all(ln.remainder_rank is None for ln in eligible if ln not in contenders)

    # More points with the same cap never gets less (with a minimum too).
    for a in eligible:
        for b in eligible:
            if a.cap == b.cap and a.points > b.points:
                assert a.award >= b.award, (a, b)


def run(p: dict[str, Any], *, engine: str = "auto", candidates=None) -> Result:
    return allocate(
        p["candidates"] if candidates is None else candidates,
        supply=p["supply"],
        unit=p["unit"],
        minimum=p["minimum"],
        cycle_code=p["cycle_code"],
        engine=engine,
    )


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def refuse(*args, **kwargs):
    raise AssertionError("this engine must not run here")


@contextmanager
def without_python_fallback() -> Iterator[None]:
    """Make the NumPy engine's fallback fail loudly: on these small numbers floats order every
    k/p exactly and no int64 can overflow, so a fallback would hide a bug in the fast path."""
    saved = rule._engine_python
    rule._engine_python = refuse
    try:
        yield
    finally:
        rule._engine_python = saved


def numpy_run(p: dict[str, Any]) -> Result:
    with without_python_fallback():
        return run(p, engine="numpy")


@PROPERTY_SETTINGS
@given(problems())
def test_rule_properties_hold_and_engines_agree(p):
    reference = run(p, engine="python")
    check_rule(p, reference)
    assert numpy_run(p) == reference
    assert run(p, engine="python") == reference  # deterministic


@PROPERTY_SETTINGS
@given(problems(max_size=12, max_points=10**6))
def test_rule_properties_hold_for_large_points(p):
    reference = run(p, engine="python")
    check_rule(p, reference)
    assert numpy_run(p) == reference


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_input_order_does_not_matter(data):
    p = data.draw(problems())
    shuffled = data.draw(st.permutations(p["candidates"]))
    for engine in ENGINES:
        with without_python_fallback() if engine == "numpy" else nullcontext():
            assert by_key(run(p, engine=engine, candidates=shuffled)) == by_key(
                run(p, engine=engine)
            )


@contextmanager
def lottery_prefix_bits(bits: int) -> Iterator[None]:
    saved = rule._LOTTERY_PREFIX_BITS
    rule._LOTTERY_PREFIX_BITS = bits
    try:
        yield
    finally:
        rule._LOTTERY_PREFIX_BITS = saved


@settings(max_examples=100, deadline=None)
@given(problems())
def test_numpy_engine_agrees_when_ties_need_the_whole_lottery_key(p):
    # With one bit of lottery prefix nearly every tie falls through to the 256-bit sort.
    reference = run(p, engine="python")
    with lottery_prefix_bits(1):
        assert numpy_run(p) == reference


def random_problem(n: int, seed: int, *, unit: int = 1, minimum: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    cands = [
        Candidate(
            key=i,
            points=rng.choice((0, rng.randint(1, 300))),
            cap=rng.randint(0, 40 * unit),
            star=rng.randint(0, 5),
            licence=f"3201{i:08d}",
        )
        for i in range(n)
    ]
    return {
        "candidates": cands,
        "supply": sum(c.cap for c in cands) * 3 // 10 + rng.randint(0, unit),
        "unit": unit,
        "minimum": minimum,
        "cycle_code": f"2024W{seed:02d}",
    }


@pytest.mark.parametrize(
    ("unit", "minimum"), [(1, 0), (1, 5), (50, 50), (3, 40)], ids=["plain", "min", "cases", "odd"]
)
def test_engines_agree_on_a_few_thousand_retailers(unit, minimum):
    p = random_problem(3000, seed=unit + minimum, unit=unit, minimum=minimum)

    reference = run(p, engine="python")

    check_rule(p, reference)
    assert numpy_run(p) == reference
    with lottery_prefix_bits(4):
        assert numpy_run(p) == reference


# --- engine selection and the NumPy engine's guards -----------------------------------------


class Spy:
    def __init__(self, target):
        self.target, self.calls = target, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.target(*args, **kwargs)


def test_auto_uses_numpy_from_the_threshold_and_python_below(monkeypatch):
    numpy_spy = Spy(rule._engine_numpy)
    monkeypatch.setattr(rule, "_engine_numpy", numpy_spy)
    small = random_problem(rule.NUMPY_MIN_CANDIDATES - 1, seed=2)
    large = random_problem(rule.NUMPY_MIN_CANDIDATES, seed=2)

    run(small)
    assert numpy_spy.calls == 0
    run(large)
    assert numpy_spy.calls == 1


@pytest.mark.parametrize(
    "huge",
    [
        {"points": 2**62},  # Σp itself
        {"points": 2**40, "cap": 2**30},  # k·P
        {"cap": 2**70},  # a cap beyond int64
    ],
)
def test_numpy_engine_falls_back_when_int64_could_overflow(monkeypatch, huge):
    p = random_problem(150, seed=3)
    first = p["candidates"][0]
    p["candidates"][0] = Candidate(
        key=first.key,
        points=huge.get("points", 5),
        cap=huge.get("cap", 10),
        star=first.star,
        licence=first.licence,
    )
    reference = run(p, engine="python")
    python_spy = Spy(rule._engine_python)
    monkeypatch.setattr(rule, "_engine_python", python_spy)

    assert run(p, engine="numpy") == reference
    assert python_spy.calls == 1
    check_rule(p, reference)


def test_numpy_engine_falls_back_when_the_float_order_is_wrong(monkeypatch):
    # The float sort is only a guess; a wrong guess must be caught, not trusted. Reversed, the
    # worked example would stop the water-fill at once and leave A uncapped.
    cands = design_example()
    reference = allocate(cands, supply=10, cycle_code="C", engine="python")
    python_spy = Spy(rule._engine_python)
    monkeypatch.setattr(rule, "_engine_python", python_spy)
    monkeypatch.setattr(rule, "_approx_ratio_order", lambda k, p: np.argsort(k / p)[::-1])

    assert allocate(cands, supply=10, cycle_code="C", engine="numpy") == reference
    assert python_spy.calls == 1


def test_numpy_engine_tolerates_a_wrong_order_among_equal_ratios(monkeypatch):
    # Equal ratios are capped together, so their order is free: no fallback needed.
    # k/p = 2/10 = 4/20 = 1/5 < s/P = 9/36, so all three are capped; D gets the 2 units left.
    cands = [
        candidate("A", 10, 2),
        candidate("B", 20, 4),
        candidate("C", 5, 1),
        candidate("D", 1, 5),
    ]
    reference = allocate(cands, supply=9, cycle_code="C", engine="python")
    assert [line.capped for line in reference.lines] == [True, True, True, False]
    assert awards(reference) == {"A": 2, "B": 4, "C": 1, "D": 2}
    monkeypatch.setattr(rule, "_engine_python", refuse)

    for permutation in itertools.permutations(range(3)):

        def tied_in_this_order(k, p, permutation=permutation):
            return np.array([*permutation, 3])

        monkeypatch.setattr(rule, "_approx_ratio_order", tied_in_this_order)
        assert allocate(cands, supply=9, cycle_code="C", engine="numpy") == reference


# --- API ------------------------------------------------------------------------------------


def test_allocate_columns_is_allocate_without_candidates():
    p = random_problem(200, seed=4, unit=2, minimum=4)
    cands = p["candidates"]

    by_columns = allocate_columns(
        keys=[c.key for c in cands],
        points=tuple(c.points for c in cands),
        caps=[c.cap for c in cands],
        stars=[c.star for c in cands],
        licences=[c.licence for c in cands],
        supply=p["supply"],
        unit=2,
        minimum=4,
        cycle_code=p["cycle_code"],
    )

    assert by_columns == run(p)


def test_line_reads_as_fractions_and_is_immutable():
    result = allocate(
        [candidate("A", 2, 9), candidate("B", 1, 9)], supply=5, minimum=1, cycle_code="C"
    )
    a = result.lines[0]

    # Pass 1 gives 1 each; pass 2 shares 3 units 2:1.
    assert (a.minimum_quota, a.quota, a.total_quota, a.share) == (1, 2, 3, Fraction(2, 3))
    assert (a.quota_num, a.quota_den) == (2 * 3, 3)
    with pytest.raises(AttributeError):
        a.award = 99


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"supply": -1}, "supply must not be negative"),
        ({"unit": 0}, "unit must be at least 1"),
        ({"minimum": -1}, "minimum must not be negative"),
        ({"supply": 2.5}, "supply must be an integer"),
        ({"unit": True}, "unit must be an integer"),
        ({"engine": "fortran"}, "engine must be one of auto, python, numpy"),
        ({"cycle_code": None}, "cycle_code must be a string"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    settings_ = {"supply": 10, "unit": 1, "minimum": 0, "cycle_code": "C", **kwargs}

    with pytest.raises(ValueError, match=message):
        allocate([candidate("A", 1, 5)], **settings_)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (candidate("X", -1, 5), "points of candidate 'X' must be at least 0, got -1"),
        (candidate("X", 1, -5), "cap of candidate 'X' must be at least 0, got -5"),
        (candidate("X", 1, 5, star=6), "star of candidate 'X' must be at most 5, got 6"),
        (candidate("X", 1, 5, star=-1), "star of candidate 'X' must be at least 0, got -1"),
        (candidate("X", 1.5, 5), r"points of candidate 'X' must be an integer, got 1\.5"),
        (candidate("X", True, 5), "points of candidate 'X' must be an integer, got True"),
        (candidate("X", 1, "5"), "cap of candidate 'X' must be an integer, got '5'"),
        (candidate("A", 1, 5, licence="L-other"), "duplicate key 'A'"),
        (candidate("X", 1, 5, licence="L-A"), "duplicate licence 'L-A'"),
        (Candidate("X", 1, 5, 3, 12345), "licence of candidate 'X' must be a string"),
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_bad_candidates_are_refused(bad, message, engine):
    with pytest.raises(ValueError, match=message):
        allocate([candidate("A", 1, 5), bad], supply=10, cycle_code="C", engine=engine)


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="must have the same length"):
        allocate_columns(
            keys=["A", "B"],
            points=[1, 2],
            caps=[3],
            stars=[0, 0],
            licences=["a", "b"],
            supply=1,
            cycle_code="C",
        )
