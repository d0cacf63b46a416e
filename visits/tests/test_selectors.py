import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from territory.selectors import cycle_for_day
from visits import selectors, services
from visits.models import FollowUp, ServicePolicy, Visit, VisitPlan
from visits.selectors import Badge
from visits.tests.factories import VisitFactory

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def every_cycle(world):
    """1–2★ visited every cycle, so that one cycle's figures do not depend on retailer ids."""
    ServicePolicy.objects.filter(star__in=[1, 2]).update(period_cycles=1)


@pytest.fixture
def planned(world, every_cycle):
    services.visit_plan_generate(cycle=world.c1, district_ids=[world.district.pk])
    return VisitPlan.objects.filter(cycle=world.c1)


def entry(world, retailer, weekday):
    return VisitPlan.objects.get(
        cycle=world.c1, retailer=retailer, day=world.c1.start_date + dt.timedelta(days=weekday)
    )


def done(world, retailer, weekday, stay, required):
    plan = entry(world, retailer, weekday)
    return VisitFactory(
        retailer=retailer,
        plan=plan,
        checked_in_at=at(plan.day, 9),
        stay_minutes=stay,
        required_stay_minutes=required,
    )


@pytest.fixture
def known(world, planned):
    """The compliance data set: 17 planned entries, 10 done, 1 unplanned, 3 short stays."""
    mon, tue, wed = 0, 1, 2
    five_a, five_b, four, three, two, one, unrated = world.shops_r1
    r2_five, r2_three, _r2_three_b = world.shops_r2
    r3_four, r3_two, r3_two_b, _r3_two_c = world.shops_r3
    done(world, five_a, mon, 25, 20)
    done(world, five_b, mon, 15, 20)
    done(world, five_b, wed, 20, 20)
    done(world, four, mon, 10, 10)
    done(world, two, mon, 3, 5)
    done(world, unrated, mon, 12, 10)
    done(world, r2_five, wed, 30, 20)
    done(world, r2_three, wed, 9, 10)
    done(world, r3_four, tue, 11, 10)
    done(world, r3_two, tue, 5, 5)
    # Unplanned: the 1★ seen on Tuesday instead of Monday.
    VisitFactory(
        retailer=one,
        cycle=world.c1,
        checked_in_at=at(world.c1.start_date + dt.timedelta(days=tue), 17),
        stay_minutes=6,
        required_stay_minutes=5,
    )
    # Not counted: a visit still open, and a visit in the next cycle.
    VisitFactory(
        retailer=r3_two_b,
        plan=entry(world, r3_two_b, tue),
        checked_in_at=at(world.c1.start_date, 10),
        stay_minutes=None,
    )
    VisitFactory(
        retailer=three, cycle=world.c2, checked_in_at=at(world.c2.start_date, 9), stay_minutes=40
    )
    return world


def figures(row):
    return (row.label, row.planned, row.done, row.visits, row.unplanned, row.stay_ok, row.short)


def test_compliance_figures_on_a_known_data_set(known):
    w = known
    report = selectors.compliance_report(user=w.boss, cycle=w.c1, district=None)
    total = report.total
    assert figures(total)[1:] == (17, 10, 11, 1, 8, 3)
    assert (total.done_share, total.stay_ok_share) == (Decimal("58.8"), Decimal("72.7"))
    assert (total.stay_total, total.required_total) == (146, 135)
    assert (total.average_stay, total.average_required) == (Decimal("13.3"), Decimal("12.3"))
    assert [figures(r) for r in report.by_manager] == [
        (str(w.am1), 13, 8, 9, 1, 6, 3),
        (str(w.am2), 4, 2, 2, 0, 2, 0),
    ]
    assert [figures(r) for r in report.by_route] == [
        ("R1", 9, 6, 7, 1, 5, 2),
        ("R2", 4, 2, 2, 0, 1, 1),
        ("R3", 4, 2, 2, 0, 2, 0),
    ]
    assert [figures(r) for r in report.by_star] == [
        ("5★", 6, 4, 4, 0, 3, 1),
        ("4★", 2, 2, 2, 0, 2, 0),
        ("3★", 3, 1, 1, 0, 0, 1),
        ("2★", 4, 2, 2, 0, 1, 1),
        ("1★", 1, 0, 1, 1, 1, 0),
        ("Unrated", 1, 1, 1, 0, 1, 0),
    ]
    missed = [(m.retailer, m.planned, m.visited) for m in report.missed]
    assert missed == [
        (w.shops_r1[0], 2, 1),
        (w.shops_r1[3], 1, 0),
        (w.shops_r2[0], 2, 1),
        (w.shops_r2[2], 1, 0),
        (w.shops_r3[2], 1, 0),
        (w.shops_r3[3], 1, 0),
    ]
    assert report.missed[0].last_visit_at == at(w.c1.start_date, 9)


def test_compliance_is_scoped_to_the_supervisors_district(known):
    w = known
    mine = selectors.compliance_report(user=w.boss, cycle=w.c1, district=w.district)
    assert mine.total.planned == 17
    theirs = selectors.compliance_report(user=w.other_boss, cycle=w.c1, district=None)
    assert (theirs.total.planned, theirs.total.visits, theirs.missed) == (0, 0, [])
    assert selectors.compliance_report(user=w.boss, cycle=w.c1, district=w.other).total.planned == 0


def test_compliance_query_count_does_not_grow_with_rows(known, django_assert_num_queries):
    with django_assert_num_queries(6):
        selectors.compliance_report(user=known.boss, cycle=known.c1, district=None)


