from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Brand(models.Model):
    """A cigarette specification (卷烟规格), priced per carton (条)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    manufacturer = models.CharField(_("manufacturer"), max_length=100, blank=True)
    price_class = models.PositiveSmallIntegerField(
        _("price class"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    wholesale_price = models.DecimalField(
        _("wholesale price per carton"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    list_price = models.DecimalField(
        _("list price per carton"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    cartons_per_case = models.PositiveSmallIntegerField(_("cartons per case"), default=50)
    is_low_tar = models.BooleanField(_("low tar"), default=False)
    is_new = models.BooleanField(_("new brand"), default=False)
    is_key = models.BooleanField(_("key brand"), default=False)
    is_scarce = models.BooleanField(_("scarce"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["price_class", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_class__gte=1, price_class__lte=5),
                name="brand_price_class_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(list_price__gte=models.F("wholesale_price")),
                name="brand_list_price_not_below_wholesale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
