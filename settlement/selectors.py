"""Read queries for e-settlement, scoped to the user through ``visible_retailers``.

Other apps (the Today page in ``visits``) read balance warnings through
:func:`balance_warnings` and :func:`reminders_for_manager`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from accounts.models import User
from accounts.permissions import can_view_settlement_data
from retailers.selectors import visible_retailers
from settlement.models import (
    BalanceReminder,
    Debit,
    DebitStatus,
    Order,
    OrderLine,
    OrderStatus,
    Rebate,
    SettlementAccount,
)
from territory.models import Cycle, District, Route
from territory.selectors import visible_routes

FAILURES_SHOWN = 200
TREND_CYCLES = 8


def _scoped(queryset: QuerySet, user: User, *, prefix: str) -> QuerySet:
    """Filter rows whose retailer (reached by ``prefix``) the user may see."""
    return queryset.filter(**{f"{prefix}in": visible_retailers(user)})


# --- Orders ---------------------------------------------------------------------------------


def visible_orders(user: User) -> QuerySet[Order]:
    return _scoped(Order.objects.all(), user, prefix="retailer__")


def order_list(
    *,
    user: User,
    cycle: Cycle | None = None,
    route: Route | None = None,
    channel: str | None = None,
    status: str | None = None,
    search: str = "",
) -> QuerySet[Order]:
    orders = visible_orders(user).select_related("retailer", "retailer__route", "cycle")
    if cycle is not None:
        orders = orders.filter(cycle=cycle)
    if route is not None:
        orders = orders.filter(retailer__route=route)
    if channel:
        orders = orders.filter(channel=channel)
    if status:
        orders = orders.filter(status=status)
    if search:
        orders = orders.filter(
            Q(retailer__name__icontains=search)
            | Q(retailer__licence_number__istartswith=search)
            | Q(external_ref=search)
        )
    return orders.annotate(cartons=Sum("lines__cartons")).order_by("-ordered_at", "-id")


def order_detail(*, user: User, pk: int) -> Order:
    """One visible order with its lines and debits; raises ``Order.DoesNotExist``."""
    return (
        visible_orders(user)
        .select_related("retailer", "retailer__route", "cycle", "entered_by", "rebate")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("brand").order_by("pk")),
            Prefetch(
                "debits", queryset=Debit.objects.select_related("requested_by").order_by("attempt")
            ),
        )
        .annotate(
            account_balance=F("retailer__settlement_account__balance"),
            account_balance_as_of=F("retailer__settlement_account__balance_as_of"),
            account_last4=F("retailer__settlement_account__account_last4"),
        )
        .get(pk=pk)
    )


def visible_debits(user: User) -> QuerySet[Debit]:
    return _scoped(Debit.objects.all(), user, prefix="order__retailer__").select_related(
        "order", "order__retailer"
    )


def visible_accounts(user: User) -> QuerySet[SettlementAccount]:
    """Settlement accounts, for those who may see them (:func:`can_view_settlement_data`).

    The encrypted number is deferred: nothing that lists accounts needs it.
    """
    if not can_view_settlement_data(user):
        return SettlementAccount.objects.none()
    return _scoped(SettlementAccount.objects.all(), user, prefix="retailer__").defer(
        "account_number"
    )


def current_cycle(day: dt.date) -> Cycle | None:
    return Cycle.objects.filter(start_date__lte=day, end_date__gte=day).first()


# --- Reminders ------------------------------------------------------------------------------


def visible_reminders(user: User) -> QuerySet[BalanceReminder]:
    return _scoped(BalanceReminder.objects.all(), user, prefix="retailer__")


def reminders_for_manager(
    *, user: User, cycle: Cycle, help_only: bool = False
) -> QuerySet[BalanceReminder]:
    """The user's reminders of a cycle, help-to-deposit ones and larger shortfalls first."""
    reminders = (
        visible_reminders(user)
        .filter(cycle=cycle)
        .select_related("retailer", "retailer__route", "helped_by")
    )
    if help_only:
        reminders = reminders.filter(help_deposit=True)
    return reminders.order_by("order_date", "-help_deposit", "-large", "retailer__stop_order")


