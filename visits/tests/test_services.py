import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Brand
from config.errors import ApplicationError
from retailers.models import BusinessType, IntegrityLevel
from retailers.tests.factories import RetailerFactory
from visits import services
from visits.models import (
    EmergencyRequest,
    FollowUp,
    PlanSource,
    ServicePolicy,
    ServicePolicyChange,
    StockObservation,
    Visit,
    VisitPlan,
)
from visits.services import StockInput
from visits.tests.factories import VisitPlanFactory

pytestmark = pytest.mark.django_db


def plan(world, cycle):
    return services.visit_plan_generate(cycle=cycle, district_ids=[world.district.pk])


def entries(world, cycle):
    return VisitPlan.objects.filter(cycle=cycle, route__district=world.district)


def policy(star):
    return ServicePolicy.objects.get(star=star)


# --- Service policy ---------------------------------------------------------------------------


def test_policy_update_keeps_who_changed_what(world):
    five = policy(5)
    before = five.snapshot()
    services.service_policy_update(
        policy=five,
        by=world.boss,
        visits=3,
        period_cycles=1,
        min_stay_minutes=25,
        activities=["training", "promote_brands"],
        emergency_delivery=True,
    )
    five.refresh_from_db()
    assert (five.visits, five.min_stay_minutes, five.updated_by) == (3, 25, world.boss)
    assert five.activities == ["promote_brands", "training"]  # checklist order
    change = ServicePolicyChange.objects.get(policy=five)
    assert change.before == before
    assert change.after == {**before, "visits": 3, "min_stay_minutes": 25}
    assert change.changed_by == world.boss


def test_policy_update_without_a_change_records_nothing(world):
    five = policy(5)
    services.service_policy_update(policy=five, by=world.boss, **five.snapshot())
    assert ServicePolicyChange.objects.filter(policy=five).count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"visits": 0}, "visits"),
        ({"visits": 6}, "visits"),
        ({"period_cycles": 5}, "period_cycles"),
        ({"min_stay_minutes": 0}, "min_stay_minutes"),
        ({"activities": ["dancing"]}, "activities"),
    ],
)
def test_policy_update_refuses_bad_values_and_changes_nothing(world, changes, field):
    three = policy(3)
    before = three.snapshot()
    with pytest.raises(ApplicationError) as error:
        services.service_policy_update(
            policy=three, by=world.boss, **{**three.snapshot(), **changes}
        )
    assert field in error.value.extra
    three.refresh_from_db()
    assert three.snapshot() == before
    assert not ServicePolicyChange.objects.filter(policy=three).exists()


def test_only_supervisors_change_policies(world):
    with pytest.raises(ApplicationError, match="Only supervisors"):
        services.service_policy_update(policy=policy(3), by=world.am1, **policy(3).snapshot())


# --- Plan generation --------------------------------------------------------------------------


def test_plan_counts_per_star_match_the_policy(world):
    created = plan(world, world.c1) + plan(world, world.c2)
    assert created == entries(world, world.c1).count() + entries(world, world.c2).count()
    policies = {p.star: p for p in ServicePolicy.objects.all()}
    for retailer in world.active:
        rule = policies[retailer.star or 0]
        per_cycle = [
            entries(world, cycle).filter(retailer=retailer).count()
            for cycle in (world.c1, world.c2)
        ]
        if rule.period_cycles == 1:
            assert per_cycle == [rule.visits, rule.visits], retailer.star
        else:
            assert sum(per_cycle) == rule.visits, retailer.star
    # Exactly: 3 five-star × 2, 2 four-star, 3 three-star, 1 unrated per cycle; the five
    # one- and two-star retailers once over the two cycles.
    per_star = Counter(entries(world, world.c1).values_list("star", flat=True))
    per_star_next = Counter(entries(world, world.c2).values_list("star", flat=True))
    assert {star: per_star[star] for star in (5, 4, 3, None)} == {5: 6, 4: 2, 3: 3, None: 1}
    assert per_star[2] + per_star_next[2] == 4
    assert per_star[1] + per_star_next[1] == 1
    assert not VisitPlan.objects.filter(retailer__in=[world.closed, world.unmanaged]).exists()


def test_plan_days_follow_the_routes_and_spread_extra_visits(world):
    plan(world, world.c1)
    monday, tuesday, wednesday = (world.c1.start_date + dt.timedelta(days=n) for n in range(3))
    five_r1, five_r2 = world.shops_r1[0], world.shops_r2[0]
    assert list(
        entries(world, world.c1).filter(retailer=five_r1).values_list("day", "sequence")
    ) == [
        (monday, 0),
        (wednesday, 1),
    ]
    assert list(
        entries(world, world.c1).filter(retailer=five_r2).values_list("day", "sequence")
    ) == [
        (monday, 1),
        (wednesday, 0),
    ]
    four_r3 = world.shops_r3[0]
    entry = entries(world, world.c1).get(retailer=four_r3)
    assert (entry.day, entry.account_manager, entry.route, entry.min_stay_minutes) == (
        tuesday,
        world.am2,
        world.r3,
        policy(4).min_stay_minutes,
    )
    assert entry.source == PlanSource.GENERATED


