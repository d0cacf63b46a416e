from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
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
    """A retailer's order for one cycle (DESIGN §2.4): priced per line, debited once.

    Status follows the debits of an e-settlement order: ``placed`` until a debit attempt
    finishes, then ``paid`` (success) or ``payment_failed`` (insufficient funds or a bank
    failure); a successful retry makes a failed order ``paid``. Orders of cash payers are never
    debited and stay ``placed``; ``e_settlement`` records how the retailer paid when the order
    was placed. ``total_amount`` and ``rebate_amount`` are set by ``services.order_create`` from
    the lines; ``rebate`` is the month-end rebate that paid the accrued difference back, so that
    no order is rebated twice.
    """

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
    #: How the retailer paid when the order was placed. Only orders placed under e-settlement
    #: are ever debited: a cash payer's old orders stay out of the debit job even after the
    #: retailer switches to e-settlement.
    e_settlement = models.BooleanField(_("paid by e-settlement"), default=False, db_default=False)
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
    rebate = models.ForeignKey(
        "settlement.Rebate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("rebate"),
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
            models.Index(fields=["status", "ordered_at"], name="order_status_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_amount__gte=0) & models.Q(rebate_amount__gte=0),
                name="order_amounts_not_negative",
            )
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


class DebitStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCESS = "success", _("Success")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Insufficient funds")
    FAILED = "failed", _("Failed")


#: Results that end an attempt without taking money: the order may be retried.
FAILED_DEBIT_STATUSES = (DebitStatus.INSUFFICIENT_FUNDS, DebitStatus.FAILED)


class Debit(models.Model):
    """One attempt to debit an order from the retailer's e-settlement account (DESIGN §6).

    The attempt row, with its idempotency key, is committed *before* the bank is called. If the
    process dies between "bank debited" and "result written", the attempt stays ``pending`` and
    the next run calls the bank again with the same key; the bank answers with the first
    result instead of debiting again. The constraints make a second success, a second open
    attempt or a reused key impossible, whatever runs twice.
    """

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="debits", verbose_name=_("order")
    )
    account = models.ForeignKey(
        SettlementAccount,
        on_delete=models.PROTECT,
        related_name="debits",
        verbose_name=_("settlement account"),
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("result"), max_length=20, choices=DebitStatus.choices, default=DebitStatus.PENDING
    )
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    message = models.CharField(_("message"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("debit")
        verbose_name_plural = _("debits")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="debit_attempt_once"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="success"),
                name="debit_one_success_per_order",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="pending"),
                name="debit_one_open_attempt_per_order",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="debit_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="debit_status_time")]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.status}"


class SimulatedBankEntry(models.Model):
    """The simulated bank's own journal (``bank.SimulatedBank``): one row per key it has seen.

    Not part of the wholesaler's data: it stands in for the bank in the demo and the tests,
    which check through it that the bank debited each key once.
    """

    idempotency_key = models.CharField(max_length=64, unique=True)
    account_reference = models.CharField(max_length=30)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=DebitStatus.choices)
    bank_reference = models.CharField(max_length=64)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    times_seen = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("simulated bank entry")
        verbose_name_plural = _("simulated bank entries")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.status}"


