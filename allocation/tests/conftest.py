import pytest

from allocation.models import (
    AllocationLine,
    AllocationRun,
    PointsComputation,
    PointsEntry,
    RunEvent,
    ScarceSupply,
    SupplyRequest,
)


def clear_allocation_data() -> None:
    """Remove the demo's points, supplies and runs (inside the test's transaction)."""
    AllocationRun.objects.update(supersedes=None, superseded_by=None)
    for model in (
        AllocationLine,
        RunEvent,
        AllocationRun,
        SupplyRequest,
        ScarceSupply,
        PointsEntry,
        PointsComputation,
    ):
        model.objects.all().delete()


@pytest.fixture(autouse=True)
def _own_allocation_world(request):
    """Allocation tests build their own points, supplies and runs on the demo district.

    The demo seeds points, five supplies and a published run for the current cycle; tests
    that count runs or compute the same cycle start without them, unless they are about the
    demo itself (``test_demo.py``).
    """
    if request.node.get_closest_marker("keep_demo_allocation") or not (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or request.node.get_closest_marker("django_db")
    ):
        yield
        return
    request.getfixturevalue("demo")
    clear_allocation_data()
    yield
