from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from config.jobs import DB_RETRY
from territory.models import Cycle
from territory.selectors import cycle_for_day
from visits import services

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    **DB_RETRY,
    max_retries=5,
)
def plan_visits(cycle_id: int | None = None, district_ids: list[int] | None = None) -> int:
    """Plan a cycle's visits (by default the cycle of today): beat at each cycle's start.

    Safe to run twice or at once with another run: the plan's unique constraints decide.
    """
    cycle = (
        Cycle.objects.filter(pk=cycle_id).first()
        if cycle_id is not None
        else cycle_for_day(timezone.localdate())
    )
    if cycle is None:
        logger.warning("plan_visits: no cycle (id %s, today %s)", cycle_id, timezone.localdate())
        return 0
    return services.visit_plan_generate(cycle=cycle, district_ids=district_ids)
