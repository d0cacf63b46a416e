"""The database goes away under a running job: the job retries and completes, once.

A real worker (``celery_worker``: prefork, ``acks_late``) on real PostgreSQL and Redis. Instead
of restarting the PostgreSQL server — which would cut every other session using this machine's
server — the test terminates the worker's own backend with ``pg_terminate_backend`` while the
job is inside the database. For the job that is the same event as a restart: its connection
dies mid-query (``OperationalError``: "terminating connection due to administrator command")
and the next use of it fails (``InterfaceError``). Both are retried with backoff
(``config.jobs.DB_RETRY``) on a new connection; the run then completes exactly once.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from allocation import services, tasks
from allocation.models import (
    AllocationLine,
    AllocationRun,
    RunEvent,
    RunEventKind,
    RunStatus,
    ScarceSupply,
)
from tests.worker import wait_until


def _waiting_backend() -> int | None:
    """The pid of another backend of this database blocked on a lock (the worker's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.keep_demo_allocation
def test_a_run_whose_connection_dies_mid_job_retries_and_completes_once(celery_worker, demo):
    supply = ScarceSupply.objects.filter(runs__isnull=False).order_by("pk").first()
    assert supply is not None, list(AllocationRun.objects.values_list("status", flat=True))
    run, created = services.allocation_run_request(
        supply=supply, by=demo["supervisor"], reason="fault test", enqueue=False
    )
    assert created
    assert run.status == RunStatus.COMPUTING

    # Hold the run's row: the job's claim (a conditional UPDATE) waits on it, inside the
    # database, where the test can cut its connection.
    with transaction.atomic():
        AllocationRun.objects.select_for_update().get(pk=run.pk)
        tasks.compute_run.delay(run.pk)
        pid = wait_until(_waiting_backend, timeout=60, message=celery_worker.log())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
        wait_until(
            lambda: "retry: Retry in" in celery_worker.log(),
            timeout=60,
            message=celery_worker.log(),
        )
    # The row is free again: the retry, on a new connection, completes the run.
    wait_until(
        lambda: AllocationRun.objects.get(pk=run.pk).status == RunStatus.DRAFT,
        timeout=90,
        message=celery_worker.log(),
    )
    log = celery_worker.log()
    assert "OperationalError" in log or "InterfaceError" in log
    run.refresh_from_db()
    assert run.attempts == 1  # the killed attempt's claim was rolled back with its connection
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.COMPUTED).count() == 1
    lines = AllocationLine.objects.filter(run=run)
    assert lines.count() > 0
    assert sum(lines.values_list("award", flat=True)) == run.allocated
