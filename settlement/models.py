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
