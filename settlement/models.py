from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from retailers.models import Retailer
from settlement.fields import EncryptedTextField

account_number_validator = RegexValidator(
    r"^[0-9]{8,30}$", _("A bank account number has 8 to 30 digits.")
)


def mask_account_number(last4: str) -> str:
    """The only form an account number is ever shown in: ``**** **** 1234``."""
    return f"**** **** {last4}" if last4 else ""


class SettlementAccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class SettlementAccount(models.Model):
    """A retailer's e-settlement bank account (电子结算账户), debited for each order.

    The account number is encrypted at rest and never shown unmasked; ``reference`` is the
    non-secret key the bank's balance files use.
    """

    retailer = models.OneToOneField(
        Retailer,
        on_delete=models.PROTECT,
        related_name="settlement_account",
        verbose_name=_("retailer"),
    )
    reference = models.CharField(_("account reference"), max_length=30, unique=True)
    bank_name = models.CharField(_("bank"), max_length=100)
    account_holder = models.CharField(_("account holder"), max_length=100, blank=True)
    account_number = EncryptedTextField(_("account number"), editable=True)
    account_last4 = models.CharField(_("last 4 digits"), max_length=4, editable=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SettlementAccountStatus.choices,
        default=SettlementAccountStatus.ACTIVE,
    )
    balance = models.DecimalField(
        _("last known balance"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    balance_as_of = models.DateTimeField(_("balance as of"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("settlement account")
        verbose_name_plural = _("settlement accounts")
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.masked_account_number})"

    def __repr__(self) -> str:
        return f"<SettlementAccount {self.reference} {self.masked_account_number}>"

    @property
    def masked_account_number(self) -> str:
        return mask_account_number(self.account_last4)


class OrderChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")
    VISIT = "visit", _("Visit")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    CANCELLED = "cancelled", _("Cancelled")


#: Orders that count as sales (points, analytics, expected amounts): all but cancelled ones.
COUNTED_ORDER_STATUSES = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PAYMENT_FAILED)


class Order(models.Model):
    """A retailer's order for one cycle (DESIGN §2.4): priced per line, debited once."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("retailer")
    )
    cycle = models.ForeignKey(
        "territory.Cycle", on_delete=models.PROTECT, related_name="orders", verbose_name=_("cycle")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=OrderChannel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    ordered_at = models.DateTimeField(_("ordered at"))
    entered_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    #: The ordering platform's own id, so that a repeated post does not create a second order.
    external_ref = models.CharField(
        _("external reference"), max_length=64, null=True, blank=True, unique=True
    )
    total_amount = models.DecimalField(
        _("amount charged"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    rebate_amount = models.DecimalField(
        _("rebate accrued"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["cycle", "retailer"], name="order_cycle_retailer"),
            models.Index(fields=["retailer", "ordered_at"], name="order_retailer_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.retailer_id} {self.cycle_id}"


class OrderLine(models.Model):
    """One brand of an order. ``unit_price`` is what is charged per carton (DESIGN §2.4)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    brand = models.ForeignKey(
        "catalog.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand")
    )
    cartons = models.PositiveIntegerField(_("cartons"))
    unit_price = models.DecimalField(_("price per carton"), max_digits=10, decimal_places=2)
    wholesale_price = models.DecimalField(
        _("wholesale price per carton"), max_digits=10, decimal_places=2
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cartons__gt=0), name="order_line_cartons_positive"
            ),
            models.UniqueConstraint(fields=["order", "brand"], name="order_line_brand_once"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} × {self.cartons}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.cartons
