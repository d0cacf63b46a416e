from __future__ import annotations

from django.contrib.auth.models import AbstractUser
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
