"""Supplies and runs through the services (DESIGN §4, §6, §7), on the database."""

import datetime as dt
from fractions import Fraction

import pytest
from django.core.exceptions import PermissionDenied

from accounts.tests.factories import SupervisorFactory
from allocation import services
from allocation.models import (
    AllocationLine,
    AllocationRun,
    IneligibleReason,
    PointsComputation,
    PointsEntry,
    RunEvent,
    RunStatus,
    ScarceSupply,
)
from allocation.tests.factories import make_world
from config.errors import ApplicationError
from retailers.models import RetailerStatus, Violation
from territory.models import CycleStatus
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def computed(supply, by, **kwargs) -> AllocationRun:
    run, created = services.allocation_run_request(supply=supply, by=by, enqueue=False, **kwargs)
    assert created
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    return run


def awards(run) -> dict[str, int]:
    return dict(AllocationLine.objects.filter(run=run).values_list("retailer__name", "award"))


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def example(world):
    """DESIGN §4's worked example: S = 10, caps 4, points A 50, B 30, C 15, D 5."""
    shops = {
        name: world.retailer(points=p, name=name)
        for name, p in zip("ABCD", (50, 30, 15, 5), strict=False)
    }
    world.points()
    return world, shops


def test_the_worked_example_through_the_database(example):
    world, _shops = example
    run = computed(world.supply(quantity=10), world.supervisor)
    assert run.status == RunStatus.DRAFT
    assert awards(run) == {"A": 4, "B": 4, "C": 2, "D": 0}
    assert (run.allocated, run.unallocated, run.eligible, run.retailers) == (10, 0, 4, 4)
    assert (run.total_points, int(run.quota_den), run.units_per_point) == (100, 50, "3/25")
    lines = {line.retailer.name: line for line in AllocationLine.objects.filter(run=run)}
    quota = {n: Fraction(int(line.quota_num), int(run.quota_den)) for n, line in lines.items()}
    assert quota == {
        "A": 4,
        "B": Fraction(18, 5),
        "C": Fraction(9, 5),
        "D": Fraction(3, 5),
    }
    assert {
        n: (line.floor_units, line.remainder_rank, line.capped) for n, line in lines.items()
    } == {
        "A": (4, None, True),
        "B": (3, 2, False),
        "C": (1, 1, False),
        "D": (0, None, False),
    }
    assert {line.cap for line in lines.values()} == {4}
    assert len(run.inputs_hash) == 64
    assert list(RunEvent.objects.filter(run=run).values_list("kind", "by")) == [
        ("requested", world.supervisor.pk),
        ("started", None),
        ("computed", None),
    ]
    assert (run.attempts, run.progress) == (1, 100)


def test_guaranteed_minimum_is_shared_first_then_the_rest(example):
    world, _shops = example
    run = computed(world.supply(quantity=10, minimum=1), world.supervisor)
    # Minimums: 1 each (4 units); the other 6 by points with caps lowered to 3:
    # quotas A 3, B 1.8, C 0.9, D 0.3 -> 3, 1, 0, 0 and the 2 left to C then B.
    assert awards(run) == {"A": 4, "B": 3, "C": 2, "D": 1}
    assert run.minimum_allocated == 4
    assert set(AllocationLine.objects.filter(run=run).values_list("minimum_units", flat=True)) == {
        1
    }


def test_whole_cases(world):
    for name, points in (("A", 50), ("B", 30), ("C", 20)):
        world.retailer(points=points, name=name)
    world.points()
    supply = world.supply(
        quantity=200, unit=50, min_star=3, caps={3: 100, 4: 100, 5: 100, 1: None, 2: None}
    )
    run = computed(supply, world.supervisor)
    # U = 4, k = 2 each, s/P = 4/100: quotas 2, 1.2, 0.8 -> 2, 1, 0 and the last unit to C.
    assert awards(run) == {"A": 100, "B": 50, "C": 50}
    assert run.units_per_point == "1/25"


def test_supply_covering_every_cap_leaves_the_rest_unallocated(example):
    world, _shops = example
    run = computed(world.supply(quantity=25), world.supervisor)
    assert awards(run) == {"A": 4, "B": 4, "C": 4, "D": 4}
    assert (run.allocated, run.unallocated, run.units_per_point) == (16, 9, "")
    assert set(AllocationLine.objects.filter(run=run).values_list("capped", flat=True)) == {True}


