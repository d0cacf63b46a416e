from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models import Route

STAR_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
licence_validator = RegexValidator(
    r"^[0-9A-Za-z-]{6,20}$", _("A licence number has 6 to 20 letters, digits or dashes.")
)


class BusinessType(models.TextChoices):
    CONVENIENCE = "convenience", _("Convenience store")
    SUPERMARKET = "supermarket", _("Supermarket")
    GROCERY = "grocery", _("Grocery")
    TOBACCO_LIQUOR = "tobacco_liquor", _("Tobacco and liquor store")
    CATERING = "catering", _("Catering")
    ENTERTAINMENT = "entertainment", _("Entertainment venue")
    OTHER = "other", _("Other")


#: Catering and entertainment venues may get emergency deliveries (DESIGN §2.2).
HOSPITALITY_TYPES = (BusinessType.CATERING, BusinessType.ENTERTAINMENT)


class IntegrityLevel(models.TextChoices):
    A = "A", _("A (highest)")
    B = "B", "B"
    C = "C", "C"
    D = "D", _("D (lowest)")


class RetailerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class OrderingChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")


class PaymentMethod(models.TextChoices):
    E_SETTLEMENT = "e_settlement", _("E-settlement")
    CASH = "cash", _("Cash")


class Retailer(models.Model):
    """A licensed retailer on a route (DESIGN §3).

    ``star`` and ``status`` are the current values; their dated history lives in
    :class:`StarChange` and :class:`StatusChange`, which answer "as of a date".
    """

    licence_number = models.CharField(
        _("licence number"), max_length=20, unique=True, validators=[licence_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    owner_name = models.CharField(_("owner"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, related_name="retailers", verbose_name=_("route")
    )
    stop_order = models.PositiveIntegerField(_("stop order"), default=1)
    star = models.PositiveSmallIntegerField(
        _("star"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices
    )
    integrity_level = models.CharField(
        _("integrity level"), max_length=1, choices=IntegrityLevel.choices, default="B"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RetailerStatus.choices, default=RetailerStatus.ACTIVE
    )
    ordering_channel = models.CharField(
        _("ordering channel"),
        max_length=10,
        choices=OrderingChannel.choices,
        default=OrderingChannel.PHONE,
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default="cash"
    )
    needs_assistance = models.BooleanField(
        _("needs assistance"),
        default=False,
        help_text=_("Small, elderly or limited-mobility retailer who may need help to deposit."),
    )
    is_standard_store = models.BooleanField(_("standard store"), default=False)
    is_demonstration_store = models.BooleanField(_("demonstration store"), default=False)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    opened_on = models.DateField(_("licensed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("retailer")
        verbose_name_plural = _("retailers")
        ordering = ["route_id", "stop_order", "id"]
        indexes = [
            models.Index(fields=["route", "stop_order"], name="retailer_route_stop"),
            models.Index(fields=["status", "star"], name="retailer_status_star"),
            models.Index(fields=["updated_at", "id"], name="retailer_updated_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(star__isnull=True) | models.Q(star__gte=1, star__lte=5),
                name="retailer_star_1_to_5_or_null",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.licence_number})"

    @property
    def is_e_settlement(self) -> bool:
        return self.payment_method == PaymentMethod.E_SETTLEMENT

    @property
    def is_hospitality(self) -> bool:
        return self.business_type in HOSPITALITY_TYPES


class StarChange(models.Model):
    """A retailer's star from ``effective_from`` on (``star`` null = unrated)."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="star_history", verbose_name=_("retailer")
    )
    star = models.PositiveSmallIntegerField(
        _("star"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    effective_from = models.DateField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("star change")
        verbose_name_plural = _("star history")
        ordering = ["retailer_id", "-effective_from"]
        constraints = [
            # ``star`` is carried in the index so that "the star as of a day" (one backward
            # probe per retailer, ``selectors.retailers_as_of``) never reads the table.
            models.UniqueConstraint(
                fields=["retailer", "effective_from"],
                include=["star"],
                name="star_change_once_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(star__isnull=True) | models.Q(star__gte=1, star__lte=5),
                name="star_change_star_1_to_5_or_null",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.star or '-'} from {self.effective_from}"


class StatusChange(models.Model):
    """A retailer's status from ``effective_from`` on; the first one is when it joined."""

    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="status_history",
        verbose_name=_("retailer"),
    )
    status = models.CharField(_("status"), max_length=10, choices=RetailerStatus.choices)
    effective_from = models.DateField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["retailer_id", "-effective_from"]
        constraints = [
            # ``status`` is carried in the index so that "the status as of a day" (one backward
            # probe per retailer, ``selectors.retailers_as_of``) never reads the table.
            models.UniqueConstraint(
                fields=["retailer", "effective_from"],
                include=["status"],
                name="status_change_once_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.status} from {self.effective_from}"


class ViolationKind(models.TextChoices):
    ILLEGAL_SOURCE = "illegal_source", _("Cigarettes from an illegal source")
    COUNTERFEIT = "counterfeit", _("Counterfeit cigarettes")
    PRICE = "price", _("Price violation")
    MINORS = "minors", _("Sale to minors")
    OTHER = "other", _("Other")


class Violation(models.Model):
    """A recorded violation; it excludes the retailer from scarce-brand allocation for a while."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="violations", verbose_name=_("retailer")
    )
    occurred_on = models.DateField(_("occurred on"))
    kind = models.CharField(_("kind"), max_length=20, choices=ViolationKind.choices)
    description = models.TextField(_("description"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["retailer", "occurred_on"], name="violation_retailer_day")]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.get_kind_display()} on {self.occurred_on}"
