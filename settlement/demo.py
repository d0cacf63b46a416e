"""E-settlement demo data: accounts, 8 past cycles of orders, debits, reminders and rebates.

Orders follow the star (bigger shops order more cartons of dearer brands; online retailers
order online). Debits succeed about 96 % of the time; failures are more frequent among the
retailers that were not reminded, as the source document argues (DESIGN §2.3). Written in
bulk so that seeding stays fast, and only once: a second run finds the orders and stops.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone, translation

from catalog.models import Brand
from config.dates import week_start
from config.demo import DEMO_LICENCE_PREFIXES, DemoContext
from retailers.models import OrderingChannel, PaymentMethod, Retailer, RetailerStatus
from settlement import services
from settlement.models import (
    BalanceReminder,
    Debit,
    DebitStatus,
    Notification,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    SettlementAccount,
)
from territory.models import Cycle

BANKS = ("虞城农商银行", "中国农业银行", "中国邮政储蓄银行", "中国建设银行")
PAST_CYCLES = 8
CENT = Decimal("0.01")

# Per star: chance to order in a cycle, number of lines, price classes, cartons per line.
ORDERING = {
    5: (0.97, (4, 6), (1, 1, 2, 2, 3), (5, 16)),
    4: (0.95, (3, 5), (1, 2, 2, 3, 4), (3, 10)),
    3: (0.90, (2, 4), (2, 3, 3, 4), (2, 7)),
    2: (0.80, (1, 3), (3, 4, 4, 5), (1, 5)),
    1: (0.70, (1, 2), (4, 5, 5), (1, 3)),
    None: (0.80, (1, 3), (3, 4, 5), (1, 4)),
}
#: Share of orders whose retailer was short of funds the day before and got reminded.
REMINDED_SHARE = 0.12
#: Small retailers who need assistance are short more often (and then helped to deposit).
REMINDED_SHARE_ASSISTED = 0.5
FAIL_IF_REMINDED = 0.01
FAIL_IF_NOT_REMINDED = 0.033


def seed(ctx: DemoContext) -> None:
    _seed_accounts(ctx)
    _seed_history(ctx)
    _seed_current_reminders(ctx)
    _seed_rebates(ctx)


def _seed_accounts(ctx: DemoContext) -> None:
    """An e-settlement account for every retailer that pays by e-settlement."""
    as_of = timezone.make_aware(
        dt.datetime.combine(ctx.today - dt.timedelta(days=1), dt.time(18, 0))
    )
    retailers = Retailer.objects.filter(
        payment_method=PaymentMethod.E_SETTLEMENT, settlement_account=None
    ).order_by("licence_number")
    for retailer in retailers:
        rng = ctx.rng(f"settlement:{retailer.licence_number}")
        number = "6" + "".join(str(rng.randrange(10)) for _ in range(18))
        SettlementAccount.objects.create(
            retailer=retailer,
            reference=f"SA{retailer.licence_number}",
            bank_name=rng.choice(BANKS),
            account_holder=retailer.owner_name,
            account_number=number,
            account_last4=number[-4:],
            balance=Decimal(rng.randrange(0, 3000000)) / 100,
            balance_as_of=as_of,
            opened_on=retailer.opened_on,
        )
        ctx.count("settlement accounts")


def _demo_retailers():
    retailers = Retailer.objects.none()
    for prefix in DEMO_LICENCE_PREFIXES:
        retailers = retailers | Retailer.objects.filter(licence_number__startswith=prefix)
    return retailers


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _seed_history(ctx: DemoContext) -> None:
    retailers = list(
        _demo_retailers()
        .select_related("route", "route__account_manager", "settlement_account")
        .prefetch_related("status_history")
        .order_by("licence_number")
    )
    if not retailers or Order.objects.filter(retailer__in=retailers).exists():
        return
    cycles = list(
        Cycle.objects.filter(end_date__lt=week_start(ctx.today)).order_by("-start_date")[
            :PAST_CYCLES
        ]
    )[::-1]
    brands: dict[int, list[Brand]] = {}
    for brand in Brand.objects.filter(is_active=True).order_by("code"):
        brands.setdefault(brand.price_class, []).append(brand)
    if not cycles or not brands:
        return
    rng = ctx.rng("settlement.orders")
    orders, lines_of = [], []
    for cycle in cycles:
        for retailer in retailers:
            order_day = services.order_day_in(cycle, retailer.route.visit_weekday)
            if not _active_on(retailer, order_day):
                continue
            chance, n_lines, classes, cartons = ORDERING[retailer.star]
            if rng.random() > chance:
                continue
            channel = (
                OrderChannel.ONLINE
                if retailer.ordering_channel == OrderingChannel.ONLINE
                else (OrderChannel.VISIT if rng.random() < 0.1 else OrderChannel.PHONE)
            )
            picked: dict[int, tuple[Brand, int]] = {}
            for _ in range(rng.randint(*n_lines)):
                brand = rng.choice(brands[rng.choice(classes)])
                picked[brand.pk] = (brand, rng.randint(*cartons))
            total = rebate = Decimal("0.00")
            lines = []
            for brand, n in picked.values():
                price, difference = services.line_prices(brand=brand, channel=channel)
                total += price * n
                rebate += difference * n
                lines.append(
                    OrderLine(
                        brand=brand,
                        cartons=n,
                        unit_price=price,
                        wholesale_price=brand.wholesale_price,
                    )
                )
            orders.append(
                Order(
                    retailer=retailer,
                    cycle=cycle,
                    channel=channel,
                    status=OrderStatus.PLACED,
                    ordered_at=_aware(order_day, 8 + rng.randrange(4), rng.randrange(60)),
                    entered_by=(
                        None if channel == OrderChannel.ONLINE else retailer.route.account_manager
                    ),
                    total_amount=total,
                    rebate_amount=rebate,
                )
            )
            lines_of.append(lines)
    Order.objects.bulk_create(orders, batch_size=2000)
    for order, lines in zip(orders, lines_of, strict=True):
        for line in lines:
            line.order = order
    OrderLine.objects.bulk_create([x for lines in lines_of for x in lines], batch_size=5000)
    ctx.count("orders", len(orders))
    _seed_settlement(ctx, orders, cycles)


def _active_on(retailer: Retailer, day: dt.date) -> bool:
    status = None
    for change in sorted(retailer.status_history.all(), key=lambda c: c.effective_from):
        if change.effective_from <= day:
            status = change.status
    return status == RetailerStatus.ACTIVE


def _seed_settlement(ctx: DemoContext, orders: list[Order], cycles: list[Cycle]) -> None:
    """Reminders and debits of the past cycles, with a realistic (not perfect) success rate."""
    rng = ctx.rng("settlement.debits")
    recent = {c.pk for c in cycles[-2:]}
    history: dict[int, list[Decimal]] = {}  # retailer → totals of its earlier orders
    reminders, debits = [], []
    for order in sorted(orders, key=lambda o: (o.cycle.start_date, o.retailer.licence_number)):
        retailer = order.retailer
        account = getattr(retailer, "settlement_account", None)
        past = history.setdefault(retailer.pk, [])
        if account is None or retailer.payment_method != PaymentMethod.E_SETTLEMENT:
            past.append(order.total_amount)
            continue
        order_day = timezone.localdate(order.ordered_at)
        share = REMINDED_SHARE_ASSISTED if retailer.needs_assistance else REMINDED_SHARE
        reminded = bool(past) and rng.random() < share
        if reminded:
            recent_totals = past[-4:]
            expected = (sum(recent_totals) / len(recent_totals)).quantize(CENT, ROUND_HALF_UP)
            large = services.is_large(star=retailer.star, expected=expected)
            early = large or retailer.needs_assistance
            day_before = order_day - dt.timedelta(days=1)
            sent_at = _aware(day_before, 15) if early else _aware(order_day, 7)
            reminder = BalanceReminder(
                retailer=retailer,
                cycle=order.cycle,
                order_date=order_day,
                expected_amount=expected,
                balance=(expected * Decimal(rng.uniform(0.1, 0.9))).quantize(CENT),
                balance_as_of=_aware(day_before - dt.timedelta(days=1), 18),
                large=large,
                help_deposit=retailer.needs_assistance,
                send_after=sent_at,
                sent_at=sent_at,
                helped_at=_aware(day_before, 17) if retailer.needs_assistance else None,
                helped_by=retailer.route.account_manager if retailer.needs_assistance else None,
                created_at=_aware(day_before, 15),
            )
            reminders.append(reminder)
        past.append(order.total_amount)
        fails = rng.random() < (FAIL_IF_REMINDED if reminded else FAIL_IF_NOT_REMINDED)
        at = order.ordered_at.replace(hour=20, minute=0)
        first = DebitStatus.SUCCESS
        if fails:
            first = DebitStatus.INSUFFICIENT_FUNDS if rng.random() < 0.85 else DebitStatus.FAILED
        debits.append(_debit(order, account, 1, first, at))
        order.status = OrderStatus.PAID
        if fails:
            recovered = rng.random() < (0.3 if order.cycle_id in recent else 0.7)
            if recovered:
                retry_at = at + dt.timedelta(days=1)
                debits.append(_debit(order, account, 2, DebitStatus.SUCCESS, retry_at))
            else:
                order.status = OrderStatus.PAYMENT_FAILED
    BalanceReminder.objects.bulk_create(reminders, batch_size=2000)
    with translation.override(settings.LANGUAGE_CODE):
        notifications = [
            Notification(
                reminder=reminder,
                phone=reminder.retailer.phone,
                text=services.reminder_text(reminder),
                created_at=reminder.sent_at,
            )
            for reminder in reminders
        ]
    Notification.objects.bulk_create(notifications, batch_size=2000)
    Debit.objects.bulk_create(debits, batch_size=2000)
    Order.objects.bulk_update(orders, ["status"], batch_size=2000)
    ctx.count("balance reminders", len(reminders))
    ctx.count("debits", len(debits))


def _debit(order: Order, account: SettlementAccount, attempt: int, status: str, at) -> Debit:
    messages = {
        DebitStatus.SUCCESS: "",
        DebitStatus.INSUFFICIENT_FUNDS: "insufficient funds",
        DebitStatus.FAILED: "bank system busy",
    }
    key = services.debit_key(order.pk, attempt)
    return Debit(
        order=order,
        account=account,
        attempt=attempt,
        idempotency_key=key,
        amount=order.total_amount,
        status=status,
        bank_reference=f"DEMO{key}" if status == DebitStatus.SUCCESS else "",
        message=messages[status],
        created_at=at,
        completed_at=at + dt.timedelta(seconds=2),
    )


def _seed_current_reminders(ctx: DemoContext) -> None:
    """Today's and tomorrow's order days: the real reminder job, then the due ones sent."""
    before = BalanceReminder.objects.count()
    for day in (ctx.today - dt.timedelta(days=1), ctx.today):
        services.balance_reminders_create(day=day)
    ctx.count("balance reminders", BalanceReminder.objects.count() - before)
    services.reminders_send_due()


def _seed_rebates(ctx: DemoContext) -> None:
    """Month-end rebates for every finished month with demo orders, oldest first."""
    first = Order.objects.filter(retailer__in=_demo_retailers()).order_by("ordered_at").first()
    if first is None:
        return
    month = services.month_start(timezone.localdate(first.ordered_at))
    last = services.previous_month(ctx.today)
    while month <= last:
        run = services.rebates_create(month=month)
        if run is not None:
            ctx.count("rebates", run.rebates)
        month = services.next_month(month)