def test_eligibility_and_the_reason_recorded_for_each_retailer(world):
    today_violation = world.cycle.start_date - dt.timedelta(weeks=2)
    old_violation = world.cycle.start_date - dt.timedelta(weeks=4, days=1)
    fine = world.retailer(points=10, star=4, name="fine")
    world.retailer(points=10, star=None, name="unrated")
    world.retailer(points=10, star=1, name="low star")
    recent = world.retailer(points=10, star=4, name="recent violation")
    Violation.objects.create(retailer=recent, occurred_on=today_violation, kind="price")
    old = world.retailer(points=10, star=4, name="old violation")
    Violation.objects.create(retailer=old, occurred_on=old_violation, kind="price")
    world.retailer(points=0, star=4, name="no points")
    asked = world.retailer(points=10, star=4, name="asked for 1")
    world.retailer(points=10, star=4, name="closed", status=RetailerStatus.CLOSED)
    world.retailer(points=10, star=4, name="other branch", route=RouteFactory())
    world.points()
    supply = world.supply(quantity=40, unit=2, min_star=2, caps={2: 2, 3: 4, 4: 6, 5: 6, 1: None})
    services.supply_request_record(supply=supply, retailer=asked, cartons=1, by=world.supervisor)
    run = computed(supply, world.supervisor)
    lines = {
        line.retailer.name: (line.eligible, line.reason, line.cap, line.award)
        for line in AllocationLine.objects.filter(run=run).select_related("retailer")
    }
    assert lines == {
        "fine": (True, "", 6, 6),
        "old violation": (True, "", 6, 6),
        "unrated": (False, IneligibleReason.UNRATED, 0, 0),
        "low star": (False, IneligibleReason.STAR_BELOW_MINIMUM, 0, 0),
        "recent violation": (False, IneligibleReason.VIOLATION, 6, 0),
        "no points": (False, IneligibleReason.NO_POINTS, 6, 0),
        "asked for 1": (False, IneligibleReason.CAP_BELOW_UNIT, 1, 0),
    }
    assert AllocationLine.objects.get(run=run, retailer=fine).requested is None
    assert AllocationLine.objects.get(run=run, retailer=asked).requested == 1
    assert fine.pk in set(AllocationLine.objects.values_list("retailer_id", flat=True))


def test_a_requested_quantity_lowers_the_cap(example):
    world, shops = example
    supply = world.supply(quantity=10)
    services.supply_request_record(
        supply=supply, retailer=shops["A"], cartons=2, by=world.supervisor
    )
    run = computed(supply, world.supervisor)
    # A is capped at 2; the 8 left go B 30, C 15, D 5 with caps 4: B 4, C 3, D 1.
    assert awards(run) == {"A": 2, "B": 4, "C": 3, "D": 1}


def test_same_inputs_give_the_same_lines_and_hash(example):
    world, shops = example
    supply = world.supply(quantity=10)
    first = computed(supply, world.supervisor)
    second = computed(supply, world.supervisor)
    assert second.number == 2
    assert second.inputs_hash == first.inputs_hash

    def snapshot(run):
        return list(
            AllocationLine.objects.filter(run=run)
            .order_by("retailer_id")
            .values_list(
                "retailer_id",
                "points",
                "cap",
                "eligible",
                "reason",
                "minimum_units",
                "quota_num",
                "floor_units",
                "remainder_rank",
                "capped",
                "award",
            )
        )

    assert snapshot(second) == snapshot(first)
    first.refresh_from_db()
    assert (first.status, first.superseded_by) == (RunStatus.SUPERSEDED, second)
    services.supply_request_record(
        supply=supply, retailer=shops["D"], cartons=1, by=world.supervisor
    )
    third = computed(supply, world.supervisor)
    assert third.inputs_hash != first.inputs_hash


