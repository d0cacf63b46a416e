import datetime as dt
import importlib

import pytest

from retailers.models import BusinessType, Retailer, RetailerStatus
from visits import rules


@pytest.mark.parametrize(
    ("route_weekday", "manager_weekdays", "visits", "expected"),
    [
        (0, {0, 1, 2, 3, 4}, 1, [0]),
        (0, {0, 1, 2, 3, 4}, 2, [0, 2]),
        (4, {0, 1, 2, 3, 4}, 2, [4, 1]),
        (2, {0, 1, 2, 3, 4}, 3, [2, 3, 0]),
        (1, {1, 3}, 2, [1, 3]),
        (3, {1, 3}, 2, [3, 1]),
        # A manager with one route day: the other visits go on the first free weekdays.
        (1, {1}, 2, [1, 0]),
        (1, {1}, 3, [1, 2, 0]),
        (0, {0, 1, 2, 3, 4}, 5, [0, 1, 2, 3, 4]),
    ],
)
def test_visit_weekdays_spread_over_the_managers_round(
    route_weekday, manager_weekdays, visits, expected
):
    days = rules.visit_weekdays(
        route_weekday=route_weekday, manager_weekdays=manager_weekdays, visits=visits
    )
    assert days == expected
    assert len(set(days)) == visits


def test_every_other_cycle_splits_retailers_between_weeks():
    monday = dt.date(2031, 1, 6)
    following = monday + dt.timedelta(weeks=1)
    for retailer_id in range(1, 50):
        planned = [
            rules.in_period(retailer_id=retailer_id, cycle_start=start, period_cycles=2)
            for start in (monday, following)
        ]
        assert planned.count(True) == 1
    first_week = [
        rid
        for rid in range(1, 11)
        if rules.in_period(retailer_id=rid, cycle_start=monday, period_cycles=2)
    ]
    assert len(first_week) == 5
    assert rules.week_number(following) == rules.week_number(monday) + 1


def test_day_in_cycle():
    monday = dt.date(2031, 1, 6)
    sunday = monday + dt.timedelta(days=6)
    assert rules.day_in_cycle(cycle_start=monday, cycle_end=sunday, weekday=2) == dt.date(
        2031, 1, 8
    )
    short_end = monday + dt.timedelta(days=2)
    assert rules.day_in_cycle(cycle_start=monday, cycle_end=short_end, weekday=4) is None


def test_stay_minutes_round_down():
    start = dt.datetime(2031, 1, 6, 9, 0, tzinfo=dt.UTC)
    assert rules.stay_minutes(start, start + dt.timedelta(minutes=14, seconds=59)) == 14


@pytest.mark.parametrize(
    ("business_type", "integrity", "status", "policy_allows", "eligible"),
    [
        (BusinessType.CATERING, "C", RetailerStatus.ACTIVE, False, True),
        (BusinessType.ENTERTAINMENT, "D", RetailerStatus.ACTIVE, False, True),
        (BusinessType.SUPERMARKET, "A", RetailerStatus.ACTIVE, True, True),
        (BusinessType.SUPERMARKET, "B", RetailerStatus.ACTIVE, True, False),
        (BusinessType.SUPERMARKET, "A", RetailerStatus.ACTIVE, False, False),
        (BusinessType.CATERING, "A", RetailerStatus.SUSPENDED, True, False),
    ],
)
def test_emergency_eligibility(business_type, integrity, status, policy_allows, eligible):
    retailer = Retailer(business_type=business_type, integrity_level=integrity, status=status)
    assert rules.emergency_eligible(retailer, policy_allows=policy_allows) is eligible


def test_defaults_follow_the_source_document():
    d = rules.DEFAULT_POLICIES
    # 5★ more often and longer than 3–4★, which are visited more than 1–2★.
    per_cycle = {star: d[star]["visits"] / d[star]["period_cycles"] for star in d}
    assert per_cycle[5] > per_cycle[4] == per_cycle[3] > per_cycle[2] == per_cycle[1]
    assert d[5]["min_stay_minutes"] > d[4]["min_stay_minutes"] >= d[2]["min_stay_minutes"]
    assert "promote_brands" in d[5]["activities"]
    assert {"law", "inventory", "substitutes"} <= set(d[3]["activities"])
    assert {"counter", "sales"} <= set(d[1]["activities"])
    assert [star for star in d if d[star]["emergency_delivery"]] == [5, 4]


def test_the_migration_holds_the_same_defaults():
    migration = importlib.import_module("visits.migrations.0002_default_policies")
    for star, (visits, period, stay, activities, emergency) in migration.DEFAULTS.items():
        expected = rules.DEFAULT_POLICIES[star]
        assert (visits, period, stay, emergency) == (
            expected["visits"],
            expected["period_cycles"],
            expected["min_stay_minutes"],
            expected["emergency_delivery"],
        )
        assert activities == [str(a) for a in expected["activities"]]