def test_rerun_never_duplicates_and_keeps_moved_entries(world):
    first = plan(world, world.c1)
    assert first == entries(world, world.c1).count() > 0
    entry = entries(world, world.c1).get(retailer=world.shops_r1[2])  # the 4★ on Monday
    thursday = world.c1.start_date + dt.timedelta(days=3)
    services.visit_plan_move(entry=entry, day=thursday, by=world.boss)
    assert plan(world, world.c1) == 0
    assert entries(world, world.c1).count() == first
    assert entries(world, world.c1).get(retailer=world.shops_r1[2]).day == thursday
    # A policy asking for more fills in only what is new.
    three = policy(3)
    services.service_policy_update(policy=three, by=world.boss, **{**three.snapshot(), "visits": 2})
    assert plan(world, world.c1) == 3
    assert entries(world, world.c1).filter(star=3).count() == 6


def test_plan_for_one_district_leaves_others_alone(world):
    world.outside.account_manager = world.am2
    world.outside.save()
    plan(world, world.c1)
    assert not VisitPlan.objects.filter(retailer=world.unmanaged).exists()
    services.visit_plan_generate(cycle=world.c1)
    assert VisitPlan.objects.filter(retailer=world.unmanaged, cycle=world.c1).count() == 2


def test_plan_generation_is_one_statement_per_batch(world, django_assert_num_queries):
    # Policies, routes, the plan's lock, whether the cycle has entries, then one INSERT …
    # SELECT (inside a savepoint pair).
    with django_assert_num_queries(7):
        plan(world, world.c1)


def test_plan_rerun_and_hand_added_entries_go_through_on_conflict(world):
    created = plan(world, world.c1)
    assert created > 0
    entry = entries(world, world.c1).get(retailer=world.shops_r1[0], sequence=0)
    entry.delete()
    # The cycle has entries now: only the missing one is inserted, nothing collides.
    assert plan(world, world.c1) == 1
    assert VisitPlan.objects.filter(cycle=world.c1).count() == created


def test_plan_move_refuses_bad_days_and_strangers(world):
    plan(world, world.c1)
    entry = entries(world, world.c1).get(retailer=world.shops_r1[0], sequence=0)
    cases = [
        (world.c2.start_date, world.boss, "Choose a day of cycle"),
        (entry.day + dt.timedelta(days=2), world.boss, "already has a visit planned"),
        (entry.day + dt.timedelta(days=1), world.other_boss, "Only the district's supervisor"),
        (entry.day + dt.timedelta(days=1), world.am1, "Only the district's supervisor"),
    ]
    for day, who, message in cases:
        with pytest.raises(ApplicationError, match=message):
            services.visit_plan_move(entry=entry, day=day, by=who)
        entry.refresh_from_db()
        assert entry.day == world.c1.start_date
        assert entry.moved_at is None


def test_plan_add_extra_visit(world):
    plan(world, world.c1)
    shop = world.shops_r3[0]
    friday = world.c1.start_date + dt.timedelta(days=4)
    added = services.visit_plan_add(retailer=shop, day=friday, by=world.boss)
    assert (added.cycle, added.account_manager, added.source, added.sequence) == (
        world.c1,
        world.am2,
        PlanSource.ADDED,
        5,
    )
    assert plan(world, world.c1) == 0
    with pytest.raises(ApplicationError, match="already has a visit planned"):
        services.visit_plan_add(retailer=shop, day=friday, by=world.boss)
    with pytest.raises(ApplicationError, match="No cycle covers"):
        services.visit_plan_add(retailer=shop, day=dt.date(2040, 1, 2), by=world.boss)
    with pytest.raises(ApplicationError, match="Only active"):
        services.visit_plan_add(retailer=world.closed, day=friday, by=world.boss)
    with pytest.raises(ApplicationError, match="Only the district's supervisor"):
        services.visit_plan_add(retailer=shop, day=friday, by=world.other_boss)
    assert entries(world, world.c1).filter(retailer=shop).count() == 2


# --- Visits -----------------------------------------------------------------------------------


@pytest.fixture
def shop(world):
    """A 4★ on am1's route R1, planned on the day of a check-in 40 minutes ago."""
    retailer = world.shops_r1[2]
    VisitPlanFactory(retailer=retailer, sequence=0, day=timezone.localdate(ago(40)))
    return retailer


