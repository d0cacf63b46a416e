"""Pure rules of differentiated service: no queries, shared by services and selectors."""

from __future__ import annotations

import datetime as dt

from retailers.models import HOSPITALITY_TYPES, IntegrityLevel, Retailer, RetailerStatus
from visits.models import UNRATED, FocusActivity

#: The source document's service by star (DESIGN §2.1): 5★ visited twice a cycle and longest,
#: 3–4★ once a cycle, 1–2★ once every two cycles; focus activities as the document lists them.
#: Retailers that are new and unrated get a regular visit with the basics and training.
DEFAULT_POLICIES: dict[int, dict] = {
    5: {
        "visits": 2,
        "period_cycles": 1,
        "min_stay_minutes": 20,
        "activities": [FocusActivity.PROMOTE_BRANDS, FocusActivity.TRAINING],
        "emergency_delivery": True,
    },
    4: {
        "visits": 1,
        "period_cycles": 1,
        "min_stay_minutes": 10,
        "activities": [FocusActivity.LAW, FocusActivity.INVENTORY, FocusActivity.SUBSTITUTES],
        "emergency_delivery": True,
    },
    3: {
        "visits": 1,
        "period_cycles": 1,
        "min_stay_minutes": 10,
        "activities": [FocusActivity.LAW, FocusActivity.INVENTORY, FocusActivity.SUBSTITUTES],
        "emergency_delivery": False,
    },
    2: {
        "visits": 1,
        "period_cycles": 2,
        "min_stay_minutes": 5,
        "activities": [FocusActivity.COUNTER, FocusActivity.SALES],
        "emergency_delivery": False,
    },
    1: {
        "visits": 1,
        "period_cycles": 2,
        "min_stay_minutes": 5,
        "activities": [FocusActivity.COUNTER, FocusActivity.SALES],
        "emergency_delivery": False,
    },
    UNRATED: {
        "visits": 1,
        "period_cycles": 1,
        "min_stay_minutes": 10,
        "activities": [
            FocusActivity.LAW,
            FocusActivity.COUNTER,
            FocusActivity.SALES,
            FocusActivity.TRAINING,
        ],
        "emergency_delivery": False,
    },
}


def policy_star(star: int | None) -> int:
    """The ``ServicePolicy.star`` that serves a retailer of this star."""
    return UNRATED if star is None else star


def emergency_eligible(retailer: Retailer, *, policy_allows: bool) -> bool:
    """May this retailer ask for an emergency delivery (DESIGN §2.2)?

    Active catering and entertainment venues always may; other active retailers when their
    star's policy allows it (large, well-run: 4–5★ by default) and their integrity level is A.
    """
    if retailer.status != RetailerStatus.ACTIVE:
        return False
    if retailer.business_type in HOSPITALITY_TYPES:
        return True
    return policy_allows and retailer.integrity_level == IntegrityLevel.A


def week_number(day: dt.date) -> int:
    """Consecutive weeks get consecutive numbers (Monday-based)."""
    return (day.toordinal() - 1) // 7


def in_period(*, retailer_id: int, cycle_start: dt.date, period_cycles: int) -> bool:
    """Is the retailer planned in this cycle under an "every ``period_cycles``" policy?"""
    return (week_number(cycle_start) + retailer_id) % period_cycles == 0


def field_days(manager_weekdays: set[int], visits: int) -> list[int]:
    """The manager's route weekdays, padded from Monday on until there are ``visits`` days."""
    days = set(manager_weekdays)
    for weekday in range(7):
        if len(days) >= visits:
            break
        days.add(weekday)
    return sorted(days)


def visit_weekdays(*, route_weekday: int, manager_weekdays: set[int], visits: int) -> list[int]:
    """The weekdays of a retailer's ``visits`` visits in a cycle (see ``visits.models``).

    The first is the route's own day; the others are spread evenly around the manager's
    weekly round of route days. Always ``visits`` distinct days (``visits`` ≤ 7).
    """
    days = field_days(manager_weekdays | {route_weekday}, visits)
    start, count = days.index(route_weekday), len(days)
    return [days[(start + j * count // visits) % count] for j in range(visits)]


def day_in_cycle(*, cycle_start: dt.date, cycle_end: dt.date, weekday: int) -> dt.date | None:
    """The date of ``weekday`` within the cycle, or ``None`` if the cycle has no such day."""
    day = cycle_start + dt.timedelta(days=(weekday - cycle_start.weekday()) % 7)
    return day if day <= cycle_end else None


def stay_minutes(checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> int:
    """Whole minutes between check-in and check-out (rounded down)."""
    return int((checked_out_at - checked_in_at).total_seconds() // 60)
