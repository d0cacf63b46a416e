"""The Celery app. Tasks are thin wrappers that call services (STYLE.md habit 5)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("territory")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
