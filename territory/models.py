from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Branch(models.Model):
    """A county branch of the wholesaler (县级营销部)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A district (辖区) of a branch, overseen by a supervisor."""

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="districts", verbose_name=_("branch")
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_districts",
        verbose_name=_("supervisor"),
    )

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["branch__code", "code"]

    def __str__(self) -> str:
        return self.name


class Route(models.Model):
    """A delivery and visit route (送货/拜访线路), usually one per weekday."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="routes", verbose_name=_("district")
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100, blank=True)
    visit_weekday = models.PositiveSmallIntegerField(
        _("order and visit weekday"), choices=Weekday.choices
    )
    delivery_weekday = models.PositiveSmallIntegerField(
        _("delivery weekday"), choices=Weekday.choices
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routes",
        verbose_name=_("account manager"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["district__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "code"], name="route_code_unique_in_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.district.name} {self.code}" if self.name == "" else self.name


class CycleStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Cycle(models.Model):
    """An ordering and visit cycle (访销周期): a dated period, usually one week."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    start_date = models.DateField(_("start date"), unique=True)
    end_date = models.DateField(_("end date"))
    status = models.CharField(
        _("status"), max_length=10, choices=CycleStatus.choices, default=CycleStatus.PLANNED
    )

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="cycle_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def contains(self, day) -> bool:
        return self.start_date <= day <= self.end_date