@dataclass(frozen=True)
class BalanceWarning:
    """What the Today page shows beside a retailer: remind it, or help it deposit."""

    reminder_id: int
    retailer_id: int
    order_date: dt.date
    expected_amount: Decimal
    balance: Decimal
    shortfall: Decimal
    large: bool
    help_deposit: bool
    helped: bool
    sent: bool


def balance_warnings(*, user: User, day: dt.date) -> dict[int, BalanceWarning]:
    """Per visible retailer id: its reminder for an order day of ``day`` or the day after.

    The reminder job runs the day before order day, so on ``day`` the list holds tomorrow's
    reminders (time to help deposit) and today's (to check at the visit). One query.
    """
    reminders = visible_reminders(user).filter(
        order_date__gte=day, order_date__lte=day + dt.timedelta(days=1)
    )
    return {
        r.retailer_id: BalanceWarning(
            reminder_id=r.pk,
            retailer_id=r.retailer_id,
            order_date=r.order_date,
            expected_amount=r.expected_amount,
            balance=r.balance,
            shortfall=r.shortfall,
            large=r.large,
            help_deposit=r.help_deposit,
            helped=r.helped_at is not None,
            sent=r.sent_at is not None,
        )
        for r in reminders.order_by("order_date")
    }


# --- Dashboard ------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class DebitStats:
    """Debit results of a set of orders (DESIGN §2.3 goal: above 95 %).

    ``attempted``: orders whose first debit attempt has an answer from the bank;
    ``succeeded``: of those, the ones whose first attempt succeeded. The success rate is
    succeeded ÷ attempted. ``recovered`` counts failed first attempts paid by a retry.
    """

    label: str
    attempted: int = 0
    succeeded: int = 0
    recovered: int = 0
    key: object = None

    @property
    def failed(self) -> int:
        return self.attempted - self.succeeded

    @property
    def rate(self) -> Decimal | None:
        return _rate(self.succeeded, self.attempted)

    @property
    def meets_goal(self) -> bool | None:
        rate = self.rate
        return None if rate is None else rate >= settings.SETTLEMENT_DEBIT_SUCCESS_GOAL

    def add(self, *, attempted: int, succeeded: int, recovered: int) -> None:
        self.attempted += attempted
        self.succeeded += succeeded
        self.recovered += recovered


@dataclass
class ReminderCounts:
    created: int = 0
    sent: int = 0
    large: int = 0
    help_deposit: int = 0
    helped: int = 0


@dataclass
class Dashboard:
    cycle: Cycle
    district: District | None
    goal: int
    total: DebitStats
    by_route: list[DebitStats]
    reminded: DebitStats
    not_reminded: DebitStats
    reminders: ReminderCounts
    failures: list[Order]
    failures_count: int
    trend: list[DebitStats] = field(default_factory=list)


def _first_attempts(user: User, district: District | None) -> QuerySet[Debit]:
    debits = _scoped(
        Debit.objects.filter(attempt=1).exclude(status=DebitStatus.PENDING),
        user,
        prefix="order__retailer__",
    )
    if district is not None:
        debits = debits.filter(order__retailer__route__district=district)
    return debits


def _counts():
    return {
        "attempted": Count("pk"),
        "succeeded": Count("pk", filter=Q(status=DebitStatus.SUCCESS)),
        "recovered": Count(
            "pk", filter=~Q(status=DebitStatus.SUCCESS) & Q(order__status=OrderStatus.PAID)
        ),
    }


