"""Operations tasks: the worker heartbeat that ``/health/`` reads."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from config import services


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
    ignore_result=True,
)
def heartbeat(self) -> str:
    """Beat sends this every ``HEALTH_HEARTBEAT_SECONDS``: a worker ran it, so workers work."""
    return services.heartbeat_record(hostname=self.request.hostname or "").isoformat()
