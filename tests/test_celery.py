"""Celery settings audited from the effective configuration; poison messages; heartbeats."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from config.celery import app
from config.checks import celery_limit_errors
from config.jobs import ProjectTask, delivery_key
from config.models import DeadLetter, Heartbeat
from tests.worker import wait_until

PROJECT = ("accounts.", "catalog.", "territory.", "retailers.", "settlement.", "allocation.",
           "visits.", "config.")  # fmt: skip


def project_tasks():
    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if name.startswith(PROJECT)}
    assert len(tasks) >= 10, sorted(tasks)
    return tasks


def test_the_effective_configuration_survives_a_worker_death():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_hijack_root_logger is False
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility == 3600
    # A task must be over well before its message could be handed to a second worker.
    assert conf.task_time_limit <= visibility * 0.5
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert settings.CELERY_MAX_DELIVERIES == 3


def test_every_project_task_acks_late_and_retries_a_bounded_number_of_times_with_backoff():
    for name, task in project_tasks().items():
        assert isinstance(task, ProjectTask), name
        assert callable(task.delay_on_commit), name
        assert task.acks_late is True, name
        assert task.max_retries is not None, name
        assert 0 <= task.max_retries <= 10, name
        if getattr(task, "autoretry_for", ()):
            assert task.retry_backoff, name
            # Celery's defaults when a task does not say: 600 s at most, with jitter.
            assert getattr(task, "retry_backoff_max", 600) <= 3600, name
            assert getattr(task, "retry_jitter", True) is True, name


def test_the_heartbeat_is_scheduled_and_expires_unrun():
    entry = settings.CELERY_BEAT_SCHEDULE["config-heartbeat"]
    assert entry["task"] == "config.tasks.heartbeat"
    assert entry["schedule"] == 60
    assert entry["options"] == {"expires": 60}
    assert "config.tasks.heartbeat" in project_tasks()


@pytest.mark.parametrize(
    ("limits", "problems"),
    [
        ({"time_limit": 900, "soft_time_limit": 840, "visibility_timeout": 3600}, []),
        (
            {"time_limit": 2000, "soft_time_limit": 1900, "visibility_timeout": 3600},
            ["CELERY_TASK_TIME_LIMIT (2000) must be at most half of the broker's "
             "visibility_timeout (3600)."],
        ),
        (
            {"time_limit": 900, "soft_time_limit": 900, "visibility_timeout": 3600},
            ["CELERY_TASK_SOFT_TIME_LIMIT (900) must be set below CELERY_TASK_TIME_LIMIT (900)."],
        ),
        (
            {"time_limit": None, "soft_time_limit": None, "visibility_timeout": 3600},
            ["CELERY_TASK_TIME_LIMIT must be set.",
             "CELERY_TASK_SOFT_TIME_LIMIT (None) must be set below CELERY_TASK_TIME_LIMIT (None)."],
        ),
    ],
)  # fmt: skip
def test_the_deploy_check_of_the_limits(limits, problems):
    assert celery_limit_errors(**limits) == problems


def test_the_heartbeat_task_records_a_heartbeat(db):
    from config.tasks import heartbeat

    heartbeat.delay()
    beat = Heartbeat.objects.get(name="worker")
    assert abs(time.time() - beat.at.timestamp()) < 5


@pytest.fixture
def json_worker_log(monkeypatch):
    """The worker started by ``celery_worker`` writes JSON lines (LOG_FORMAT=json)."""
    monkeypatch.setenv("LOG_FORMAT", "json")


def worker_events(worker) -> list[dict]:
    return [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_poison_message_runs_at_most_three_times_then_is_a_dead_letter(
    json_worker_log, celery_worker, tmp_path
):
    from tests.celery_tasks import add, crash

    marker = tmp_path / "runs.txt"
    result = crash.delay(str(marker))
    letter = wait_until(
        lambda: DeadLetter.objects.filter(task_id=result.id).first(),
        timeout=60,
        message=f"no dead letter:\n{celery_worker.log()}",
    )
    assert (letter.task_name, letter.deliveries, letter.retries) == (
        "tests.celery_tasks.crash",
        4,
        0,
    )
    assert str(marker) in letter.args
    # The worker is still there and takes new work; the poison is not delivered again.
    assert add.delay(1, 2).id
    wait_until(
        lambda: any(e.get("event") == "task_succeeded" for e in worker_events(celery_worker)),
        timeout=30,
        message=celery_worker.log(),
    )
    time.sleep(2)
    runs = Path(marker).read_text().split()
    assert len(runs) == 3, celery_worker.log()
    assert len(set(runs)) == 3  # three pool processes, each killed
    assert DeadLetter.objects.count() == 1

    events = worker_events(celery_worker)
    crash_events = [e for e in events if e.get("task_id") == result.id]
    assert [e["event"] for e in crash_events if e["event"] != "task_started"] == [
        "task_redelivered",
        "task_redelivered",
        "task_dead_lettered",
    ]
    dead = crash_events[-1]
    assert (dead["level"], dead["deliveries"], dead["logger"]) == ("ERROR", 4, "jobs")
    assert dead["time"].endswith("Z")
    # A run that ended forgets its count; the dead letter's stays until it expires.
    client = redis.Redis.from_url(celery_worker.broker_url)
    assert client.get(delivery_key(result.id, 0)) == b"4"
    done = [e for e in events if e.get("event") == "task_succeeded"]
    assert client.exists(delivery_key(done[0]["task_id"], 0)) == 0


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_beats_and_health_sees_it(celery_worker, client, settings):
    from config.tasks import heartbeat

    response = client.get("/health/")
    assert response.json()["checks"]["worker"] == "missing"
    heartbeat.delay()
    wait_until(
        lambda: Heartbeat.objects.filter(name="worker").exists(),
        timeout=30,
        message=celery_worker.log(),
    )
    beat = Heartbeat.objects.get(name="worker")
    assert beat.hostname.startswith("celery@")
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"] == "ok"
    assert 0 <= body["worker_heartbeat_age_seconds"] < 30
