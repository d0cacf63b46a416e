"""The demo's points, supplies and published run (issue: seed_demo adds them)."""

import pytest
from django.utils import timezone

from allocation import demo, selectors
from allocation.models import (
    AllocationLine,
    AllocationRun,
    PointsComputation,
    PointsEntry,
    RunStatus,
    ScarceSupply,
)
from allocation.tests.factories import demo_orders
from config.demo import DemoContext
from retailers.models import Retailer, RetailerStatus
from territory.selectors import cycle_for_day

pytestmark = pytest.mark.django_db


def seed() -> DemoContext:
    ctx = DemoContext(password="demo1234", today=timezone.localdate(), log=lambda _m: None)
    demo.seed(ctx)
    return ctx


def test_without_orders_the_demo_has_supplies_but_no_points_or_run(demo):
    cycle = cycle_for_day(timezone.localdate())
    assert ScarceSupply.objects.filter(cycle=cycle).count() == 5
    assert set(ScarceSupply.objects.values_list("brand__is_scarce", flat=True)) == {True}
    assert not AllocationRun.objects.exists()
    assert seed().created == {}


def test_with_orders_points_and_one_published_run_then_nothing_more(demo):
    today = timezone.localdate()
    cycle = cycle_for_day(today)
    before = selectors.previous_cycle(cycle)
    demo_orders([selectors.previous_cycle(before), before])
    ctx = seed()
    assert ctx.created["published runs"] == 1
    assert PointsComputation.objects.count() == 2
    assert PointsEntry.objects.count() == ctx.created["points entries"]
    assert PointsEntry.objects.filter(cycle=before).count() > 250
    run = AllocationRun.objects.get()
    assert (run.status, run.supply.brand.name, run.quantity) == (
        RunStatus.PUBLISHED,
        "中华(硬)",
        600,
    )
    assert run.allocated == 600
    assert run.published_by == demo["supervisor"]
    active = Retailer.objects.filter(
        route__district__branch__code="YC", status=RetailerStatus.ACTIVE
    ).count()
    assert AllocationLine.objects.filter(run=run).count() == active == 332
    assert selectors.fairness_issues(run) == (0, [])
    awards = selectors.published_awards(demo["manager"], cycle)
    assert sum(c for items in awards.values() for _b, c in items) == sum(
        AllocationLine.objects.filter(
            run=run, retailer__route__account_manager=demo["manager"]
        ).values_list("award", flat=True)
    )
    assert seed().created == {}
    assert AllocationRun.objects.count() == 1