def test_lines_written_in_chunks_are_the_lines_written_at_once(world, monkeypatch):
    for i in range(7):
        world.retailer(points=10 * i + 3, name=f"shop {i}")
    world.points()
    supply = world.supply(quantity=20, minimum=1)
    fields = [
        f.attname for f in AllocationLine._meta.concrete_fields if f.attname not in ("id", "run_id")
    ]

    def lines(run):
        return list(
            AllocationLine.objects.filter(run=run).order_by("retailer_id").values_list(*fields)
        )

    whole = lines(computed(supply, world.supervisor))
    for rows in (1, 3):  # every line a chunk; a last chunk shorter than the others
        monkeypatch.setattr(services, "COPY_CHUNK_ROWS", rows)
        assert lines(computed(supply, world.supervisor)) == whole
    assert len(whole) == 7
    assert sum(line[fields.index("award")] for line in whole) == 20


def test_a_request_while_a_run_computes_returns_that_run(example):
    world, _shops = example
    supply = world.supply()
    run, created = services.allocation_run_request(
        supply=supply, by=world.supervisor, enqueue=False
    )
    again, created_again = services.allocation_run_request(
        supply=supply, by=world.supervisor, enqueue=False
    )
    assert (created, created_again, again) == (True, False, run)
    assert AllocationRun.objects.filter(supply=supply).count() == 1


def test_computing_twice_does_the_work_once(example):
    world, _shops = example
    run = computed(world.supply(), world.supervisor)
    assert services.allocation_run_compute(run_id=run.pk) is None
    assert services.allocation_run_compute(run_id=987654321) is None
    run.refresh_from_db()
    assert run.attempts == 1
    assert AllocationLine.objects.filter(run=run).count() == 4


def assert_no_run(supply):
    assert not AllocationRun.objects.filter(supply=supply).exists()
    assert not AllocationLine.objects.filter(run__supply=supply).exists()


def test_a_cycle_without_points_is_refused(world):
    world.retailer(points=10)
    supply = world.supply()
    with pytest.raises(ApplicationError, match="have not been computed yet"):
        services.allocation_run_request(supply=supply, by=world.supervisor)
    assert_no_run(supply)


def test_no_eligible_retailer_is_refused(world):
    world.retailer(points=0)
    world.retailer(points=10, star=None)
    world.points()
    supply = world.supply()
    with pytest.raises(ApplicationError, match="No retailer of the branch is eligible"):
        services.allocation_run_request(supply=supply, by=world.supervisor)
    assert_no_run(supply)


def test_a_supply_made_invalid_behind_the_services_back_is_refused(example):
    world, _shops = example
    supply = world.supply()
    ScarceSupply.objects.filter(pk=supply.pk).update(cap_star_3=None)
    supply.refresh_from_db()
    with pytest.raises(ApplicationError, match="A cap is needed") as caught:
        services.allocation_run_request(supply=supply, by=world.supervisor)
    assert "cap_star_3" in caught.value.extra
    assert_no_run(supply)


def test_inputs_that_turn_bad_while_queued_fail_the_run_without_lines(example):
    world, _shops = example
    supply = world.supply()
    run, _created = services.allocation_run_request(
        supply=supply, by=world.supervisor, enqueue=False
    )
    PointsEntry.objects.filter(cycle=world.before).update(points=0)
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "No retailer is eligible" in run.error
    assert not AllocationLine.objects.filter(run=run).exists()
    assert RunEvent.objects.filter(run=run, kind="failed").count() == 1
    # A failed run does not block the next one.
    PointsComputation.objects.filter(cycle=world.before).delete()
    world.points()
    assert computed(supply, world.supervisor).status == RunStatus.DRAFT


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": -1}, "quantity", "cannot be negative"),
        ({"unit": 0}, "unit", "at least 1 carton"),
        ({"quantity": 30, "unit": 50}, "unit", "larger than the quantity"),
        ({"quantity": 120, "unit": 50}, "quantity", "not a whole number of units"),
        ({"caps": {1: None, 2: 4, 3: 4, 4: 4, 5: 4}}, "cap_star_1", "every star from 1"),
        ({"min_star": 4, "caps": {4: 4, 5: None}}, "cap_star_5", "every star from 4"),
        ({"unit": 2, "caps": {1: 4, 2: 4, 3: 3, 4: 4, 5: 4}}, "cap_star_3", "whole number"),
        ({"caps": {1: 0, 2: 4, 3: 4, 4: 4, 5: 4}}, "cap_star_1", "at least one"),
        ({"caps": {1: -2, 2: 4, 3: 4, 4: 4, 5: 4}}, "cap_star_1", "cannot be negative"),
        ({"minimum": -1}, "minimum", "cannot be negative"),
        ({"unit": 2, "minimum": 1, "caps": dict.fromkeys(range(1, 6), 4)}, "minimum", "units"),
        ({"min_star": 6}, "min_star", "1 to 5"),
        ({"violation_cycles": 53}, "violation_cycles", "0 to 52"),
    ],
)
def test_bad_supplies_get_a_message_on_the_field_and_nothing_is_saved(
    world, changes, field, message
):
    with pytest.raises(ApplicationError) as caught:
        world.supply(**changes)
    assert field in caught.value.extra
    assert message in " ".join(caught.value.extra[field])
    assert not ScarceSupply.objects.filter(branch=world.branch).exists()