def settlement_dashboard(*, user: User, cycle: Cycle, district: District | None) -> Dashboard:
    """E-settlement figures of a cycle for the user's routes (of ``district`` if given).

    Debit success by route and by whether the retailer was reminded for the cycle, the
    reminders of the cycle, the failed orders to follow up, and the rate of recent cycles.
    """
    routes = visible_routes(user).order_by("district__code", "code")
    if district is not None:
        routes = routes.filter(district=district)
    routes = list(routes)
    several = len({r.district_id for r in routes}) > 1
    by_route = {
        r.pk: DebitStats(label=f"{r.district.name} {r.code}" if several else r.code, key=r)
        for r in routes
    }
    total = DebitStats(label="total")
    reminded, not_reminded = DebitStats(label="reminded"), DebitStats(label="not reminded")
    was_reminded = Exists(
        BalanceReminder.objects.filter(
            retailer_id=OuterRef("order__retailer_id"), cycle_id=OuterRef("order__cycle_id")
        )
    )
    rows = (
        _first_attempts(user, district)
        .filter(order__cycle=cycle)
        .annotate(reminded=was_reminded)
        .values("order__retailer__route_id", "reminded")
        .annotate(**_counts())
        .order_by()
    )
    for row in rows:
        counts = {k: row[k] for k in ("attempted", "succeeded", "recovered")}
        total.add(**counts)
        (reminded if row["reminded"] else not_reminded).add(**counts)
        if row["order__retailer__route_id"] in by_route:
            by_route[row["order__retailer__route_id"]].add(**counts)

    reminders = visible_reminders(user).filter(cycle=cycle)
    if district is not None:
        reminders = reminders.filter(retailer__route__district=district)
    reminder_counts = ReminderCounts(
        **reminders.aggregate(
            created=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            large=Count("pk", filter=Q(large=True)),
            help_deposit=Count("pk", filter=Q(help_deposit=True)),
            helped=Count("pk", filter=Q(helped_at__isnull=False)),
        )
    )

    failures = failed_orders(user=user, cycle=cycle, district=district)
    trend_cycles = list(
        Cycle.objects.filter(start_date__lte=cycle.start_date).order_by("-start_date")[
            :TREND_CYCLES
        ]
    )
    trend = {c.pk: DebitStats(label=c.code, key=c) for c in reversed(trend_cycles)}
    for row in (
        _first_attempts(user, district)
        .filter(order__cycle__in=trend_cycles)
        .values("order__cycle_id")
        .annotate(**_counts())
        .order_by()
    ):
        trend[row["order__cycle_id"]].add(
            attempted=row["attempted"], succeeded=row["succeeded"], recovered=row["recovered"]
        )
    return Dashboard(
        cycle=cycle,
        district=district,
        goal=settings.SETTLEMENT_DEBIT_SUCCESS_GOAL,
        total=total,
        by_route=list(by_route.values()),
        reminded=reminded,
        not_reminded=not_reminded,
        reminders=reminder_counts,
        failures=list(failures[:FAILURES_SHOWN]),
        failures_count=failures.count(),
        trend=list(trend.values()),
    )


def failed_orders(
    *, user: User, cycle: Cycle | None = None, district: District | None = None
) -> QuerySet[Order]:
    """Orders whose payment failed, to follow up, with their last attempt and known balance."""
    last = Debit.objects.filter(order=OuterRef("pk")).order_by("-attempt")
    orders = visible_orders(user).filter(status=OrderStatus.PAYMENT_FAILED)
    if cycle is not None:
        orders = orders.filter(cycle=cycle)
    if district is not None:
        orders = orders.filter(retailer__route__district=district)
    return (
        orders.select_related("retailer", "retailer__route", "cycle")
        .annotate(
            last_result=Subquery(last.values("status")[:1]),
            last_attempt_at=Subquery(last.values("created_at")[:1]),
            attempts=Count("debits"),
            account_balance=F("retailer__settlement_account__balance"),
            account_balance_as_of=F("retailer__settlement_account__balance_as_of"),
            account_last4=F("retailer__settlement_account__account_last4"),
            reminded=Exists(
                BalanceReminder.objects.filter(
                    retailer_id=OuterRef("retailer_id"), cycle_id=OuterRef("cycle_id")
                )
            ),
        )
        .order_by("retailer__route__code", "retailer__stop_order", "pk")
    )


# --- Rebates --------------------------------------------------------------------------------


def rebate_months(user: User) -> list[dt.date]:
    return list(
        _scoped(Rebate.objects.all(), user, prefix="retailer__")
        .order_by("-month")
        .values_list("month", flat=True)
        .distinct()[:24]
    )


def rebate_report(*, user: User, month: dt.date) -> QuerySet[Rebate]:
    """The rebates of a month, per retailer, in route order."""
    return (
        _scoped(Rebate.objects.filter(month=month), user, prefix="retailer__")
        .select_related("retailer", "retailer__route")
        .order_by("retailer__route__code", "retailer__stop_order", "pk")
    )
