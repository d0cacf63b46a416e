"""The Celery app. Tasks are thin wrappers that call services (STYLE.md habit 5).

Every task's base class is :class:`config.jobs.ProjectTask` (a delivery limit for poison
messages) and every run is logged to ``jobs`` (``config.jobs``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("territory", task_cls="config.jobs:ProjectTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import config.jobs  # noqa: E402, F401 - connects the job-log signal receivers