@pytest.fixture
def brand(demo):
    return Brand.objects.get(name="中华(硬)")


def ago(minutes):
    return timezone.now() - dt.timedelta(minutes=minutes)


def test_full_visit_flow_with_follow_ups_carried_to_the_next_visit(world, shop, brand):
    visit = services.visit_check_in(
        retailer=shop,
        by=world.am1,
        at=ago(40),
        latitude=Decimal("34.4"),
        longitude=Decimal("115.8"),
    )
    assert visit.plan == VisitPlan.objects.get(retailer=shop)
    assert (visit.star, visit.route, visit.required_stay_minutes) == (4, world.r1, 10)
    assert visit.cycle == visit.plan.cycle
    services.visit_check_out(
        visit=visit,
        by=world.am1,
        at=ago(10),
        activities=["law", "inventory"],
        notes="柜台整洁",
        feedback="希望多供应紧俏烟",
        stock=[
            StockInput(
                brand=brand, cartons_on_hand=12, retail_price=Decimal("500"), sales_last_cycle=8
            )
        ],
        follow_ups=["下次带新品资料", "  "],
    )
    visit.refresh_from_db()
    assert visit.stay_minutes == 30
    assert visit.activities == ["law", "inventory"]
    assert (visit.notes, visit.feedback) == ("柜台整洁", "希望多供应紧俏烟")
    assert list(visit.stock.values_list("brand__name", "cartons_on_hand", "sales_last_cycle")) == [
        ("中华(硬)", 12, 8)
    ]
    follow_up = FollowUp.objects.get(retailer=shop)
    assert (follow_up.text, follow_up.created_in, follow_up.is_open) == (
        "下次带新品资料",
        visit,
        True,
    )

    # The next visit (unplanned) sees it and evaluates it.
    second = services.visit_check_in(retailer=shop, by=world.am1, at=ago(8))
    assert second.is_unplanned
    services.visit_check_out(
        visit=second, by=world.am1, at=ago(0), done_follow_ups={follow_up.pk: "已送到"}
    )
    follow_up.refresh_from_db()
    assert (follow_up.done_in, follow_up.outcome) == (second, "已送到")
    assert not FollowUp.objects.filter(retailer=shop, done_in__isnull=True).exists()


def open_visit(world, shop, minutes=30):
    return services.visit_check_in(retailer=shop, by=world.am1, at=ago(minutes))


def assert_still_open(visit):
    visit.refresh_from_db()
    assert (visit.checked_out_at, visit.stay_minutes, visit.activities, visit.notes) == (
        None,
        None,
        [],
        "",
    )
    assert not StockObservation.objects.filter(visit=visit).exists()
    assert not FollowUp.objects.filter(created_in=visit).exists()


def test_check_out_before_check_in_is_refused(world, shop):
    visit = open_visit(world, shop, minutes=10)
    with pytest.raises(ApplicationError, match="before the check-in") as error:
        services.visit_check_out(visit=visit, by=world.am1, at=ago(20), notes="x")
    assert "checked_out_at" in error.value.extra
    assert_still_open(visit)


def test_a_stay_of_days_is_refused(world, shop):
    visit = services.visit_check_in(retailer=shop, by=world.am1, at=ago(2 * 24 * 60))
    with pytest.raises(ApplicationError, match="more than 12 hours"):
        services.visit_check_out(visit=visit, by=world.am1, notes="x")
    assert_still_open(visit)
    # Entering the time they left closes it.
    services.visit_check_out(
        visit=visit, by=world.am1, at=visit.checked_in_at + dt.timedelta(minutes=12 * 60)
    )
    visit.refresh_from_db()
    assert visit.stay_minutes == 720


def test_second_check_in_on_an_open_visit_is_refused(world, shop):
    visit = open_visit(world, shop)
    with pytest.raises(ApplicationError, match="still checked in at"):
        services.visit_check_in(retailer=shop, by=world.am1)
    with pytest.raises(ApplicationError, match="still checked in at"):
        services.visit_check_in(retailer=world.shops_r1[3], by=world.am1)
    assert Visit.objects.filter(account_manager=world.am1).get() == visit


def test_visit_outside_the_managers_routes_is_refused(world):
    for retailer, who in [
        (world.shops_r3[0], world.am1),  # am2's route
        (world.shops_r1[0], world.boss),  # supervisors do not log visits
        (world.unmanaged, world.am1),
    ]:
        with pytest.raises(ApplicationError, match="not on your routes") as error:
            services.visit_check_in(retailer=retailer, by=who)
        assert "retailer" in error.value.extra
    with pytest.raises(ApplicationError, match="closed"):
        services.visit_check_in(retailer=world.closed, by=world.am2)
    assert not Visit.objects.filter(route__district=world.district).exists()