def test_caps_below_the_minimum_star_are_not_needed(world):
    supply = world.supply(min_star=4, caps={4: 4, 5: 6, 1: None, 2: None, 3: None})
    assert supply.caps_by_star == {1: None, 2: None, 3: None, 4: 4, 5: 6}


def test_a_supply_once_per_cycle_and_brand_and_only_for_open_cycles(world):
    world.supply()
    with pytest.raises(ApplicationError, match="already a supply"):
        world.supply()
    with pytest.raises(ApplicationError, match="closed"):
        world.supply(cycle=world.before)
    assert ScarceSupply.objects.filter(branch=world.branch).count() == 1


def test_only_the_branch_supervisors_and_admins_manage_supplies(world, demo):
    with pytest.raises(PermissionDenied):
        world.supply(by=world.manager)
    with pytest.raises(PermissionDenied):
        world.supply(by=SupervisorFactory())
    with pytest.raises(PermissionDenied):
        world.supply(by=demo["supervisor"])
    assert world.supply(by=demo["admin"]).created_by == demo["admin"]


def test_update_keeps_runs_as_they_were_computed(example):
    world, _shops = example
    supply = world.supply(quantity=10)
    run = computed(supply, world.supervisor)
    params = services.SupplyParams(
        quantity=8,
        unit=1,
        min_star=1,
        caps=dict.fromkeys(range(1, 6), 2),
        minimum=0,
        violation_cycles=3,
    )
    services.supply_update(supply=supply, params=params, by=world.supervisor)
    run.refresh_from_db()
    assert (run.quantity, run.caps_by_star[3]) == (10, 4)
    assert computed(supply, world.supervisor).allocated == 8
    with pytest.raises(ApplicationError):
        services.supply_update(
            supply=supply,
            params=services.SupplyParams(
                quantity=-5, unit=1, min_star=1, caps={}, minimum=0, violation_cycles=3
            ),
            by=world.supervisor,
        )
    supply.refresh_from_db()
    assert supply.quantity == 8


def test_review_lifecycle_with_who_and_when(example):
    world, _shops = example
    supply = world.supply()
    run = computed(supply, world.supervisor)
    with pytest.raises(ApplicationError, match="Only an approved run can be published"):
        services.allocation_run_publish(run=run, by=world.supervisor)
    with pytest.raises(PermissionDenied):
        services.allocation_run_approve(run=run, by=world.manager)
    with pytest.raises(PermissionDenied):
        services.allocation_run_approve(run=run, by=SupervisorFactory())
    services.allocation_run_approve(run=run, by=world.supervisor)
    with pytest.raises(ApplicationError, match="Only a draft run can be approved"):
        services.allocation_run_approve(run=run, by=world.supervisor)
    services.allocation_run_publish(run=run, by=world.supervisor)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert (run.approved_by, run.published_by) == (world.supervisor, world.supervisor)
    assert run.approved_at <= run.published_at
    assert list(RunEvent.objects.filter(run=run).values_list("kind", flat=True)) == [
        "requested",
        "started",
        "computed",
        "approved",
        "published",
    ]


