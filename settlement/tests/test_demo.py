"""The demo's e-settlement history: 8 past cycles of weekly orders, and before them 24 months
of monthly ones; figures the dashboard computes from data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from config.dates import week_start
from retailers.models import Retailer
from settlement import selectors, services
from settlement.demo import history_start
from settlement.models import BalanceReminder, Debit, Order, Rebate, RebateRun
from territory.models import Cycle

pytestmark = pytest.mark.django_db


def recent_cycles():
    """The 8 cycles of weekly orders: the last ones before this week."""
    this_week = week_start(timezone.localdate())
    return list(Cycle.objects.filter(end_date__lt=this_week).order_by("-start_date")[:8])


def test_eight_past_cycles_of_orders_for_both_districts(demo):
    cycles = Cycle.objects.filter(orders__isnull=False).distinct()
    assert set(cycles.values_list("status", flat=True)) == {"closed"}
    recent = recent_cycles()
    weekly = Order.objects.filter(cycle__in=recent).values("cycle").annotate(n=Count("pk"))
    assert len(weekly) == 8
    assert all(250 < row["n"] < 334 for row in weekly)
    per_district = Order.objects.values("retailer__route__district__code").annotate(n=Count("pk"))
    assert {row["retailer__route__district__code"] for row in per_district} == {"YC-CQ", "YC-XZ"}
    online = Retailer.objects.filter(ordering_channel="online")
    recent_online = Order.objects.filter(retailer__in=online, cycle__in=recent)
    assert set(recent_online.values_list("channel", flat=True)) == {"online"}
    # Some moved to online ordering during the older history: by phone (or at visits) before.
    per_retailer = (
        Order.objects.filter(retailer__in=online)
        .values("retailer")
        .annotate(
            last_offline=Max("ordered_at", filter=~Q(channel="online")),
            first_online=Min("ordered_at", filter=Q(channel="online")),
        )
    )
    movers = [row for row in per_retailer if row["last_offline"] is not None]
    assert len(movers) >= 3
    assert all(row["last_offline"] < row["first_online"] for row in movers)
    # Bigger shops order more.
    five = Order.objects.filter(retailer__star=5).aggregate(a=Sum("total_amount") / Count("pk"))
    two = Order.objects.filter(retailer__star=2).aggregate(a=Sum("total_amount") / Count("pk"))
    assert five["a"] > 3 * two["a"]


def test_debits_succeed_about_96_percent_and_fail_more_without_a_reminder(demo):
    first = Debit.objects.filter(attempt=1)
    totals = first.aggregate(n=Count("pk"), ok=Count("pk", filter=Q(status="success")))
    rate = Decimal(totals["ok"] * 100) / totals["n"]
    assert Decimal("95") <= rate <= Decimal("97.5")
    stats = {}
    for was_reminded in (True, False):
        rows = first.filter(order__in=orders_reminded(was_reminded))
        stats[was_reminded] = rows.filter(status="success").count() / rows.count()
    assert stats[True] > stats[False]


def orders_reminded(was_reminded: bool):
    exists = Exists(
        BalanceReminder.objects.filter(retailer=OuterRef("retailer"), cycle=OuterRef("cycle"))
    )
    return Order.objects.annotate(r=exists).filter(r=was_reminded)


def test_before_them_one_order_per_retailer_and_month_for_24_months(demo):
    first_weekly = min(c.start_date for c in recent_cycles())
    zone = timezone.get_default_timezone()
    earlier = Order.objects.filter(
        ordered_at__lt=dt.datetime.combine(first_weekly, dt.time.min, tzinfo=zone)
    )
    per_month = earlier.annotate(m=TruncMonth("ordered_at", tzinfo=zone)).values("retailer", "m")
    assert per_month.annotate(n=Count("pk")).aggregate(most=Max("n"))["most"] == 1
    oldest = timezone.localdate(earlier.aggregate(first=Min("ordered_at"))["first"])
    assert oldest.replace(day=1) == history_start(timezone.localdate())
    assert len({row["m"] for row in per_month}) >= 22
    # Every older order of an e-settlement account open by then was debited, the others not.
    debited = earlier.filter(debits__isnull=False).distinct()
    assert not debited.filter(retailer__payment_method="cash").exists()
    assert not debited.filter(
        retailer__settlement_account__opened_on__gt=TruncMonth("ordered_at") + dt.timedelta(days=31)
    ).exists()
    # Cash payers' orders stay placed; those of later e-settlement retailers from before their
    # account opened were paid in cash: the debit job must never take them.
    undebited = earlier.filter(debits__isnull=True)
    assert set(
        undebited.filter(status="placed").values_list("retailer__payment_method", flat=True)
    ) == {"cash"}
    assert undebited.filter(status="paid", retailer__payment_method="e_settlement").exists()
    assert not services.debitable_orders().filter(pk__in=earlier).exists()


def test_the_dashboard_of_each_past_cycle_is_computed_from_the_data(demo):
    for cycle in recent_cycles():
        data = selectors.settlement_dashboard(user=demo["supervisor"], cycle=cycle, district=None)
        assert 200 < data.total.attempted < 300
        assert Decimal("93") <= data.total.rate <= Decimal("99.5")
        assert (
            data.failures_count
            == Order.objects.filter(
                cycle=cycle, status="payment_failed", retailer__route__district__code="YC-CQ"
            ).count()
        )


def test_last_months_rebates_pay_back_every_non_online_order(demo):
    run = RebateRun.objects.order_by("-month").first()
    rebates = Rebate.objects.filter(month=run.month)
    assert rebates.count() == run.rebates > 250
    assert rebates.aggregate(s=Sum("amount"))["s"] == run.amount
    linked = Order.objects.filter(rebate__month=run.month)
    assert set(linked.values_list("channel", flat=True)) <= {"phone", "visit"}
    assert linked.aggregate(s=Sum("rebate_amount"))["s"] == run.amount
    assert not linked.filter(status__in=["payment_failed", "cancelled"]).exists()
