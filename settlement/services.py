"""Writes for e-settlement: orders, balances, debits, reminders and rebates (DESIGN §2.3, §2.4, §6).

Once-only effects come from the database: a unique key per debit attempt and at most one
successful and one open attempt per order; one reminder per retailer and cycle; one rebate per
retailer and month, and one rebate per order; one application per import batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can_reveal_account_number
from catalog.models import Brand
from config import audit
from config.errors import ApplicationError
from config.logs import log_import
from config.models import AuditAction
from retailers.models import PaymentMethod, Retailer, RetailerStatus
from retailers.selectors import visible_retailers
from settlement import imports
from settlement.analytics import manageable_managers
from settlement.bank import DebitRequest, DebitResult, get_bank
from settlement.models import (
    BRAND_GROUP_FLAGS,
    COUNTED_ORDER_STATUSES,
    BalanceReminder,
    CultivationTarget,
    Debit,
    DebitStatus,
    ImportBatch,
    ImportKind,
    ImportStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Rebate,
    RebateRun,
    SettlementAccount,
    SettlementAccountStatus,
)
from settlement.notify import Message, get_notifier
from territory.models import Cycle, CycleStatus, Route

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_CARTONS_PER_LINE = 9999
#: A balance dated further ahead than this is refused (clocks differ a little).
BALANCE_CLOCK_SKEW = dt.timedelta(minutes=10)
#: Orders whose difference to list price is paid back at month end (DESIGN §2.4): not
#: cancelled, and not left unpaid (a failed order paid later is rebated the month after).
REBATED_ORDER_STATUSES = (OrderStatus.PLACED, OrderStatus.PAID)


# --- Orders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    brand: Brand
    cartons: int


class DuplicateOrder(ApplicationError):
    """An order with this external reference exists already (a repeated platform post)."""

    def __init__(self, order: Order) -> None:
        message = _("An order with the external reference %(ref)s exists already.") % {
            "ref": order.external_ref
        }
        super().__init__(message, extra={"external_ref": [message]})
        self.order = order


def line_prices(*, brand: Brand, channel: str) -> tuple[Decimal, Decimal]:
    """(price charged, rebate accrued) per carton (DESIGN §2.4).

    Online orders are charged the wholesale price directly. Other orders are charged the list
    price, and the difference is accrued for the month-end rebate.
    """
    if channel == OrderChannel.ONLINE:
        return brand.wholesale_price, Decimal("0.00")
    return brand.list_price, brand.list_price - brand.wholesale_price


def _check_lines(lines: Sequence[LineInput]) -> None:
    if not lines:
        raise ApplicationError(
            _("An order needs at least one line."),
            extra={"lines": [_("An order needs at least one line.")]},
        )
    seen: set[int] = set()
    for index, line in enumerate(lines, start=1):
        where = _("Line %(n)s") % {"n": index}
        if isinstance(line.cartons, bool) or not isinstance(line.cartons, int):
            raise ApplicationError(
                _("%(where)s: cartons must be a whole number.") % {"where": where},
                extra={
                    "lines": [_("%(where)s: cartons must be a whole number.") % {"where": where}]
                },
            )
        if not 0 < line.cartons <= MAX_CARTONS_PER_LINE:
            message = _("%(where)s: cartons must be between 1 and %(max)s.") % {
                "where": where,
                "max": MAX_CARTONS_PER_LINE,
            }
            raise ApplicationError(message, extra={"lines": [message]})
        if not line.brand.is_active:
            message = _("%(where)s: the brand %(brand)s is not on sale.") % {
                "where": where,
                "brand": line.brand.code,
            }
            raise ApplicationError(message, extra={"lines": [message]})
        if line.brand.pk in seen:
            message = _("%(where)s: the brand %(brand)s appears twice.") % {
                "where": where,
                "brand": line.brand.code,
            }
            raise ApplicationError(message, extra={"lines": [message]})
        seen.add(line.brand.pk)


def _check_order_header(*, retailer: Retailer, cycle: Cycle, channel: str, by: User | None):
    if by is not None and not visible_retailers(by).filter(pk=retailer.pk).exists():
        message = _("The retailer %(licence)s is on another manager's route.") % {
            "licence": retailer.licence_number
        }
        raise ApplicationError(message, extra={"retailer": [message]})
    if retailer.status != RetailerStatus.ACTIVE:
        message = _("The retailer %(licence)s is not active.") % {
            "licence": retailer.licence_number
        }
        raise ApplicationError(message, extra={"retailer": [message]})
    if cycle.status == CycleStatus.CLOSED:
        message = _("The cycle %(cycle)s is closed.") % {"cycle": cycle.code}
        raise ApplicationError(message, extra={"cycle": [message]})
    if channel not in OrderChannel.values:
        message = _("Unknown ordering channel %(channel)s.") % {"channel": channel}
        raise ApplicationError(message, extra={"channel": [message]})


def _write_order(
    *,
    retailer: Retailer,
    cycle: Cycle,
    channel: str,
    lines: Sequence[LineInput],
    by: User | None,
    ordered_at: dt.datetime,
    external_ref: str | None,
) -> Order:
    priced = []
    total = rebate = Decimal("0.00")
    for line in lines:
        price, difference = line_prices(brand=line.brand, channel=channel)
        priced.append((line, price))
        total += price * line.cartons
        rebate += difference * line.cartons
    order = Order(
        retailer=retailer,
        cycle=cycle,
        channel=channel,
        e_settlement=retailer.payment_method == PaymentMethod.E_SETTLEMENT,
        ordered_at=ordered_at,
        entered_by=by,
        external_ref=external_ref or None,
        total_amount=total,
        rebate_amount=rebate,
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        existing = Order.objects.filter(external_ref=external_ref).first() if external_ref else None
        if existing is None:
            raise
        raise DuplicateOrder(existing) from None
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            brand=line.brand,
            cartons=line.cartons,
            unit_price=price,
            wholesale_price=line.brand.wholesale_price,
        )
        for line, price in priced
    )
    return order


@transaction.atomic
def order_create(
    *,
    retailer: Retailer,
    cycle: Cycle,
    channel: str,
    lines: Sequence[LineInput],
    by: User | None,
    ordered_at: dt.datetime | None = None,
    external_ref: str | None = None,
) -> Order:
    """Record an order priced by its channel (DESIGN §2.4).

    ``by`` (the person or API client entering it) must see the retailer; ``None`` is the
    system itself. A repeated ``external_ref`` raises :class:`DuplicateOrder` carrying the
    existing order, so that a platform posting the same order twice gets the first one back.
    """
    _check_order_header(retailer=retailer, cycle=cycle, channel=channel, by=by)
    _check_lines(lines)
    if external_ref:
        existing = Order.objects.filter(external_ref=external_ref).first()
        if existing is not None:
            raise DuplicateOrder(existing)
    return _write_order(
        retailer=retailer,
        cycle=cycle,
        channel=channel,
        lines=lines,
        by=by,
        ordered_at=ordered_at or timezone.now(),
        external_ref=external_ref,
    )


ORDER_COLUMNS = ("licence", "brand", "cartons", "channel", "cycle", "external_ref")


@dataclass
class PlannedOrder:
    rows: list[int]
    retailer: Retailer
    cycle: Cycle
    channel: str
    external_ref: str
    lines: list[LineInput] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(
            (line_prices(brand=x.brand, channel=self.channel)[0] * x.cartons for x in self.lines),
            Decimal("0.00"),
        )

    @property
    def rebate(self) -> Decimal:
        return sum(
            (line_prices(brand=x.brand, channel=self.channel)[1] * x.cartons for x in self.lines),
            Decimal("0.00"),
        )

    @property
    def cartons(self) -> int:
        return sum(x.cartons for x in self.lines)


@dataclass
class OrderImportCheck:
    orders: list[PlannedOrder]
    errors: list[imports.RowError]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.errors


def order_import_check(*, text: str, by: User) -> OrderImportCheck:
    """Check an order file without writing anything (the dry run).

    One row per order line: ``licence,brand,cartons,channel,cycle,external_ref``. Rows with the
    same retailer, cycle, channel and external reference form one order.
    """
    parsed = imports.read_rows(text, columns=ORDER_COLUMNS, required=ORDER_COLUMNS[:5])
    errors = list(parsed.errors)
    licences = {row["licence"] for _n, row in parsed.rows}
    known = {
        r.licence_number: r
        for r in Retailer.objects.filter(licence_number__in=licences).select_related("route")
    }
    visible = set(
        visible_retailers(by)
        .filter(licence_number__in=licences)
        .values_list("licence_number", flat=True)
    )
    brands = {
        b.code: b for b in Brand.objects.filter(code__in={r["brand"] for _n, r in parsed.rows})
    }
    cycles = {
        c.code: c for c in Cycle.objects.filter(code__in={r["cycle"] for _n, r in parsed.rows})
    }
    refs = {r["external_ref"] for _n, r in parsed.rows if r["external_ref"]}
    taken = set(Order.objects.filter(external_ref__in=refs).values_list("external_ref", flat=True))
    planned: dict[tuple, PlannedOrder] = {}
    ref_owner: dict[str, tuple] = {}
    for number, row in parsed.rows:
        problems = []
        retailer = known.get(row["licence"])
        if retailer is None:
            problems.append(_("no retailer has the licence number %(v)s.") % {"v": row["licence"]})
        elif row["licence"] not in visible:
            problems.append(
                _("the retailer %(v)s is on another manager's route.") % {"v": row["licence"]}
            )
        elif retailer.status != RetailerStatus.ACTIVE:
            problems.append(_("the retailer %(v)s is not active.") % {"v": row["licence"]})
        brand = brands.get(row["brand"])
        if brand is None:
            problems.append(_("unknown brand code %(v)s.") % {"v": row["brand"]})
        elif not brand.is_active:
            problems.append(_("the brand %(v)s is not on sale.") % {"v": row["brand"]})
        cartons = imports.parse_positive_int(row["cartons"], maximum=MAX_CARTONS_PER_LINE)
        if cartons is None:
            problems.append(
                _("cartons must be a whole number from 1 to %(max)s, not %(v)s.")
                % {"max": MAX_CARTONS_PER_LINE, "v": row["cartons"]}
            )
        channel = row["channel"].lower()
        if channel not in OrderChannel.values:
            problems.append(
                _("channel must be one of %(choices)s, not %(v)s.")
                % {"choices": ", ".join(OrderChannel.values), "v": row["channel"]}
            )
        cycle = cycles.get(row["cycle"])
        if cycle is None:
            problems.append(_("unknown cycle %(v)s.") % {"v": row["cycle"]})
        elif cycle.status == CycleStatus.CLOSED:
            problems.append(_("the cycle %(v)s is closed.") % {"v": row["cycle"]})
        ref = row["external_ref"]
        if ref in taken:
            problems.append(_("the external reference %(v)s was imported before.") % {"v": ref})
        if len(ref) > 64:
            problems.append(_("the external reference is longer than 64 characters."))
        key = (row["licence"], row["cycle"], channel, ref)
        if ref and ref_owner.setdefault(ref, key) != key:
            problems.append(
                _("the external reference %(v)s is used for another retailer, cycle or channel.")
                % {"v": ref}
            )
        if problems:
            errors.extend(imports.RowError(number, p) for p in problems)
            continue
        order = planned.setdefault(
            key,
            PlannedOrder(
                rows=[], retailer=retailer, cycle=cycle, channel=channel, external_ref=ref
            ),
        )
        if any(line.brand.pk == brand.pk for line in order.lines):
            errors.append(
                imports.RowError(
                    number, _("the brand %(v)s appears twice in one order.") % {"v": brand.code}
                )
            )
            continue
        order.rows.append(number)
        order.lines.append(LineInput(brand=brand, cartons=cartons))
    errors.sort(key=lambda e: e.row)
    return OrderImportCheck(orders=list(planned.values()), errors=errors, rows=len(parsed.rows))


def _claim_batch(batch: ImportBatch, *, kind: str) -> None:
    if batch.kind != kind:
        raise ApplicationError(_("This is not an import of that kind."))
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.APPLIED, applied_at=timezone.now()
    )
    if not claimed:
        raise ApplicationError(_("This file has been applied already."))


def rejected(errors: Sequence[imports.RowError], *, field: str = "file") -> ApplicationError:
    shown = [str(e) for e in errors[:50]]
    if len(errors) > 50:
        shown.append(_("… and %(n)s more errors.") % {"n": len(errors) - 50})
    message = (
        _("The file was rejected; nothing was changed.")
        if field == "file"
        else _("The balances were rejected; nothing was changed.")
    )
    return ApplicationError(message, extra={field: shown})


def import_text(data: bytes) -> str:
    """The text of an uploaded file, refused when too large or not UTF-8."""
    return imports.decode(data, max_bytes=settings.SETTLEMENT_IMPORT_MAX_BYTES)


def import_batch_create(*, kind: str, file_name: str, data: bytes, by: User) -> ImportBatch:
    """Keep a checked file between its preview and its application."""
    text = import_text(data)
    log_import(kind=kind, outcome="previewed", user=by, source=file_name)
    return ImportBatch.objects.create(
        kind=kind, file_name=file_name[:200], content=text, uploaded_by=by
    )


@transaction.atomic
def order_import_apply(*, batch: ImportBatch, by: User) -> list[Order]:
    """Apply a previewed order file: every order, or none if any row is wrong now."""
    _claim_batch(batch, kind=ImportKind.ORDERS)
    check = order_import_check(text=batch.content, by=by)
    if not check.ok:
        raise rejected(check.errors)
    now = timezone.now()
    orders = [
        _write_order(
            retailer=p.retailer,
            cycle=p.cycle,
            channel=p.channel,
            lines=p.lines,
            by=by,
            ordered_at=now,
            external_ref=p.external_ref or None,
        )
        for p in check.orders
    ]
    log_import(kind="orders", outcome="applied", rows=check.rows, user=by, source=batch.file_name)
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows=check.rows, summary=_("%(n)s orders created.") % {"n": len(orders)}
    )
    return orders


# --- Balances -------------------------------------------------------------------------------

BALANCE_COLUMNS = ("reference", "balance", "as_of")


@dataclass(frozen=True)
class BalanceEntry:
    reference: str
    balance: Decimal
    as_of: dt.datetime


@dataclass
class BalanceChange:
    row: int
    account: SettlementAccount
    entry: BalanceEntry

    @property
    def stale(self) -> bool:
        """Older than what is known: kept out, so a late file never overwrites a newer balance."""
        known = self.account.balance_as_of
        return known is not None and self.entry.as_of <= known


@dataclass
class BalanceCheck:
    changes: list[BalanceChange]
    errors: list[imports.RowError]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def applicable(self) -> list[BalanceChange]:
        return [c for c in self.changes if not c.stale]


def _accounts_by_reference(references, *, by: User | None) -> dict[str, SettlementAccount]:
    """The accounts named, among those ``by`` may see (``None``: the system, all of them)."""
    accounts = SettlementAccount.objects.filter(reference__in=references)
    if by is not None:
        accounts = accounts.filter(retailer__in=visible_retailers(by))
    accounts = accounts.only("pk", "reference", "balance", "balance_as_of", "retailer_id", "status")
    return {a.reference: a for a in accounts}


def balance_entries_check(
    entries: Sequence[tuple[int, BalanceEntry]], *, by: User | None = None
) -> BalanceCheck:
    """Check balances (row number, entry) against the accounts; nothing is written.

    A reference that names no account ``by`` may see is an error, like an unknown one.
    """
    accounts = _accounts_by_reference({e.reference for _n, e in entries}, by=by)
    latest = timezone.now() + BALANCE_CLOCK_SKEW
    changes, errors, seen = [], [], {}
    for number, entry in entries:
        account = accounts.get(entry.reference)
        if account is None:
            errors.append(
                imports.RowError(
                    number,
                    _("no settlement account has the reference %(v)s.") % {"v": entry.reference},
                )
            )
        elif entry.reference in seen:
            errors.append(
                imports.RowError(
                    number,
                    _("the reference %(v)s appears again (first in row %(first)s).")
                    % {"v": entry.reference, "first": seen[entry.reference]},
                )
            )
        elif entry.as_of > latest:
            errors.append(imports.RowError(number, _("the as-of time is in the future.")))
        else:
            changes.append(BalanceChange(row=number, account=account, entry=entry))
        seen.setdefault(entry.reference, number)
    return BalanceCheck(changes=changes, errors=errors)


def balance_file_check(*, text: str, by: User | None = None) -> BalanceCheck:
    """Check a bank balance file ``reference,balance,as_of`` (the dry run)."""
    parsed = imports.read_rows(text, columns=BALANCE_COLUMNS, required=BALANCE_COLUMNS)
    errors = list(parsed.errors)
    entries = []
    for number, row in parsed.rows:
        balance = imports.parse_amount(row["balance"])
        as_of = imports.parse_moment(row["as_of"])
        if balance is None:
            errors.append(
                imports.RowError(
                    number,
                    _("balance must be an amount of at least 0 with at most 2 decimals, not %(v)s.")
                    % {"v": row["balance"]},
                )
            )
        if as_of is None:
            errors.append(
                imports.RowError(
                    number,
                    _("as_of must be a date and time such as 2026-11-25 18:00, not %(v)s.")
                    % {"v": row["as_of"]},
                )
            )
        if balance is not None and as_of is not None:
            entries.append((number, BalanceEntry(row["reference"], balance, as_of)))
    check = balance_entries_check(entries, by=by)
    check.errors = sorted(errors + check.errors, key=lambda e: e.row)
    return check


@dataclass
class BalanceUpdate:
    updated: int
    stale: int


def _apply_balances(check: BalanceCheck, *, field: str = "file") -> BalanceUpdate:
    if not check.ok:
        raise rejected(check.errors, field=field)
    ids = [c.account.pk for c in check.changes]
    # Lock the accounts, then compare with what is known at this moment, not at preview time.
    current = {
        a.pk: a
        for a in SettlementAccount.objects.select_for_update()
        .filter(pk__in=ids)
        .only("pk", "balance", "balance_as_of")
    }
    changed = []
    for change in check.changes:
        account = current[change.account.pk]
        if account.balance_as_of is not None and change.entry.as_of <= account.balance_as_of:
            continue
        account.balance, account.balance_as_of = change.entry.balance, change.entry.as_of
        changed.append(account)
    SettlementAccount.objects.bulk_update(changed, ["balance", "balance_as_of"], batch_size=1000)
    return BalanceUpdate(updated=len(changed), stale=len(check.changes) - len(changed))


def _audit_balances(result: BalanceUpdate, *, by: User | None, source: str, target=None) -> None:
    """One audit entry per balance import (not one per account): how many changed."""
    audit.record(
        actor=by,
        action=AuditAction.BALANCES_IMPORTED,
        target=target,
        label=source[:200],
        after={"updated": result.updated, "stale": result.stale},
    )


@transaction.atomic
def balances_update(
    *, entries: Sequence[BalanceEntry], by: User | None = None, field: str = "balances"
) -> BalanceUpdate:
    """Record balances pushed by the bank (API): all or nothing, the newest value wins.

    Errors name the entry as "Row N", N counting from 1, under ``field``.
    """
    result = _apply_balances(
        balance_entries_check(list(enumerate(entries, start=1)), by=by), field=field
    )
    _audit_balances(result, by=by, source=_("Balances pushed through the API"))
    return result


@transaction.atomic
def balance_file_apply(*, text: str) -> BalanceUpdate:
    """Apply a bank balance file at once (the command): all or nothing."""
    result = _apply_balances(balance_file_check(text=text))
    log_import(kind="balances", outcome="applied", rows=result.updated + result.stale)
    _audit_balances(result, by=None, source=_("Balance file applied by a command"))
    return result


@transaction.atomic
def balance_import_apply(*, batch: ImportBatch, by: User | None = None) -> BalanceUpdate:
    """Apply a previewed balance file (the page): all or nothing, and only once."""
    _claim_batch(batch, kind=ImportKind.BALANCES)
    result = _apply_balances(balance_file_check(text=batch.content, by=by))
    log_import(
        kind="balances",
        outcome="applied",
        rows=result.updated + result.stale,
        user=by,
        source=batch.file_name,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows=result.updated + result.stale,
        summary=_("%(updated)s balances updated, %(stale)s older ones ignored.")
        % {"updated": result.updated, "stale": result.stale},
    )
    _audit_balances(result, by=by, source=batch.file_name, target=batch)
    return result


# --- Settlement accounts ----------------------------------------------------------------------


def account_snapshot(account: SettlementAccount) -> dict:
    """What the audit history keeps of an account: never the number, only its last digits."""
    return {
        "retailer": account.retailer_id,
        "reference": account.reference,
        "bank_name": account.bank_name,
        "account_holder": account.account_holder,
        "account_last4": account.account_last4,
        "status": account.status,
        "balance": account.balance,
        "balance_as_of": account.balance_as_of,
        "opened_on": account.opened_on,
    }


def _account_district(account: SettlementAccount) -> int | None:
    return (
        Retailer.objects.filter(pk=account.retailer_id)
        .values_list("route__district_id", flat=True)
        .first()
    )


@transaction.atomic
def settlement_account_save(
    *, account: SettlementAccount, by: User, new_number: str = "", reason: str = ""
) -> SettlementAccount:
    """Create or change an account (the admin's form), with its audit entry.

    A new number replaces the encrypted one and its last four digits; the history records
    only that the number changed (and the new last digits), never the number itself.
    """
    before = None
    if account.pk is not None:
        stored = SettlementAccount.objects.select_for_update().filter(pk=account.pk).first()
        before = account_snapshot(stored) if stored else None
    if new_number:
        account.account_number, account.account_last4 = new_number, new_number[-4:]
    account.full_clean()
    account.save()
    after = account_snapshot(account)
    if before is None:
        audit.record(
            actor=by,
            action=AuditAction.ACCOUNT_CREATED,
            target=account,
            after=after,
            district_id=_account_district(account),
            reason=reason,
        )
        return account
    changed_from, changed_to = audit.changes(before, after)
    if new_number:
        changed_to["account_number_changed"] = True
    if changed_to:
        audit.record(
            actor=by,
            action=AuditAction.ACCOUNT_CHANGED,
            target=account,
            before=changed_from,
            after=changed_to,
            district_id=_account_district(account),
            reason=reason,
        )
    return account


@transaction.atomic
def account_number_reveal(*, account: SettlementAccount, by: User, reason: str = "") -> str:
    """The full account number, for a supervisor or administrator who asks for it (SECURITY.md).

    The caller has looked the account up in ``selectors.visible_accounts(by)`` (another
    district's account is a 404 before this). Every reveal is audited: who, when, which
    account, from which address, and why; the log line names the account, never the number.
    """
    if not can_reveal_account_number(by):
        raise PermissionDenied(_("Your role may not see account numbers."))
    number = SettlementAccount.objects.values_list("account_number", flat=True).get(pk=account.pk)
    audit.record(
        actor=by,
        action=AuditAction.ACCOUNT_REVEALED,
        target=account,
        label=f"{account.reference} ({account.masked_account_number})",
        district_id=_account_district(account),
        reason=reason.strip(),
    )
    return number


# --- Debits ---------------------------------------------------------------------------------


def debit_key(order_id: int, attempt: int) -> str:
    return f"o{order_id}a{attempt}"


def debitable_orders():
    """Orders the debit job must (still) debit: placed orders that were placed under
    e-settlement (not a cash payer's, even if the retailer has switched since), and any order
    with an attempt left open by a crash."""
    return Order.objects.filter(
        Q(
            status=OrderStatus.PLACED,
            e_settlement=True,
            retailer__settlement_account__isnull=False,
        )
        | Q(debits__status=DebitStatus.PENDING)
    ).distinct()


@transaction.atomic
def debit_claim(*, order_id: int, retry: bool = False, by: User | None = None) -> Debit | None:
    """Open the order's next debit attempt, or return the open one; ``None`` if nothing to do.

    The order row is locked, so two workers claiming the same order queue up here; the
    second finds the first one's attempt. The attempt, with its idempotency key, is committed
    before the bank is called (:func:`debit_execute`).
    """
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or order.status in (OrderStatus.PAID, OrderStatus.CANCELLED):
        return None
    debits = Debit.objects.filter(order=order)
    pending = debits.filter(status=DebitStatus.PENDING).first()
    if pending is not None:
        return pending
    if debits.filter(status=DebitStatus.SUCCESS).exists():
        return None
    last = debits.aggregate(last=Max("attempt"))["last"] or 0
    if last and not retry:
        return None  # attempted already: a new attempt is a deliberate retry
    account = SettlementAccount.objects.filter(retailer_id=order.retailer_id).first()
    if account is None or order.total_amount <= 0:
        return None
    return Debit.objects.create(
        order=order,
        account=account,
        attempt=last + 1,
        idempotency_key=debit_key(order.pk, last + 1),
        amount=order.total_amount,
        requested_by=by,
    )


@transaction.atomic
def _debit_record(*, debit: Debit, result: DebitResult) -> Debit:
    status = result.status
    if status not in (DebitStatus.SUCCESS, DebitStatus.INSUFFICIENT_FUNDS, DebitStatus.FAILED):
        status = DebitStatus.FAILED
    now = timezone.now()
    recorded = Debit.objects.filter(pk=debit.pk, status=DebitStatus.PENDING).update(
        status=status,
        bank_reference=result.bank_reference[:64],
        message=result.message[:200],
        completed_at=now,
    )
    if recorded:
        order_status = (
            OrderStatus.PAID if status == DebitStatus.SUCCESS else OrderStatus.PAYMENT_FAILED
        )
        Order.objects.filter(pk=debit.order_id).exclude(
            status__in=(OrderStatus.PAID, OrderStatus.CANCELLED)
        ).update(status=order_status, updated_at=now)
        if result.balance_after is not None:
            as_of = result.balance_as_of or now
            SettlementAccount.objects.filter(pk=debit.account_id).filter(
                Q(balance_as_of__isnull=True) | Q(balance_as_of__lte=as_of)
            ).update(balance=result.balance_after, balance_as_of=as_of)
        logger.info("debit %s: %s", debit.idempotency_key, status)
    debit.refresh_from_db()
    return debit


def debit_execute(*, debit_id: int) -> Debit:
    """Ask the bank to debit an open attempt and record the answer.

    Must run outside a transaction: the attempt row has to be committed before the bank is
    called. :class:`bank.BankUnavailable` propagates with the attempt still open; calling
    again sends the same key, and the bank answers with its first result.
    """
    debit = Debit.objects.select_related("account").get(pk=debit_id)
    if debit.status != DebitStatus.PENDING:
        return debit
    account = debit.account
    result = get_bank().debit(
        DebitRequest(
            key=debit.idempotency_key,
            account_reference=account.reference,
            account_number=account.account_number,
            amount=debit.amount,
        )
    )
    return _debit_record(debit=debit, result=result)


def debit_order(*, order_id: int) -> Debit | None:
    """The debit job for one order: claim its attempt, then call the bank (DESIGN §6)."""
    debit = debit_claim(order_id=order_id)
    return None if debit is None else debit_execute(debit_id=debit.pk)


def debit_retry(*, order: Order, by: User) -> Debit:
    """Open a new attempt for a failed order once funds have arrived (executed by a task).

    The last known balance must cover the amount; import a newer balance file first.
    """
    if not visible_retailers(by).filter(pk=order.retailer_id).exists():
        raise ApplicationError(_("This order is not on your routes."))
    order.refresh_from_db(fields=["status", "total_amount"])
    if order.status != OrderStatus.PAYMENT_FAILED:
        raise ApplicationError(_("Only an order whose payment failed can be retried."))
    account = SettlementAccount.objects.filter(retailer_id=order.retailer_id).first()
    if account is None:
        raise ApplicationError(_("The retailer has no settlement account."))
    if account.balance < order.total_amount:
        raise ApplicationError(
            _(
                "The last known balance (%(balance)s) does not cover the order (%(amount)s); "
                "import a newer balance file first."
            )
            % {"balance": account.balance, "amount": order.total_amount}
        )
    if Debit.objects.filter(order=order, status=DebitStatus.PENDING).exists():
        raise ApplicationError(_("A debit of this order is in progress already."))
    debit = debit_claim(order_id=order.pk, retry=True, by=by)
    if debit is None:  # paid or cancelled meanwhile
        raise ApplicationError(_("Only an order whose payment failed can be retried."))
    return debit


@transaction.atomic
def debits_retry_covered() -> list[int]:
    """Open retry attempts for failed orders whose account now covers the amount.

    Runs after a balance import: that is how a failed debit is retried "once funds arrive".
    Returns the attempts to execute.
    """
    orders = (
        Order.objects.filter(
            status=OrderStatus.PAYMENT_FAILED,
            retailer__settlement_account__status=SettlementAccountStatus.ACTIVE,
            retailer__settlement_account__balance__gte=F("total_amount"),
        )
        .exclude(debits__status=DebitStatus.PENDING)
        .order_by("ordered_at", "pk")
        .values_list("pk", flat=True)
    )
    claimed = []
    for order_id in orders:
        debit = debit_claim(order_id=order_id, retry=True)
        if debit is not None:
            claimed.append(debit.pk)
    return claimed


def debit_batches(*, chunk_size: int | None = None) -> list[list[int]]:
    """The orders to debit now, in bounded chunks of ids for the workers."""
    size = chunk_size or settings.SETTLEMENT_DEBIT_CHUNK_SIZE
    ids = list(
        debitable_orders()
        .filter(ordered_at__lte=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [ids[start : start + size] for start in range(0, len(ids), size)]


# --- Balance reminders ----------------------------------------------------------------------


def is_large(*, star: int | None, expected: Decimal) -> bool:
    """A "large busy" retailer (DESIGN §2.3): 4★ and up, or a large expected order."""
    return (star or 0) >= settings.SETTLEMENT_LARGE_STAR or expected >= Decimal(
        settings.SETTLEMENT_LARGE_EXPECTED_AMOUNT
    )


def previous_cycles(cycle: Cycle, n: int | None = None) -> list[int]:
    n = n or settings.SETTLEMENT_REMINDER_CYCLES
    return list(
        Cycle.objects.filter(start_date__lt=cycle.start_date)
        .order_by("-start_date")
        .values_list("pk", flat=True)[:n]
    )


def expected_amounts(*, cycle: Cycle, routes):
    """Per e-settlement retailer on ``routes`` not yet reminded for ``cycle``, whose last known
    balance is below its expected order amount: one aggregate query (rows of dicts).

    The expected amount is the mean order total per cycle over those of the last N cycles
    before ``cycle`` in which the retailer ordered (``SETTLEMENT_REMINDER_CYCLES``, default
    4): sum of totals ÷ number of those cycles, rounded to the cent. A retailer that ordered
    in none of them has no expected amount and is not reminded.
    """
    orders = Order.objects.filter(
        cycle_id__in=previous_cycles(cycle),
        status__in=COUNTED_ORDER_STATUSES,
        retailer__route__in=routes,
        retailer__status=RetailerStatus.ACTIVE,
        retailer__payment_method=PaymentMethod.E_SETTLEMENT,
        retailer__settlement_account__status=SettlementAccountStatus.ACTIVE,
    ).filter(
        ~Exists(BalanceReminder.objects.filter(retailer_id=OuterRef("retailer_id"), cycle=cycle))
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        orders.values(
            retailer_ref=F("retailer_id"),
            star=F("retailer__star"),
            assist=F("retailer__needs_assistance"),
            known=F("retailer__settlement_account__balance"),
            known_as_of=F("retailer__settlement_account__balance_as_of"),
        )
        .annotate(total=Sum("total_amount"), cycles=Count("cycle_id", distinct=True))
        .annotate(
            expected=Round(ExpressionWrapper(F("total") / F("cycles"), output_field=money), 2)
        )
        .filter(known__lt=F("expected"))
        .order_by()
    )


def order_day_in(cycle: Cycle, weekday: int) -> dt.date:
    offset = (weekday - cycle.start_date.weekday()) % 7
    return cycle.start_date + dt.timedelta(days=offset)


def balance_reminders_create(*, day: dt.date | None = None) -> int:
    """Create the reminders for the routes whose order day is tomorrow (DESIGN §2.3).

    Every active e-settlement retailer on those routes whose last known balance is below its
    expected order amount gets one reminder for the cycle of that order day; a rerun finds
    them and adds none (unique per retailer and cycle, inserted with ``ON CONFLICT DO
    NOTHING``). Large busy retailers and those who need assistance are due at once (the day
    before); the others on the morning of order day. Returns how many reminders were written.
    """
    day = day or timezone.localdate()
    order_date = day + dt.timedelta(days=1)
    cycle = Cycle.objects.filter(start_date__lte=order_date, end_date__gte=order_date).first()
    if cycle is None:
        logger.warning("no cycle contains %s: no balance reminders", order_date)
        return 0
    routes = Route.objects.filter(visit_weekday=order_date.weekday())
    now = timezone.now()
    morning = timezone.make_aware(
        dt.datetime.combine(order_date, dt.time(settings.SETTLEMENT_ORDER_DAY_REMINDER_HOUR))
    )
    candidates, params = expected_amounts(cycle=cycle, routes=routes).query.sql_with_params()
    ops = connection.ops
    large = "(COALESCE(c.star, 0) >= %s OR c.expected >= %s)"
    large_params = [
        settings.SETTLEMENT_LARGE_STAR,
        ops.adapt_decimalfield_value(Decimal(settings.SETTLEMENT_LARGE_EXPECTED_AMOUNT)),
    ]
    at_once, later = (
        ops.adapt_datetimefield_value(now),
        ops.adapt_datetimefield_value(max(now, morning)),
    )
    table = connection.ops.quote_name(BalanceReminder._meta.db_table)
    # One statement, whatever the number of retailers: INSERT … SELECT over the aggregate,
    # and the unique (retailer, cycle) turns a rerun's rows into nothing.
    sql = f"""
        INSERT INTO {table} (retailer_id, cycle_id, order_date, expected_amount, balance,
                             balance_as_of, large, help_deposit, send_after, created_at)
        SELECT c.retailer_ref, %s, %s, c.expected, c.known, c.known_as_of, {large}, c.assist,
               CASE WHEN {large} OR c.assist THEN %s ELSE %s END, %s
        FROM ({candidates}) c
        WHERE c.known < c.expected
        ON CONFLICT (retailer_id, cycle_id) DO NOTHING
    """  # noqa: S608 - only our own compiled SQL and placeholders are interpolated
    with connection.cursor() as cursor:  # one statement: atomic by itself
        cursor.execute(
            sql,
            [
                cycle.pk,
                ops.adapt_datefield_value(order_date),
                *large_params,
                *large_params,
                at_once,
                later,
                at_once,
                *params,
            ],
        )
        written = cursor.rowcount
    logger.info("balance reminders for %s: %s written", order_date, written)
    return written


def reminder_text(reminder: BalanceReminder) -> str:
    """The SMS text, in the active language (callers use the site's, ``LANGUAGE_CODE``)."""
    return _(
        "%(name)s: your e-settlement balance is %(balance)s yuan and your order on "
        "%(day)s is expected to be about %(expected)s yuan. Please deposit enough before "
        "then."
    ) % {
        "name": reminder.retailer.name,
        "balance": reminder.balance,
        "day": reminder.order_date.strftime("%m-%d"),
        "expected": reminder.expected_amount,
    }


def reminders_send_due(*, now: dt.datetime | None = None, batch_size: int = 2000) -> int:
    """Hand the due, unsent reminders to the notifier, in batches; returns how many.

    Each batch is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked sent in the same
    transaction, so two runs never send the same reminder; the notifier gets a key per
    reminder for the case where the gateway accepted a batch and the commit failed.
    Reminders for an order day already past are not sent.
    """
    now = now or timezone.now()
    notifier = get_notifier()
    sent = 0
    while True:
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            # Oldest due first: the large retailers' reminders are due the day before.
            batch = list(
                BalanceReminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, send_after__lte=now)
                .filter(order_date__gte=timezone.localdate(now))
                .select_related("retailer")
                .only(
                    "pk",
                    "order_date",
                    "balance",
                    "expected_amount",
                    "retailer__name",
                    "retailer__phone",
                )
                .order_by("send_after", "pk")[:batch_size]
            )
            if not batch:
                return sent
            notifier.send(
                [
                    Message(
                        key=f"reminder-{r.pk}",
                        reminder_id=r.pk,
                        phone=r.retailer.phone,
                        text=reminder_text(r),
                    )
                    for r in batch
                ]
            )
            BalanceReminder.objects.filter(pk__in=[r.pk for r in batch]).update(sent_at=now)
            sent += len(batch)


def reminder_mark_helped(*, reminder: BalanceReminder, by: User) -> BalanceReminder:
    """The account manager records that they helped the retailer deposit."""
    if not visible_retailers(by).filter(pk=reminder.retailer_id).exists():
        raise ApplicationError(_("This reminder is not for a retailer on your routes."))
    if not reminder.help_deposit:
        raise ApplicationError(_("This retailer was not put on the list for help to deposit."))
    BalanceReminder.objects.filter(pk=reminder.pk, helped_at__isnull=True).update(
        helped_at=timezone.now(), helped_by=by
    )
    reminder.refresh_from_db()
    return reminder


# --- Month-end rebates ----------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return month_start(month_start(day) - dt.timedelta(days=1))


def rebates_create(*, month: dt.date) -> RebateRun | None:
    """Pay the month-end rebates of ``month`` (DESIGN §2.4, §6); ``None`` if already done.

    One rebate per retailer with rebate-able orders placed before the month's end that no
    earlier rebate paid: non-online orders that are not cancelled and not left unpaid (an
    order whose debit failed and was paid later is rebated with the following month). Each
    order is linked to the rebate that paid it, and the month is claimed by a
    :class:`RebateRun` row, so a second run pays nothing. Set-based: three statements.
    """
    month = month_start(month)
    end = timezone.make_aware(dt.datetime.combine(next_month(month), dt.time.min))
    if end > timezone.now():
        raise ApplicationError(_("Rebates are paid after the month has ended."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = RebateRun.objects.create(month=month)
        except IntegrityError:
            return None
        eligible = Order.objects.filter(
            ordered_at__lt=end,
            rebate__isnull=True,
            rebate_amount__gt=0,
            status__in=REBATED_ORDER_STATUSES,
        ).exclude(channel=OrderChannel.ONLINE)
        retailer_ids = eligible.values_list("retailer_id", flat=True).distinct().order_by()
        Rebate.objects.bulk_create(
            (Rebate(retailer_id=pk, month=month) for pk in retailer_ids.iterator()),
            batch_size=5000,
            ignore_conflicts=True,
        )
        eligible.update(
            rebate=Subquery(
                Rebate.objects.filter(retailer_id=OuterRef("retailer_id"), month=month).values(
                    "pk"
                )[:1]
            )
        )
        linked = Order.objects.filter(rebate=OuterRef("pk")).order_by().values("rebate")
        Rebate.objects.filter(month=month).update(
            amount=Coalesce(
                Subquery(linked.annotate(s=Sum("rebate_amount")).values("s")),
                Value(Decimal("0.00")),
            ),
            orders_count=Coalesce(Subquery(linked.annotate(c=Count("pk")).values("c")), Value(0)),
        )
        totals = Rebate.objects.filter(month=month).aggregate(n=Count("pk"), s=Sum("amount"))
        run.rebates, run.amount = totals["n"], totals["s"] or Decimal("0.00")
        run.save(update_fields=["rebates", "amount"])
    logger.info("rebates for %s: %s, %s yuan", month, run.rebates, run.amount)
    return run


# --- Brand-cultivation targets (DESIGN §2.6) ------------------------------------------------

#: Bounds that catch typing mistakes: a target spans at most a year, and its figures are
#: within what a county branch can reach.
MAX_TARGET_DAYS = 366
MAX_TARGET_RETAILERS = 100_000
MAX_TARGET_CARTONS = 10_000_000


@dataclass(frozen=True)
class TargetInput:
    account_manager: User
    brand: Brand | None
    brand_group: str
    start_date: dt.date
    end_date: dt.date
    target_retailers: int | None
    target_cartons: int | None


def _target_errors(data: TargetInput, *, by: User) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not manageable_managers(by).filter(pk=data.account_manager.pk).exists():
        add("account_manager", _("Choose an account manager of your districts."))
    if (data.brand is None) == (data.brand_group == ""):
        add("brand", _("Choose either one brand or one group of brands."))
    elif data.brand_group and data.brand_group not in BRAND_GROUP_FLAGS:
        add("brand_group", _("Choose a group from the list."))
    if data.end_date < data.start_date:
        add("end_date", _("The period ends before it starts."))
    elif (data.end_date - data.start_date).days + 1 > MAX_TARGET_DAYS:
        add("end_date", _("A target covers at most a year."))
    for name, value, limit in (
        ("target_retailers", data.target_retailers, MAX_TARGET_RETAILERS),
        ("target_cartons", data.target_cartons, MAX_TARGET_CARTONS),
    ):
        if value is not None and not 1 <= value <= limit:
            add(name, _("Enter a whole number from 1 to %(limit)s.") % {"limit": limit})
    if data.target_retailers is None and data.target_cartons is None:
        add("target_retailers", _("Set retailers carrying, cartons, or both."))
    return errors


def _duplicate_target(data: TargetInput, *, exclude: int | None) -> bool:
    same = CultivationTarget.objects.filter(
        account_manager=data.account_manager,
        brand=data.brand,
        brand_group=data.brand_group,
        start_date=data.start_date,
        end_date=data.end_date,
    )
    return same.exclude(pk=exclude).exists() if exclude else same.exists()


def _save_target(target: CultivationTarget, data: TargetInput, *, by: User) -> CultivationTarget:
    errors = _target_errors(data, by=by)
    if not errors and _duplicate_target(data, exclude=target.pk):
        errors["brand"] = [
            _("This account manager already has a target for this brand and period.")
        ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(first, extra=errors)
    for name, value in vars(data).items():
        setattr(target, name, value)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:  # a concurrent save of the same target won
        message = _("This account manager already has a target for this brand and period.")
        raise ApplicationError(message, extra={"brand": [message]}) from exc
    return target


@transaction.atomic
def cultivation_target_create(*, data: TargetInput, by: User) -> CultivationTarget:
    """Set a brand-cultivation target for an account manager of ``by``'s districts.

    Refused, naming the field: a manager ``by`` may not manage, neither or both of a brand and
    a group, a period that ends before it starts or spans more than a year, figures that are
    not whole numbers from 1 up (at least one set), or the same manager, brand (or group) and
    period twice (also guarded by unique constraints).
    """
    return _save_target(CultivationTarget(created_by=by), data, by=by)


@transaction.atomic
def cultivation_target_update(
    *, target: CultivationTarget, data: TargetInput, by: User
) -> CultivationTarget:
    """Change a target, under the same rules as :func:`cultivation_target_create`; ``by`` must
    manage the target's current manager too."""
    if not manageable_managers(by).filter(pk=target.account_manager_id).exists():
        raise ApplicationError(_("You may not change this target."))
    return _save_target(target, data, by=by)


@transaction.atomic
def cultivation_target_delete(*, target: CultivationTarget, by: User) -> None:
    if not manageable_managers(by).filter(pk=target.account_manager_id).exists():
        raise ApplicationError(_("You may not delete this target."))
    target.delete()