def test_a_published_run_is_superseded_only_by_a_new_run_with_a_reason(example):
    world, _shops = example
    supply = world.supply()
    old = computed(supply, world.supervisor)
    services.allocation_run_approve(run=old, by=world.supervisor)
    services.allocation_run_publish(run=old, by=world.supervisor)
    lines_before = list(AllocationLine.objects.filter(run=old).values_list("id", "award"))
    with pytest.raises(ApplicationError, match="give a reason") as caught:
        services.allocation_run_request(supply=supply, by=world.supervisor, reason="  ")
    assert "reason" in caught.value.extra
    assert AllocationRun.objects.filter(supply=supply).count() == 1
    new = computed(supply, world.supervisor, reason="供货量更正")
    assert (new.supersedes, new.reason, new.status) == (old, "供货量更正", RunStatus.DRAFT)
    old.refresh_from_db()
    assert old.status == RunStatus.PUBLISHED  # still what managers see until the new one is
    services.allocation_run_approve(run=new, by=world.supervisor)
    old.refresh_from_db()
    assert old.status == RunStatus.PUBLISHED
    services.allocation_run_publish(run=new, by=world.supervisor)
    old.refresh_from_db()
    assert (old.status, old.superseded_by) == (RunStatus.SUPERSEDED, new)
    assert list(AllocationLine.objects.filter(run=old).values_list("id", "award")) == lines_before
    assert RunEvent.objects.get(run=old, kind="superseded").by == world.supervisor


def test_approving_a_newer_draft_supersedes_an_approved_one(example):
    world, _shops = example
    supply = world.supply()
    first = computed(supply, world.supervisor)
    services.allocation_run_approve(run=first, by=world.supervisor)
    second = computed(supply, world.supervisor, reason="重新计算")
    services.allocation_run_approve(run=second, by=world.supervisor)
    first.refresh_from_db()
    assert (first.status, first.superseded_by) == (RunStatus.SUPERSEDED, second)
    with pytest.raises(ApplicationError):
        services.allocation_run_publish(run=first, by=world.supervisor)


def test_a_draft_cannot_be_approved_while_a_newer_run_computes(example):
    world, _shops = example
    supply = world.supply()
    first = computed(supply, world.supervisor)
    services.allocation_run_request(supply=supply, by=world.supervisor, enqueue=False)
    with pytest.raises(ApplicationError, match="newer run"):
        services.allocation_run_approve(run=first, by=world.supervisor)
    first.refresh_from_db()
    assert first.status == RunStatus.DRAFT


def test_runs_for_a_cycle_make_one_run_per_supply_and_skip_bad_ones(example):
    world, _shops = example
    good = world.supply()
    other = world.supply(brand=world.class1, min_star=5, caps={5: 4})
    ScarceSupply.objects.filter(pk=other.pk).update(cap_star_5=None)
    runs = services.allocation_runs_for_cycle(cycle=world.cycle)
    assert [r.supply_id for r in runs] == [good.pk]
    assert services.allocation_runs_for_cycle(cycle=world.cycle) == []
    assert AllocationRun.objects.filter(supply__cycle=world.cycle).count() == 1


def test_supply_request_outside_the_branch_is_refused(world):
    supply = world.supply()
    stranger = world.retailer(route=RouteFactory())
    with pytest.raises(ApplicationError, match="not in the supply's branch"):
        services.supply_request_record(
            supply=supply, retailer=stranger, cartons=1, by=world.supervisor
        )
    shop = world.retailer()
    services.supply_request_record(supply=supply, retailer=shop, cartons=3, by=world.supervisor)
    services.supply_request_record(supply=supply, retailer=shop, cartons=2, by=world.supervisor)
    assert list(supply.requests.values_list("cartons", flat=True)) == [2]
    services.supply_request_record(supply=supply, retailer=shop, cartons=None, by=world.supervisor)
    assert not supply.requests.exists()


def test_cycle_status_is_checked_on_update(world):
    supply = world.supply()
    world.cycle.status = CycleStatus.CLOSED
    world.cycle.save()
    supply.refresh_from_db()
    params = services.SupplyParams(
        quantity=5,
        unit=1,
        min_star=1,
        caps=dict.fromkeys(range(1, 6), 2),
        minimum=0,
        violation_cycles=3,
    )
    with pytest.raises(ApplicationError, match="closed"):
        services.supply_update(supply=supply, params=params, by=world.supervisor)
