"""Deploy checks (``manage.py check --deploy``) for what Django's own checks do not know."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


def celery_limit_errors(
    *, time_limit: int | None, soft_time_limit: int | None, visibility_timeout: int | None
) -> list[str]:
    """What is wrong with these limits, in words (empty when they are sound).

    A task still running when its message's visibility timeout passes is delivered to a second
    worker while the first one works on: the hard time limit must end it well before that.
    """
    problems = []
    if not time_limit:
        problems.append("CELERY_TASK_TIME_LIMIT must be set.")
    elif not visibility_timeout or time_limit > visibility_timeout // 2:
        problems.append(
            f"CELERY_TASK_TIME_LIMIT ({time_limit}) must be at most half of the broker's "
            f"visibility_timeout ({visibility_timeout})."
        )
    if not soft_time_limit or (time_limit and soft_time_limit >= time_limit):
        problems.append(
            f"CELERY_TASK_SOFT_TIME_LIMIT ({soft_time_limit}) must be set below "
            f"CELERY_TASK_TIME_LIMIT ({time_limit})."
        )
    return problems


@register(Tags.security, deploy=True)
def check_celery_limits(app_configs=None, **kwargs) -> list[Error]:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    problems = celery_limit_errors(
        time_limit=getattr(settings, "CELERY_TASK_TIME_LIMIT", None),
        soft_time_limit=getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", None),
        visibility_timeout=options.get("visibility_timeout"),
    )
    return [Error(message, id="config.E001") for message in problems]
