from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class Grade(models.TextChoices):
    SENIOR = "senior", _("Senior")
    INTERMEDIATE = "intermediate", _("Intermediate")
    JUNIOR = "junior", _("Junior")


class User(AbstractUser):
    """A person who signs in: account manager, supervisor or administrator (DESIGN §1)."""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.ACCOUNT_MANAGER
    )
    grade = models.CharField(_("grade"), max_length=20, choices=Grade.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_account_manager(self) -> bool:
        return self.role == Role.ACCOUNT_MANAGER and not self.is_superuser

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR and not self.is_superuser

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN


class ApiToken(models.Model):
    """A credential for REST clients (DESIGN §1), stored only as a digest.

    The token a client holds is ``<key_id>.<secret>``: ``key_id`` finds the row, and the SHA-256
    of the whole token must equal ``digest``. The secret itself is shown once, when the token
    is created, and never stored.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_id = models.CharField(_("key id"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    read_only = models.BooleanField(
        _("read-only"), default=False, help_text=_("A read-only token may only read.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"], name="api_token_user_expiry")]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.name or self.user})"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now


class GradeEvaluation(models.Model):
    """A supervisor's evaluation of an account manager for a period (DESIGN §2.6).

    The manager's ``grade`` changes only by recording one (``accounts.services``); the latest
    evaluation's ``grade`` is the manager's grade.
    """

    manager = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="evaluations", verbose_name=_("manager")
    )
    evaluated_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("evaluated by"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    notes = models.TextField(_("notes"), blank=True)
    previous_grade = models.CharField(
        _("previous grade"), max_length=20, choices=Grade.choices, blank=True
    )
    grade = models.CharField(_("resulting grade"), max_length=20, choices=Grade.choices)
    created_at = models.DateTimeField(_("evaluated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade evaluation")
        verbose_name_plural = _("grade evaluations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="evaluation_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(score__lte=100), name="evaluation_score_at_most_100"
            ),
        ]
        indexes = [models.Index(fields=["manager", "-created_at"], name="evaluation_manager")]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.period_start}–{self.period_end}: {self.grade}"
