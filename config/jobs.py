"""What every Celery task gets without asking: a delivery limit and a line in the ``jobs`` log.

**Poison messages.** With ``acks_late`` and ``reject_on_worker_lost`` a message whose worker
dies is delivered again — which is what makes a crash harmless, and what would make a message
that kills its worker (a segfault, an out-of-memory kill, an endless loop hit by the hard time
limit of the pool) crash the workers forever. :class:`ProjectTask`, the base class of every task
of the app (``Celery(task_cls=…)``), counts deliveries in Redis per task id and retry number
before the task body runs; the delivery after ``CELERY_MAX_DELIVERIES`` (3) is not run: it is
recorded as a :class:`config.models.DeadLetter`, logged (``task_dead_lettered``), and
acknowledged. A run that ends in any way (success, failure, retry) forgets its count. A
``task.retry()`` is a new message with a new retry number, so retries count on their own.

**Job logs.** Celery's signals write ``task_started``, ``task_succeeded`` (with
``duration_ms``), ``task_retry`` and ``task_failed`` to the ``jobs`` logger, with the task's
name and id (``config.logs``).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import redis
from celery import Task, signals
from celery.contrib.django.task import DjangoTask
from celery.exceptions import Ignore
from django.db import InterfaceError, OperationalError

from config.logs import JOBS, log_event, redact

#: Database errors a retry can cure: the server restarted or went away, a connection was
#: terminated (``pg_terminate_backend``), a failover. ``InterfaceError`` is what the next use of
#: a connection that died under a job raises. Every task retries on these, with exponential
#: backoff (1, 2, 4 … seconds, jittered, at most ``RETRY_BACKOFF_MAX``), a bounded number of
#: times (``tests/test_celery.py``; the fault test is ``allocation/tests/test_db_fault.py``).
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
RETRY_BACKOFF_MAX = 60
#: The retry options of a task that only touches the database.
DB_RETRY = {
    "autoretry_for": TRANSIENT_DB_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
}

logger = logging.getLogger(__name__)

_started: dict[str, float] = {}
_clients: dict[tuple[int, str], redis.Redis] = {}


def _redis(app: Any) -> redis.Redis | None:
    """A client for the broker's Redis, one per process (never shared across a fork)."""
    url = str(app.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://")):
        return None
    key = (os.getpid(), url)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _clients[key]


def delivery_key(task_id: str, retries: int) -> str:
    return f"celery-deliveries:{task_id}:{retries}"


def _ttl(app: Any) -> int:
    visibility = (app.conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    # A message comes back at the latest a visibility timeout after its worker died.
    return max(86400, 4 * int(visibility))


def _settings_value(name: str, default: int) -> int:
    from django.conf import settings

    return int(getattr(settings, name, default))


class ProjectTask(DjangoTask):
    """The base class of the project's tasks (see the module docstring).

    Celery's Django task (``delay_on_commit``) with a delivery limit.
    """

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        request = self.request
        if request.is_eager or not task_id or not request.delivery_info:
            return
        client = _redis(self.app)
        if client is None:
            return
        retries = request.retries or 0
        key = delivery_key(task_id, retries)
        try:
            with client.pipeline() as pipe:
                deliveries, _ = pipe.incr(key).expire(key, _ttl(self.app)).execute()
        except redis.RedisError:
            logger.warning("Delivery count unavailable for %s", task_id, exc_info=True)
            return
        limit = _settings_value("CELERY_MAX_DELIVERIES", 3)
        if deliveries > limit:
            dead_letter_record(
                task=self,
                task_id=task_id,
                retries=retries,
                deliveries=deliveries,
                args=args,
                kwargs=kwargs,
            )
            raise Ignore()
        if deliveries > 1:
            log_event(
                JOBS,
                "task_redelivered",
                level=logging.WARNING,
                task_name=self.name,
                task_id=task_id,
                retries=retries,
                deliveries=deliveries,
            )


def dead_letter_record(
    *, task: Task, task_id: str, retries: int, deliveries: int, args: Any, kwargs: Any
) -> None:
    """Keep the message that will not be run again, and say so loudly in the log."""
    from django.db import DatabaseError

    from config.models import DeadLetter

    log_event(
        JOBS,
        "task_dead_lettered",
        level=logging.ERROR,
        task_name=task.name,
        task_id=task_id,
        retries=retries,
        deliveries=deliveries,
    )
    try:
        DeadLetter.objects.get_or_create(
            task_id=task_id,
            retries=retries,
            defaults={
                "task_name": task.name,
                "deliveries": deliveries,
                "args": redact(repr(args))[:2000],
                "kwargs": redact(repr(kwargs))[:2000],
                "hostname": task.request.hostname or "",
            },
        )
    except DatabaseError:
        # The log line above is the record then; the message is still not run again.
        logger.exception("Could not store the dead letter of %s", task_id)


def _fields(task: Any, task_id: str | None) -> dict[str, Any]:
    return {
        "task_name": getattr(task, "name", None),
        "task_id": task_id,
        "retries": getattr(getattr(task, "request", None), "retries", None),
    }


def _duration_ms(task_id: str | None, *, pop: bool) -> int | None:
    started = _started.pop(task_id, None) if pop else _started.get(task_id)
    return None if started is None else round((time.monotonic() - started) * 1000)


@signals.task_prerun.connect(dispatch_uid="config.jobs.prerun")
def _on_prerun(sender: Any = None, task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()
    log_event(JOBS, "task_started", **_fields(task, task_id))


@signals.task_postrun.connect(dispatch_uid="config.jobs.postrun")
def _on_postrun(
    sender: Any = None,
    task_id: str | None = None,
    task: Any = None,
    state: str | None = None,
    **_: Any,
) -> None:
    duration = _duration_ms(task_id, pop=True)
    if state == "SUCCESS":
        log_event(JOBS, "task_succeeded", duration_ms=duration, **_fields(task, task_id))
    request = getattr(task, "request", None)
    if task_id and request is not None and not request.is_eager and state != "IGNORED":
        client = _redis(task.app)
        if client is not None:
            try:
                client.delete(delivery_key(task_id, request.retries or 0))
            except redis.RedisError:
                logger.warning("Could not clear the delivery count of %s", task_id, exc_info=True)


@signals.task_failure.connect(dispatch_uid="config.jobs.failure")
def _on_failure(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **_: Any
) -> None:
    log_event(
        JOBS,
        "task_failed",
        level=logging.ERROR,
        duration_ms=_duration_ms(task_id, pop=False),
        error=type(exception).__name__ if exception else None,
        detail=str(exception)[:500] if exception else None,
        **_fields(sender, task_id),
    )


@signals.task_retry.connect(dispatch_uid="config.jobs.retry")
def _on_retry(sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
    log_event(
        JOBS,
        "task_retry",
        level=logging.WARNING,
        task_name=getattr(sender, "name", None),
        task_id=getattr(request, "id", None),
        retries=getattr(request, "retries", None),
        reason=str(reason)[:500],
    )
