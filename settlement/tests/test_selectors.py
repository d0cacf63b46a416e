import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.permissions import can_view_settlement_data
from settlement import selectors, services
from settlement.models import BalanceReminder, DebitStatus, SettlementAccount
from settlement.tests.factories import World
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def remind(retailer, cycle, order_date, **kwargs):
    return BalanceReminder.objects.create(
        retailer=retailer,
        cycle=cycle,
        order_date=order_date,
        expected_amount=Decimal("2000.00"),
        balance=Decimal("100.00"),
        send_after=timezone.now(),
        **kwargs,
    )


@pytest.fixture
def figures():
    """Route 1: four orders, one failing first and paid by a retry; route 2: two orders,
    one failing. Reminded: one paid order of route 1 and the failed one of route 2."""
    world = World()
    second = RouteFactory(
        district=world.district, account_manager=world.manager, visit_weekday=0, code="Z9"
    )
    one = [world.retailer(balance="5000.00") for _ in range(3)]
    late = world.retailer(balance="0.00")
    two_ok = world.retailer(balance="5000.00", route=second)
    two_short = world.retailer(balance="0.00", route=second)
    for shop in (*one, late, two_ok, two_short):
        services.debit_order(order_id=world.order(shop).pk)
    SettlementAccount.objects.filter(retailer=late).update(balance=Decimal("9999"))
    retried = services.debit_retry(order=late.orders.get(), by=world.manager)
    services.debit_execute(debit_id=retried.pk)
    remind(one[0], world.cycle, world.order_date, large=True, sent_at=timezone.now())
    remind(two_short, world.cycle, world.order_date, help_deposit=True)
    return world, second, two_short


def test_dashboard_figures_by_route_and_by_reminder(figures):
    world, second, two_short = figures
    data = selectors.settlement_dashboard(user=world.supervisor, cycle=world.cycle, district=None)
    assert (data.total.attempted, data.total.succeeded, data.total.recovered) == (6, 4, 1)
    assert data.total.rate == Decimal("66.7")
    assert data.total.meets_goal is False
    assert [(s.key, s.attempted, s.succeeded, s.rate) for s in data.by_route] == [
        (world.route, 4, 3, Decimal("75.0")),
        (second, 2, 1, Decimal("50.0")),
    ]
    assert (data.reminded.attempted, data.reminded.succeeded) == (2, 1)
    assert (data.not_reminded.attempted, data.not_reminded.succeeded) == (4, 3)
    assert (data.reminders.created, data.reminders.sent, data.reminders.large) == (2, 1, 1)
    assert data.reminders.help_deposit == 1
    assert [o.retailer for o in data.failures] == [two_short]
    failure = data.failures[0]
    assert (failure.last_result, failure.attempts, failure.reminded) == (
        DebitStatus.INSUFFICIENT_FUNDS,
        1,
        True,
    )
    assert data.failures_count == 1
    assert data.trend[-1].label == world.cycle.code
    assert data.trend[-1].rate == Decimal("66.7")
    assert [s.attempted for s in data.trend[:-1]] == [0] * (len(data.trend) - 1)


def test_dashboard_shows_only_the_users_routes(figures, demo):
    world, _second, _shop = figures
    for user in (demo["supervisor"], demo["manager"], demo["manager2"]):
        data = selectors.settlement_dashboard(user=user, cycle=world.cycle, district=None)
        assert (data.total.attempted, data.reminders.created, data.failures) == (0, 0, [])
    admin = selectors.settlement_dashboard(
        user=demo["admin"], cycle=world.cycle, district=world.district
    )
    assert admin.total.attempted == 6


def test_dashboard_queries_do_not_grow_with_the_data(figures, django_assert_num_queries):
    world, *_ = figures
    with django_assert_num_queries(7):
        selectors.settlement_dashboard(user=world.supervisor, cycle=world.cycle, district=None)


def test_success_rate_is_rounded_half_up_and_meets_the_goal_at_95():
    stats = selectors.DebitStats(label="x", attempted=200, succeeded=190)
    assert (stats.rate, stats.meets_goal, stats.failed) == (Decimal("95.0"), True, 10)
    stats = selectors.DebitStats(label="x", attempted=2000, succeeded=1899)
    assert (stats.rate, stats.meets_goal) == (Decimal("95.0"), True)  # 94.95 rounds up
    stats = selectors.DebitStats(label="x", attempted=2000, succeeded=1898)
    assert (stats.rate, stats.meets_goal) == (Decimal("94.9"), False)
    assert selectors.DebitStats(label="x").rate is None


def test_balance_warnings_for_today_and_tomorrow_of_the_managers_retailers(demo):
    world = World()
    today, tomorrow, later = (world.order_date + dt.timedelta(days=n) for n in (0, 1, 2))
    a, b, c = (world.retailer(needs_assistance=n) for n in (False, True, False))
    remind(a, world.cycle, today, large=True)
    remind(b, world.cycle, tomorrow, help_deposit=True)
    remind(c, world.cycle, later)
    warnings = selectors.balance_warnings(user=world.manager, day=today)
    assert set(warnings) == {a.pk, b.pk}
    assert warnings[a.pk].large is True
    assert warnings[a.pk].help_deposit is False
    assert warnings[b.pk].help_deposit is True
    assert warnings[b.pk].helped is False
    assert warnings[b.pk].shortfall == Decimal("1900.00")
    assert selectors.balance_warnings(user=demo["manager2"], day=today) == {}
    assert set(selectors.balance_warnings(user=world.supervisor, day=today)) == {a.pk, b.pk}
    assert [
        r.retailer for r in selectors.reminders_for_manager(user=world.manager, cycle=world.cycle)
    ] == [a, b, c]
    assert [
        r.retailer
        for r in selectors.reminders_for_manager(
            user=world.manager, cycle=world.cycle, help_only=True
        )
    ] == [b]


def test_order_list_is_one_query_and_scoped(demo, django_assert_num_queries):
    world = World()
    shops = [world.retailer() for _ in range(4)]
    orders = [world.order(shop, cartons=n + 1) for n, shop in enumerate(shops)]
    with django_assert_num_queries(1):
        listed = list(selectors.order_list(user=world.manager))
        assert [(o.pk, o.cartons, o.retailer.route.code) for o in listed] == [
            (o.pk, n + 1, world.route.code) for n, o in reversed(list(enumerate(orders)))
        ]
    assert list(selectors.order_list(user=demo["manager"], cycle=world.cycle)) == []
    assert list(selectors.order_list(user=world.manager, search=shops[2].licence_number)) == [
        orders[2]
    ]


def test_only_supervisors_and_admins_see_settlement_accounts(demo):
    assert can_view_settlement_data(demo["supervisor"]) is True
    assert can_view_settlement_data(demo["admin"]) is True
    assert can_view_settlement_data(demo["manager"]) is False
    assert selectors.visible_accounts(demo["manager"]).count() == 0
    city = selectors.visible_accounts(demo["supervisor"])
    assert city.count() == 278
    assert selectors.visible_accounts(demo["admin"]).count() == SettlementAccount.objects.count()