def test_today_rows_in_route_and_stop_order_with_what_to_know(world, planned, monkeypatch):
    monday = world.c1.start_date
    four = world.shops_r1[2]
    VisitFactory(retailer=four, checked_in_at=at(monday - dt.timedelta(days=7), 9), stay_minutes=12)
    earlier = VisitFactory(
        retailer=world.shops_r1[3], checked_in_at=at(monday - dt.timedelta(days=7), 10)
    )
    FollowUp.objects.create(retailer=world.shops_r1[3], text="带资料", created_in=earlier)
    monkeypatch.setattr(
        selectors,
        "extra_badges",
        lambda *, user, retailer_ids, day=None: {four.pk: [Badge("余额不足", "warn")]},
    )
    rows = selectors.today_rows(user=world.am1, day=monday)
    # Route R1 (Monday's route) in stop order, then the extra visit of R2's 5★.
    assert [row.retailer for row in rows] == [*world.shops_r1, world.shops_r2[0]]
    by_shop = {row.retailer: row for row in rows}
    assert by_shop[four].last_visit_at == at(monday - dt.timedelta(days=7), 9)
    assert by_shop[world.shops_r1[0]].last_visit_at is None
    assert [f.text for f in by_shop[world.shops_r1[3]].open_follow_ups] == ["带资料"]
    assert by_shop[four].badges == [Badge("余额不足", "warn")]
    assert by_shop[four].policy.star == 4
    assert by_shop[world.shops_r1[6]].policy.star == 0
    assert {row.state for row in rows} == {"todo"}
    assert selectors.today_rows(user=world.am2, day=monday) == []


def test_today_rows_query_count_is_constant(world, planned, django_assert_num_queries):
    # Plan rows, follow-ups, policies; balance warnings; the day's cycle and its awards.
    with django_assert_num_queries(6):
        rows = selectors.today_rows(user=world.am1, day=world.c1.start_date)
        assert len(rows) == 8
        assert [row.retailer.name for row in rows]
        assert [row.entry.route.code for row in rows]
        assert [row.state for row in rows]


def test_visits_are_visible_along_the_routes(known):
    w = known
    all_in_district = Visit.objects.filter(route__district=w.district)
    assert set(selectors.visible_visits(w.am1).filter(route__district=w.district)) == set(
        all_in_district.exclude(route=w.r3)
    )
    assert set(selectors.visible_visits(w.am2)) == set(all_in_district.filter(route=w.r3))
    assert set(selectors.visible_visits(w.boss)) == set(all_in_district)
    assert not selectors.visible_visits(w.other_boss).exists()
    hidden = all_in_district.filter(route=w.r3).first()
    with pytest.raises(Visit.DoesNotExist):
        selectors.visit_detail(user=w.am1, pk=hidden.pk)


def test_retailer_card(known):
    w = known
    shop = w.shops_r1[1]
    card = selectors.retailer_card(user=w.am1, retailer=shop)
    assert card.can_log
    assert card.policy.star == 5
    assert [v.stay_minutes for v in card.history] == [20, 15]
    assert card.open_visit is None
    assert not selectors.retailer_card(user=w.boss, retailer=shop).can_log
    open_card = selectors.retailer_card(user=w.am2, retailer=w.shops_r3[2])
    assert open_card.open_visit is not None


def test_badges_show_balance_warnings_for_the_day(world, planned):
    from decimal import Decimal

    from settlement.models import BalanceReminder

    monday = world.c1.start_date
    helpless, busy, elsewhere = world.shops_r1[0], world.shops_r1[1], world.shops_r1[2]
    common = {
        "cycle": world.c1,
        "order_date": monday,
        "expected_amount": Decimal("900.00"),
        "balance": Decimal("120.50"),
        "send_after": timezone.now(),
    }
    BalanceReminder.objects.create(retailer=helpless, help_deposit=True, **common)
    BalanceReminder.objects.create(retailer=busy, large=True, **common)
    badges = selectors.extra_badges(
        user=world.am1, retailer_ids=[helpless.pk, busy.pk, elsewhere.pk], day=monday
    )
    assert [(b.label, b.tone) for b in badges[helpless.pk]] == [("Help deposit", "bad")]
    assert [(b.label, b.tone) for b in badges[busy.pk]] == [("Low balance", "warn")]
    assert "120.50" in badges[busy.pk][0].title
    assert elsewhere.pk not in badges
    # Another manager sees none of them; a day later the order day has passed.
    assert selectors.extra_badges(user=world.am2, retailer_ids=[helpless.pk], day=monday) == {}
    later = monday + dt.timedelta(days=1)
    assert selectors.extra_badges(user=world.am1, retailer_ids=[helpless.pk], day=later) == {}


def test_badges_show_published_awards_of_the_days_cycle(demo):
    from allocation.models import AllocationLine, RunStatus

    today = timezone.localdate()
    cycle = cycle_for_day(today)
    line = (
        AllocationLine.objects.filter(
            run__status=RunStatus.PUBLISHED,
            run__supply__cycle=cycle,
            award__gt=0,
            route__district__code="YC-CQ",
        )
        .select_related("run__supply__brand")
        .first()
    )
    assert line is not None, "the demo publishes a run for the current cycle"
    badges = selectors.extra_badges(
        user=demo["manager"], retailer_ids=[line.retailer_id], day=today
    )
    labels = [(b.label, b.tone) for b in badges[line.retailer_id]]
    assert (f"{line.run.supply.brand.name} ×{line.award}", "ok") in labels
    # manager2 cannot see the city district's awards; a draft would not show either.
    assert selectors.extra_badges(user=demo["manager2"], retailer_ids=[line.retailer_id]) == {}
