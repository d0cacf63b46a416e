"""Operations tasks: the worker heartbeat that ``/health/`` reads."""

from __future__ import annotations

from celery import shared_task

from config import services
from config.jobs import DB_RETRY


@shared_task(
    bind=True,
    acks_late=True,
    **DB_RETRY,
    max_retries=2,
    ignore_result=True,
)
def heartbeat(self) -> str:
    """Beat sends this every ``HEALTH_HEARTBEAT_SECONDS``: a worker ran it, so workers work."""
    return services.heartbeat_record(hostname=self.request.hostname or "").isoformat()
