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
from config.demo import DemoContext
from retailers.models import Retailer, RetailerStatus
from territory.selectors import cycle_for_day

pytestmark = [pytest.mark.django_db, pytest.mark.keep_demo_allocation]


def seed() -> DemoContext:
    ctx = DemoContext(password="demo1234", today=timezone.localdate(), log=lambda _m: None)
    demo.seed(ctx)
    return ctx


def test_the_demo_has_points_supplies_and_one_published_run(demo):
    """settlement's demo orders give points for the past cycles and a published 中华 run."""
    today = timezone.localdate()
    cycle = cycle_for_day(today)
    before = selectors.previous_cycle(cycle)
    assert ScarceSupply.objects.filter(cycle=cycle).count() == 5
    assert set(ScarceSupply.objects.values_list("brand__is_scarce", flat=True)) == {True}
    assert PointsComputation.objects.filter(cycle=before).exists()
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


def test_seeding_again_creates_nothing(demo):
    entries = PointsEntry.objects.count()
    assert seed().created == {}
    assert AllocationRun.objects.count() == 1
    assert PointsEntry.objects.count() == entries
