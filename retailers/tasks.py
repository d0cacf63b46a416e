from celery import shared_task

from config.jobs import DB_RETRY
from retailers import services


@shared_task(
    acks_late=True,
    **DB_RETRY,
    max_retries=5,
)
def apply_due_history() -> int:
    """Daily: bring current stars and statuses up to their dated history."""
    return services.retailers_apply_due_history()
