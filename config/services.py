"""Writes and reads for operations: the worker heartbeat (``config.tasks``, ``/health/``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from config.models import Heartbeat

WORKER = "worker"


def heartbeat_record(*, hostname: str = "", now: dt.datetime | None = None) -> dt.datetime:
    """A worker is alive now (one row, overwritten)."""
    now = now or timezone.now()
    Heartbeat.objects.update_or_create(
        name=WORKER, defaults={"at": now, "hostname": hostname[:200]}
    )
    return now


def worker_heartbeat_state(*, now: dt.datetime | None = None) -> tuple[str, int | None]:
    """``("ok" | "stale" | "missing", age in seconds or None)`` of the last worker heartbeat.

    Stale when older than ``HEALTH_WORKER_MAX_AGE_SECONDS``: beat sends one a minute, so a few
    missed ones mean no worker is taking work (or beat is not running).
    """
    beat = Heartbeat.objects.filter(name=WORKER).values_list("at", flat=True).first()
    if beat is None:
        return "missing", None
    age = max(0, int(((now or timezone.now()) - beat).total_seconds()))
    return ("ok" if age <= settings.HEALTH_WORKER_MAX_AGE_SECONDS else "stale"), age
