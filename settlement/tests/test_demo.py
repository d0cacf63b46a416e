"""The demo's e-settlement history: 8 past cycles, figures the dashboard computes from data."""

from decimal import Decimal

import pytest
from django.db.models import Count, Exists, OuterRef, Q, Sum

from retailers.models import Retailer
from settlement import selectors
from settlement.models import BalanceReminder, Debit, Order, Rebate, RebateRun
from territory.models import Cycle

pytestmark = pytest.mark.django_db


def test_eight_past_cycles_of_orders_for_both_districts(demo):
    cycles = Cycle.objects.filter(orders__isnull=False).distinct()
    assert cycles.count() == 8
    assert set(cycles.values_list("status", flat=True)) == {"closed"}
    per_district = Order.objects.values("retailer__route__district__code").annotate(n=Count("pk"))
    assert {row["retailer__route__district__code"] for row in per_district} == {"YC-CQ", "YC-XZ"}
    online = Retailer.objects.filter(ordering_channel="online")
    assert set(Order.objects.filter(retailer__in=online).values_list("channel", flat=True)) == {
        "online"
    }
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


def test_the_dashboard_of_each_past_cycle_is_computed_from_the_data(demo):
    for cycle in Cycle.objects.filter(orders__isnull=False).distinct():
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
