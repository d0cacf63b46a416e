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

import psycopg2
import pytest
from django.db import connection

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


def _params() -> dict:
    db = connection.settings_dict
    return {
        "dbname": db["NAME"],
        "user": db["USER"],
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
    }


def _waiting_backend(holder) -> int | None:
    """The pid of a backend of this database blocked on a lock (the worker's job)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid NOT IN (pg_backend_pid(), %s) AND wait_event_type = 'Lock'",
            [holder.info.backend_pid],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _activity() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, datname, state, wait_event_type, wait_event, left(query, 120) "
            "FROM pg_stat_activity WHERE backend_type = 'client backend'"
        )
        return "\n".join(map(str, cursor.fetchall())) + "\n"


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

    # Hold the run's row from a connection of our own: the job's claim (a conditional UPDATE)
    # waits on it, inside the database, where the test can cut the job's connection.
    holder = psycopg2.connect(**_params())
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM allocation_allocationrun WHERE id = %s FOR UPDATE", [run.pk]
            )
        tasks.compute_run.delay(run.pk)
        pid = wait_until(
            lambda: _waiting_backend(holder), timeout=60, message=_activity() + celery_worker.log()
        )
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
        wait_until(
            lambda: "retry: Retry in" in celery_worker.log(),
            timeout=60,
            message=celery_worker.log(),
        )
    finally:
        holder.rollback()
        holder.close()
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


def test_every_task_retries_lost_connections_with_bounded_backoff():
    """What makes the fault above survivable, for every task of the project."""
    from django.db import InterfaceError, OperationalError

    from config.celery import app

    ours = [t for name, t in app.tasks.items() if not name.startswith(("celery.", "tests."))]
    assert len(ours) >= 10
    for task in ours:
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), task.name
        assert task.retry_backoff, task.name
        assert task.retry_backoff_max <= 60, task.name
        assert 0 < task.max_retries <= 10, task.name
