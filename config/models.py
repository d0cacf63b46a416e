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


class AuditAction(models.TextChoices):
    """What an audit entry records (``config.audit.record``); SECURITY.md lists where."""

    POLICY_CHANGED = "policy.changed", _("Service policy changed")
    SUPPLY_CREATED = "supply.created", _("Scarce supply created")
    SUPPLY_CHANGED = "supply.changed", _("Scarce supply changed")
    RUN_APPROVED = "run.approved", _("Allocation run approved")
    RUN_PUBLISHED = "run.published", _("Allocation run published")
    RUN_SUPERSEDED = "run.superseded", _("Allocation run superseded")
    ACCOUNT_CREATED = "account.created", _("Settlement account created")
    ACCOUNT_CHANGED = "account.changed", _("Settlement account changed")
    BALANCES_IMPORTED = "account.balances_imported", _("Balances imported")
    ACCOUNT_REVEALED = "account.revealed", _("Account number revealed")


class AuditEntry(models.Model):
    """Who did what to which object, when, from where, with the values before and after.

    Written only through :func:`config.audit.record`, inside the transaction of the change it
    records (so a change that rolls back leaves no entry), never edited. ``district_id`` is the
    target's district when it has one, so that a supervisor reads only their districts' history;
    entries about branch-wide things (policies, supplies, runs) have none. Secrets (account
    numbers) are never written into ``before``/``after``.
    """

    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("when"), db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target type"),
    )
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    district_id = models.PositiveIntegerField(_("district"), null=True, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit history")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["district_id", "at"], name="audit_district_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_label}"