@pytest.mark.parametrize(
    ("at_minutes", "latitude", "longitude", "message"),
    [
        (-30, None, None, "in the future"),
        (31 * 24 * 60, None, None, "more than 30 days ago"),
        (5, Decimal("91"), Decimal("0"), "Latitude"),
        (5, Decimal("0"), Decimal("-181"), "Longitude"),
        (5, Decimal("30"), None, "both latitude and longitude"),
    ],
)
def test_check_in_bad_input(world, shop, at_minutes, latitude, longitude, message):
    with pytest.raises(ApplicationError, match=message):
        services.visit_check_in(
            retailer=shop, by=world.am1, at=ago(at_minutes), latitude=latitude, longitude=longitude
        )
    assert not Visit.objects.filter(retailer=shop).exists()


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        ({"cartons_on_hand": -1}, "stock is 0 to 2000"),
        ({"cartons_on_hand": 100000}, "stock is 0 to 2000"),
        ({"sales_last_cycle": -3}, "sales are 0 to 5000"),
        ({"sales_last_cycle": 999999}, "sales are 0 to 5000"),
        ({"retail_price": Decimal("-1")}, "retail price per carton between"),
        ({"retail_price": Decimal("99999")}, "retail price per carton between"),
    ],
)
def test_negative_or_absurd_stock_is_refused(world, shop, brand, stock, message):
    visit = open_visit(world, shop)
    item = StockInput(**{"brand": brand, "cartons_on_hand": 5, **stock})
    with pytest.raises(ApplicationError, match=message) as error:
        services.visit_check_out(
            visit=visit, by=world.am1, notes="x", follow_ups=["a"], stock=[item]
        )
    assert "Stock row 1 (中华(硬))" in error.value.message
    assert_still_open(visit)


def test_other_check_out_refusals(world, shop, brand):
    visit = open_visit(world, shop)
    item = StockInput(brand=brand, cartons_on_hand=1)
    refusals = [
        ({"by": world.am2}, "Only the account manager who checked in"),
        ({"activities": ["promote_brands"]}, "checklist"),
        ({"stock": [item, item]}, "listed twice"),
        ({"follow_ups": ["x"] * 6}, "At most 5"),
        ({"follow_ups": ["x" * 201]}, "200 characters"),
        ({"done_follow_ups": {10**9: ""}}, "Only open follow-ups"),
        ({"at": timezone.now() + dt.timedelta(hours=1)}, "in the future"),
    ]
    for kwargs, message in refusals:
        with pytest.raises(ApplicationError, match=message):
            services.visit_check_out(**{"visit": visit, "by": world.am1, "notes": "x", **kwargs})
        assert_still_open(visit)
    services.visit_check_out(visit=visit, by=world.am1)
    with pytest.raises(ApplicationError, match="checked out already"):
        services.visit_check_out(visit=visit, by=world.am1)


def test_visit_log_records_a_whole_visit(world, shop, brand):
    visit = services.visit_log(
        retailer=shop,
        by=world.am1,
        checked_in_at=ago(60),
        checked_out_at=ago(35),
        activities=["substitutes"],
        stock=[StockInput(brand=brand, cartons_on_hand=3)],
    )
    assert (visit.stay_minutes, visit.activities, visit.is_open) == (25, ["substitutes"], False)
    with pytest.raises(ApplicationError, match="before the check-in"):
        services.visit_log(retailer=shop, by=world.am1, checked_in_at=ago(5), checked_out_at=ago(9))
    assert Visit.objects.filter(retailer=shop).count() == 1


def test_emergency_requests_only_for_eligible_retailers(world, brand):
    venue = RetailerFactory(route=world.r1, star=2, business_type=BusinessType.CATERING)
    big = world.shops_r1[0]  # 5★
    big.integrity_level = IntegrityLevel.A
    big.save()
    small = world.shops_r1[4]  # 2★ grocery
    request = services.emergency_request_create(
        retailer=venue, by=world.am1, brand=brand, cartons=5
    )
    assert (request.cartons, request.requested_by) == (5, world.am1)
    services.emergency_request_create(retailer=big, by=world.am1, brand=brand, cartons=1)
    refusals = [
        ({"retailer": small}, "not eligible"),
        ({"retailer": world.venue}, "not eligible"),  # suspended
        ({"retailer": venue, "cartons": 0}, "1 to 100"),
        ({"retailer": venue, "cartons": 101}, "1 to 100"),
        ({"retailer": venue, "by": world.am2}, "not on your routes"),
    ]
    for kwargs, message in refusals:
        with pytest.raises(ApplicationError, match=message):
            services.emergency_request_create(
                **{"by": world.am1, "brand": brand, "cartons": 2, **kwargs}
            )
    assert EmergencyRequest.objects.filter(retailer__route__district=world.district).count() == 2
