"""What operations keep in the database: worker heartbeats and dead-lettered tasks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat task (``/health/``)."""

    name = models.CharField(_("name"), max_length=50, primary_key=True)
    at = models.DateTimeField(_("at"))
    hostname = models.CharField(_("worker"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class DeadLetter(models.Model):
    """A task message delivered more than ``CELERY_MAX_DELIVERIES`` times: it is not run again.

    A message comes back when the worker running it died (a crash, an out-of-memory kill, a
    task that takes its process down); ``config.jobs`` counts deliveries per task id and retry,
    and records the message here instead of running it once too often.
    """

    task_id = models.CharField(_("task id"), max_length=255)
    task_name = models.CharField(_("task"), max_length=255)
    retries = models.PositiveIntegerField(_("retries before"), default=0)
    deliveries = models.PositiveIntegerField(_("deliveries"))
    args = models.TextField(_("arguments"), blank=True)
    kwargs = models.TextField(_("keyword arguments"), blank=True)
    hostname = models.CharField(_("worker"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task_id", "retries"], name="dead_letter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