class BalanceReminder(models.Model):
    """A reminder to top up the e-settlement account before order day (DESIGN §2.3).

    One per retailer and cycle (the constraint). ``large`` retailers (busy ones, see
    ``services.is_large``) are sent the reminder the day before their order day, before the
    order call; the others on the morning of order day (``send_after``). ``help_deposit``
    marks retailers who need assistance: they also appear on the account manager's list until
    the manager records that they helped.
    """

    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="balance_reminders",
        verbose_name=_("retailer"),
    )
    cycle = models.ForeignKey(
        "territory.Cycle",
        on_delete=models.PROTECT,
        related_name="balance_reminders",
        verbose_name=_("cycle"),
    )
    order_date = models.DateField(_("order day"))
    expected_amount = models.DecimalField(
        _("expected order amount"), max_digits=12, decimal_places=2
    )
    balance = models.DecimalField(_("known balance"), max_digits=12, decimal_places=2)
    balance_as_of = models.DateTimeField(_("balance as of"), null=True, blank=True)
    large = models.BooleanField(_("large busy retailer"), default=False)
    help_deposit = models.BooleanField(_("help to deposit"), default=False)
    send_after = models.DateTimeField(_("send after"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    helped_at = models.DateTimeField(_("deposit help recorded at"), null=True, blank=True)
    helped_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("helped by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("balance reminder")
        verbose_name_plural = _("balance reminders")
        ordering = ["order_date", "retailer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["retailer", "cycle"], name="balance_reminder_once_per_cycle"
            )
        ]
        indexes = [
            models.Index(fields=["cycle", "retailer"], name="reminder_cycle_retailer"),
            # The sending job walks the unsent reminders in (send_after, id) order.
            models.Index(
                fields=["send_after", "id"],
                condition=models.Q(sent_at__isnull=True),
                name="reminder_unsent",
            ),
            models.Index(fields=["order_date"], name="reminder_order_date"),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id} {self.cycle_id}"

    @property
    def shortfall(self) -> Decimal:
        return max(self.expected_amount - self.balance, Decimal("0.00"))


class Notification(models.Model):
    """A message handed to the notifier (SMS gateway), as ``notify.RecordingNotifier`` keeps it.

    Holds the phone and the text, never a bank account number.
    """

    reminder = models.OneToOneField(
        BalanceReminder,
        on_delete=models.CASCADE,
        related_name="notification",
        verbose_name=_("balance reminder"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reminder_id} {self.created_at:%Y-%m-%d %H:%M}"


class Rebate(models.Model):
    """The month-end rebate (月底统一返还) of one retailer for one month (DESIGN §2.4).

    ``amount`` is the sum of ``rebate_amount`` of the orders linked to it; each order is linked
    to at most one rebate, so no difference is paid back twice.
    """

    retailer = models.ForeignKey(
        Retailer, on_delete=models.PROTECT, related_name="rebates", verbose_name=_("retailer")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("rebate")
        verbose_name_plural = _("rebates")
        ordering = ["-month", "retailer_id"]
        constraints = [
            models.UniqueConstraint(fields=["retailer", "month"], name="rebate_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id} {self.month:%Y-%m}"


class RebateRun(models.Model):
    """Claims a month for the rebate job: the second run of a month finds it and stops."""

    month = models.DateField(_("month"), unique=True)
    rebates = models.PositiveIntegerField(_("rebates"), default=0)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("rebate run")
        verbose_name_plural = _("rebate runs")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class ImportKind(models.TextChoices):
    BALANCES = "balances", _("Bank balances")
    ORDERS = "orders", _("Orders")


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    APPLIED = "applied", _("Applied")


class ImportBatch(models.Model):
    """An uploaded file, kept between its dry-run preview and its application.

    Applying claims the batch with a conditional update, so a double submit applies it once.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    content = models.TextField(_("content"))
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    uploaded_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class BrandGroup(models.TextChoices):
    """Groups of brands a cultivation target may name instead of one brand (DESIGN §2.6)."""

    LOW_TAR = "low_tar", _("Low-tar brands")
    KEY = "key", _("Key brands")
    NEW = "new", _("New brands")


#: The ``Brand`` flag behind each group.
BRAND_GROUP_FLAGS = {
    BrandGroup.LOW_TAR: "is_low_tar",
    BrandGroup.KEY: "is_key",
    BrandGroup.NEW: "is_new",
}


class CultivationTarget(models.Model):
    """A brand-cultivation target of an account manager for a period (品牌培育, DESIGN §2.6).

    Names one brand or one group of brands (``brand_group``), and what the manager's retailers
    should reach between ``start_date`` and ``end_date``: how many retailers carry it (ordered
    it at least once) and how many cartons they order. At least one of the two is set.
    Progress is computed from the orders (``analytics.target_progress``), never stored.
    """

    account_manager = models.ForeignKey(
        "accounts.User",
        on_delete=models.CASCADE,
        related_name="cultivation_targets",
        verbose_name=_("account manager"),
    )
    brand = models.ForeignKey(
        "catalog.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    brand_group = models.CharField(
        _("brand group"), max_length=10, choices=BrandGroup.choices, blank=True
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    target_retailers = models.PositiveIntegerField(
        _("retailers carrying (target)"), null=True, blank=True
    )
    target_cartons = models.PositiveIntegerField(_("cartons (target)"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cultivation target")
        verbose_name_plural = _("cultivation targets")
        ordering = ["-start_date", "account_manager_id", "brand_group", "brand_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(brand__isnull=False) & models.Q(brand_group=""))
                | (models.Q(brand__isnull=True) & ~models.Q(brand_group="")),
                name="target_one_brand_or_group",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="target_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(target_retailers__isnull=True) | models.Q(target_retailers__gt=0)
                )
                & (models.Q(target_cartons__isnull=True) | models.Q(target_cartons__gt=0))
                & (
                    models.Q(target_retailers__isnull=False)
                    | models.Q(target_cartons__isnull=False)
                ),
                name="target_figures_positive",
            ),
            models.UniqueConstraint(
                fields=["account_manager", "brand", "start_date", "end_date"],
                condition=models.Q(brand__isnull=False),
                name="target_once_per_brand_and_period",
            ),
            models.UniqueConstraint(
                fields=["account_manager", "brand_group", "start_date", "end_date"],
                condition=models.Q(brand__isnull=True),
                name="target_once_per_group_and_period",
            ),
        ]
        indexes = [
            models.Index(fields=["account_manager", "end_date"], name="target_manager_end"),
        ]

    def __str__(self) -> str:
        return f"{self.account_manager_id} {self.subject} {self.start_date}–{self.end_date}"

    @property
    def subject(self) -> str:
        """The brand's name or the group's label."""
        if self.brand_id is not None:
            return self.brand.name
        return str(BrandGroup(self.brand_group).label) if self.brand_group else ""
