"""The jobs (DESIGN §6): points then runs at cycle close; one run per supply however often it is
triggered; a crash leaves no half-written run. The last two with a real worker (RECIPES.md)."""

import threading

import kombu.pools
import pytest
from django.db import connection

from allocation import services, tasks
from allocation.models import AllocationLine, AllocationRun, RunEvent, RunStatus
from allocation.tests.factories import make_world, order
from tests.worker import wait_until


def shops(world, n: int) -> None:
    for i in range(n):
        world.retailer(points=5 + (i * 7) % 60, star=1 + i % 5, name=f"shop{i}")


@pytest.mark.django_db
def test_points_task_then_runs_of_the_next_cycle(django_capture_on_commit_callbacks):
    world = make_world()
    shops(world, 6)
    supply = world.supply()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.compute_points.delay(world.before.pk, world.supervisor.pk).get() == 6
    run = AllocationRun.objects.get(supply=supply)
    assert (run.status, run.allocated, run.requested_by) == (RunStatus.DRAFT, 10, None)


@pytest.mark.django_db
def test_close_cycles_job(django_capture_on_commit_callbacks):
    world = make_world()
    shops(world, 3)
    supply = world.supply()
    today = world.cycle.start_date.isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        computed = tasks.close_cycles.delay(today).get()
    assert computed >= 1
    assert AllocationRun.objects.get(supply=supply).status == RunStatus.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.close_cycles.delay(today).get() == 0
    assert AllocationRun.objects.filter(supply=supply).count() == 1


@pytest.mark.django_db
def test_a_task_that_gives_up_marks_the_run_failed(monkeypatch):
    world = make_world()
    shops(world, 3)
    world.points()
    run, _created = services.allocation_run_request(
        supply=world.supply(), by=world.supervisor, enqueue=False
    )

    def broken(run):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_compute", broken)
    result = tasks.compute_run.apply(args=[run.pk], throw=False)
    assert isinstance(result.result, RuntimeError)
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, "RuntimeError: disk on fire")
    assert not AllocationLine.objects.filter(run=run).exists()


@pytest.fixture
def _kombu_pools():
    """Empty kombu's process-wide producer pools before and after (torn down after the worker
    fixture): ``tests.worker.point_app_at`` closes the connection pool that the pool registered
    for the broker URL still holds, so the next real-worker test of the session would fail
    with "Acquire on closed pool" (reported to the lead: point_app_at should reset them)."""
    kombu.pools.reset()
    yield
    kombu.pools.reset()


@pytest.fixture
def worker(_kombu_pools, celery_worker):
    return celery_worker


def _in_threads(n: int, target) -> list:
    results, errors = [], []
    barrier = threading.Barrier(n)

    def work():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.postgres
@pytest.mark.redis
def test_sixteen_concurrent_triggers_make_one_run_per_supply(worker):
    world = make_world()
    shops(world, 40)
    world.points()
    supplies = [world.supply(), world.supply(brand=world.class1)]
    # 16 requests at once in threads, each with its own database connection...
    results = _in_threads(
        16, lambda: [r.pk for r in services.allocation_runs_for_cycle(cycle=world.cycle)]
    )
    assert sorted(pk for made in results for pk in made) == sorted(
        AllocationRun.objects.values_list("pk", flat=True)
    )
    # ...and 16 deliveries of the job to the real worker.
    for _ in range(16):
        tasks.run_cycle.delay(world.cycle.pk)
    wait_until(
        lambda: worker.log().count("allocation.tasks.run_cycle[") >= 32,
        timeout=60,
        message=worker.log(),
    )
    wait_until(
        lambda: not AllocationRun.objects.filter(status=RunStatus.COMPUTING).exists(),
        timeout=60,
        message=worker.log(),
    )
    for supply in supplies:
        run = AllocationRun.objects.get(supply=supply)
        assert (run.status, run.attempts) == (RunStatus.DRAFT, 1)
        assert AllocationLine.objects.filter(run=run).count() == 40
    assert RunEvent.objects.filter(kind="computed").count() == 2


@pytest.mark.postgres
@pytest.mark.redis
def test_concurrent_computations_of_one_run_do_the_work_once(worker):
    world = make_world()
    shops(world, 30)
    world.points()
    run, _created = services.allocation_run_request(
        supply=world.supply(), by=world.supervisor, enqueue=False
    )
    done = _in_threads(8, lambda: services.allocation_run_compute(run_id=run.pk))
    for _ in range(8):
        tasks.compute_run.delay(run.pk)
    wait_until(lambda: worker.log().count("succeeded") >= 8, message=worker.log())
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.DRAFT, 1)
    assert sum(r is not None for r in done) == 1
    assert AllocationLine.objects.filter(run=run).count() == 30
    assert "nothing to do" in worker.log()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_run_leaves_no_lines_and_the_run_completes_once(worker, monkeypatch):
    world = make_world()
    shops(world, 50)
    world.points()
    order(world.retailer(points=0, name="late"), world.cycle, (world.class1, 1))
    worker.stop()
    monkeypatch.setenv("ALLOCATION_COMPUTE_DELAY", "30")
    worker.start()
    supply = world.supply()
    run, _created = services.allocation_run_request(supply=supply, by=world.supervisor)
    # The worker has written every line and waits before committing them.
    wait_until(
        lambda: AllocationRun.objects.get(pk=run.pk).progress == 90,
        timeout=30,
        message=worker.log(),
    )
    wait_until(lambda: _copy_done(run.pk), timeout=10, message="the COPY did not happen")
    assert AllocationLine.objects.filter(run=run).count() == 0
    worker.kill()
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.COMPUTING, 1)
    assert AllocationLine.objects.filter(run=run).count() == 0
    monkeypatch.setenv("ALLOCATION_COMPUTE_DELAY", "0")
    worker.start()
    wait_until(
        lambda: AllocationRun.objects.get(pk=run.pk).status == RunStatus.DRAFT,
        timeout=60,
        message=worker.log(),
    )
    run.refresh_from_db()
    assert run.attempts == 2
    assert AllocationLine.objects.filter(run=run).count() == 51
    assert list(RunEvent.objects.filter(run=run).values_list("kind", flat=True)) == [
        "requested",
        "started",
        "started",
        "computed",
    ]
    assert AllocationRun.objects.filter(supply=supply).count() == 1


def _copy_done(run_id: int) -> bool:
    """Whether another session is inside a transaction that ran the COPY of the lines."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
            " AND query LIKE 'COPY %%allocation_allocationline%%' AND datname = current_database()"
        )
        return cursor.fetchone()[0] == 1
