"""How a line of a run came about, in words (DESIGN §2.5: retailers can see why they got what
they got). Shared by the review page, the exports and the retailer statement."""

from __future__ import annotations

from fractions import Fraction

from django.utils.translation import gettext as _

from allocation.models import AllocationLine, AllocationRun, IneligibleReason
from allocation.simulate import format_exact as exact


def approx(value: Fraction, places: int = 2) -> str:
    """Rounded half up for display next to an exact fraction; never used to decide."""
    scaled = value * 10**places
    whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    text = str(whole).rjust(places + 1, "0")
    return f"{text[:-places]}.{text[-places:]}"


def quota_text(value: Fraction) -> str:
    text = exact(value)
    return text if "/" not in text else f"{text} ≈ {approx(value)}"


def line_quota(line: AllocationLine, run: AllocationRun) -> Fraction:
    """The main pass's exact quota in units."""
    return Fraction(int(line.quota_num), int(run.quota_den))


def explain(line: AllocationLine, run: AllocationRun) -> list[str]:
    """Sentences that explain ``line``'s award, from the numbers stored on it."""
    if not line.eligible:
        return [_("Not eligible: %(reason)s.") % {"reason": line.get_reason_display().lower()}]
    unit = run.unit
    parts = []
    if line.minimum_units:
        parts.append(
            _("Guaranteed minimum first: %(cartons)s cartons.")
            % {"cartons": line.minimum_units * unit}
        )
    main_cap_units = line.cap // unit - line.minimum_units
    level = run.level
    if level is None:
        parts.append(
            _("The supply covers every cap: gets its cap of %(cap)s cartons.") % {"cap": line.cap}
        )
    elif line.capped:
        parts.append(
            _("Capped at %(cap)s cartons: its share, %(points)s points × %(level)s, is more.")
            % {"cap": main_cap_units * unit, "points": line.points, "level": _level(level, unit)}
        )
    else:
        quota = line_quota(line, run) * unit
        text = _("Share %(points)s points × %(level)s = %(quota)s cartons; %(floor)s whole.") % {
            "points": line.points,
            "level": _level(level, unit),
            "quota": quota_text(quota),
            "floor": line.floor_units * unit,
        }
        parts.append(text)
        if line.remainder_rank:
            parts.append(
                _("Plus %(unit)s for the remainder (rank %(rank)s).")
                % {"unit": unit, "rank": line.remainder_rank}
            )
    parts.append(_("Award: %(award)s cartons.") % {"award": line.award})
    return parts


def _level(level: Fraction, unit: int) -> str:
    return _("%(cartons)s cartons per point") % {"cartons": quota_text(level * unit)}


def reason_label(code: str) -> str:
    return str(IneligibleReason(code).label) if code else ""
