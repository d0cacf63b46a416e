"""E-settlement demo data: accounts, 8 past cycles of orders, debits, reminders and rebates,
and before them 24 months of monthly history, for the half-year report.

Orders follow the star (bigger shops order more cartons of dearer brands; online retailers
order online). Debits succeed about 96 % of the time; failures are more frequent among the
retailers that were not reminded, as the source document argues (DESIGN §2.3). Written in
bulk so that seeding stays fast, and only once: a second run finds the orders and stops.

The older history (:func:`_seed_long_history`) keeps the seed fast by writing one order per
retailer and month that sums the month's weekly orders (drawn week by week as the 8 recent
cycles are, from the retailer's usual brands), with the season, a few per cent of growth a
year and growing low-tar sales (brand cultivation). Some retailers opened their e-settlement
account or moved to online ordering during that time, so the shares grow over the months; their
orders from before the account opened were paid in cash, so they are ``paid`` with no debit.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone, translation

from accounts.models import User
from catalog.models import Brand
from config.dates import week_start
from config.demo import DEMO_LICENCE_PREFIXES, DemoContext
from retailers.models import OrderingChannel, PaymentMethod, Retailer, RetailerStatus
from settlement import services
from settlement.analytics import add_months
from settlement.models import (
    BRAND_GROUP_FLAGS,
    COUNTED_ORDER_STATUSES,
    BalanceReminder,
    BrandGroup,
    CultivationTarget,
    Debit,
    DebitStatus,
    Notification,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    SettlementAccount,
)
from territory.demo import cycle_code
from territory.models import Cycle, CycleStatus

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


#: The older history: usual brands per star, one-off failure rate, and the calendar.
BASKET = {5: 7, 4: 6, 3: 4, 2: 3, 1: 2, None: 3}
FAIL_EARLIER = 0.033
RECOVERED_EARLIER = 0.7
#: Sales by month of the year (Spring Festival in January–February, holidays in the autumn).
SEASON = {1: 1.25, 2: 1.1, 3: 0.85, 4: 0.88, 5: 0.9, 6: 0.9, 7: 0.88, 8: 0.9, 9: 0.95,
          10: 0.98, 11: 0.95, 12: 1.05}  # fmt: skip
YEARLY_GROWTH = 0.04
#: Low-tar sales at the start of the history, relative to now (they were cultivated since).
LOW_TAR_START = 0.75
#: Share of today's e-settlement retailers who opened their account during the history, and
#: of today's online retailers who moved to online ordering during it.
LATE_E_SETTLEMENT = 0.15
LATE_ONLINE = 0.6


def seed(ctx: DemoContext) -> None:
    _seed_accounts(ctx)
    _seed_history(ctx)
    _seed_long_history(ctx)
    _seed_current_reminders(ctx)
    _seed_rebates(ctx)
    _seed_targets(ctx)


def history_start(today: dt.date) -> dt.date:
    """The first day of the demo's order history, 24 months back: both halves of last year are
    there, and a year before each of the last 12 months (year-on-year needs them)."""
    month = services.month_start(today)
    return month.replace(year=month.year - 2)


def _recent_start(today: dt.date) -> dt.date:
    """The first day of the 8 weekly cycles of detailed history."""
    return week_start(today) - dt.timedelta(weeks=PAST_CYCLES)


def _adoption(ctx: DemoContext, what: str, licence: str, share: float) -> dt.date | None:
    """The day a retailer took up e-settlement or online ordering, when it did so during the
    history (a ``share`` of them); ``None`` if it had already."""
    rng = ctx.rng(f"settlement.{what}:{licence}")
    if rng.random() >= share:
        return None
    first = history_start(ctx.today) + dt.timedelta(days=45)
    last = _recent_start(ctx.today) - dt.timedelta(days=14)
    if last <= first:
        return None
    return first + dt.timedelta(days=rng.randrange((last - first).days))


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
        opened = retailer.opened_on
        adopted = _adoption(ctx, "e", retailer.licence_number, LATE_E_SETTLEMENT)
        if adopted is not None and (opened is None or adopted > opened):
            opened = adopted
        SettlementAccount.objects.create(
            retailer=retailer,
            reference=f"SA{retailer.licence_number}",
            bank_name=rng.choice(BANKS),
            account_holder=retailer.owner_name,
            account_number=number,
            account_last4=number[-4:],
            balance=Decimal(rng.randrange(0, 3000000)) / 100,
            balance_as_of=as_of,
            opened_on=opened,
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
                    e_settlement=retailer.payment_method == PaymentMethod.E_SETTLEMENT,
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


def _debit(order: Order, account: SettlementAccount | int, attempt: int, status: str, at) -> Debit:
    messages = {
        DebitStatus.SUCCESS: "",
        DebitStatus.INSUFFICIENT_FUNDS: "insufficient funds",
        DebitStatus.FAILED: "bank system busy",
    }
    key = services.debit_key(order.pk, attempt)
    return Debit(
        order_id=order.pk,
        account_id=account if isinstance(account, int) else account.pk,
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


# --- Monthly history before the 8 recent cycles (the half-year report) -----------------------


def _ensure_cycles(ctx: DemoContext, first: dt.date, last: dt.date) -> dict[dt.date, Cycle]:
    """The weekly cycles from the week of ``first`` to the week before ``last``, created
    (closed) where missing; keyed by their Monday."""
    mondays = []
    monday = week_start(first)
    while monday < last:
        mondays.append(monday)
        monday += dt.timedelta(weeks=1)
    existing = {c.start_date: c for c in Cycle.objects.filter(start_date__in=mondays)}
    missing = [
        Cycle(
            code=cycle_code(day),
            start_date=day,
            end_date=day + dt.timedelta(days=6),
            status=CycleStatus.CLOSED,
        )
        for day in mondays
        if day not in existing
    ]
    Cycle.objects.bulk_create(missing)
    ctx.count("cycles", len(missing))
    return {c.start_date: c for c in Cycle.objects.filter(start_date__in=mondays)}


def _basket(rng, retailer: Retailer, brands: dict[int, list[Brand]]) -> list[Brand]:
    """The brands a retailer usually orders: dearer ones for bigger shops (``ORDERING``)."""
    classes = ORDERING[retailer.star][2]
    basket: dict[int, Brand] = {}
    for _attempt in range(40):
        if len(basket) == BASKET[retailer.star]:
            break
        brand = rng.choice(brands[rng.choice(classes)])
        basket.setdefault(brand.pk, brand)
    return list(basket.values())


def _seed_long_history(ctx: DemoContext) -> None:
    """One order per retailer and month from :func:`history_start` up to the first of the 8
    recent cycles, summing the weeks it ordered in, and their debits. Once: a second run finds
    orders before the recent cycles and stops. Rows are built with ids, and each order's debit
    results are drawn before it is written, so that two bulk inserts per table suffice."""
    retailers = list(
        _demo_retailers()
        .select_related("route", "settlement_account")
        .prefetch_related("status_history")
        .order_by("licence_number")
    )
    recent = list(
        Cycle.objects.filter(end_date__lt=week_start(ctx.today)).order_by("-start_date")[
            :PAST_CYCLES
        ]
    )
    if not retailers or not recent:
        return
    cutoff = recent[-1].start_date
    first = history_start(ctx.today)
    demo_orders = Order.objects.filter(retailer__in=retailers)
    if first >= cutoff or not demo_orders.filter(cycle__in=recent).exists():
        return
    if demo_orders.filter(ordered_at__lt=_aware(cutoff, 0)).exists():
        return
    brands: dict[int, list[Brand]] = {}
    for brand in Brand.objects.filter(is_active=True).order_by("code"):
        brands.setdefault(brand.price_class, []).append(brand)
    cycles = _ensure_cycles(ctx, first, cutoff)
    rng = ctx.rng("settlement.long-history")
    debit_rng = ctx.rng("settlement.long-history.debits")
    orders: list[Order] = []
    lines_of: list[list[OrderLine]] = []
    attempts: list[tuple[int, tuple[str, ...]]] = []  # (account id, results) per order
    for retailer in retailers:
        for order, lines in _monthly_orders(ctx, rng, retailer, brands, first, cutoff, cycles):
            results = _debit_results(debit_rng, retailer, timezone.localdate(order.ordered_at))
            if results:
                order.status = (
                    OrderStatus.PAID
                    if results[-1] == DebitStatus.SUCCESS
                    else OrderStatus.PAYMENT_FAILED
                )
                order.e_settlement = True
            elif retailer.payment_method == PaymentMethod.E_SETTLEMENT:
                # Before its e-settlement account opened the retailer paid cash on delivery:
                # paid, so that the debit job never takes these old orders for its own.
                order.status = OrderStatus.PAID
            orders.append(order)
            lines_of.append(lines)
            attempts.append((retailer.settlement_account.pk if results else 0, results))
    Order.objects.bulk_create(orders, batch_size=2000)
    lines = []
    for order, order_lines in zip(orders, lines_of, strict=True):
        for line in order_lines:
            line.order_id = order.pk
            lines.append(line)
    OrderLine.objects.bulk_create(lines, batch_size=5000)
    debits = []
    for order, (account_id, results) in zip(orders, attempts, strict=True):
        at = order.ordered_at.replace(hour=20, minute=0)
        for attempt, status in enumerate(results, start=1):
            debits.append(
                _debit(order, account_id, attempt, status, at + dt.timedelta(days=attempt - 1))
            )
    Debit.objects.bulk_create(debits, batch_size=2000)
    ctx.count("orders", len(orders))
    ctx.count("debits", len(debits))


def _monthly_orders(ctx, rng, retailer, brands, first: dt.date, cutoff: dt.date, cycles):
    """A retailer's monthly orders between ``first`` and ``cutoff`` (unsaved, with lines)."""
    history = sorted(retailer.status_history.all(), key=lambda c: c.effective_from)
    basket = _basket(rng, retailer, brands)
    by_pk = {b.pk: b for b in basket}
    online_from = None
    if retailer.ordering_channel == OrderingChannel.ONLINE:
        online_from = _adoption(ctx, "online", retailer.licence_number, LATE_ONLINE)
    chance, n_lines, _classes, cartons = ORDERING[retailer.star]
    months: dict[dt.date, tuple[list[dt.date], dict[int, int]]] = {}
    monday = week_start(first)
    while monday < cutoff:
        day = monday + dt.timedelta(days=retailer.route.visit_weekday)
        monday += dt.timedelta(weeks=1)
        if not first <= day < cutoff or _status_on(history, day) != RetailerStatus.ACTIVE:
            continue
        if rng.random() > chance:
            continue
        days, picked = months.setdefault(day.replace(day=1), ([], {}))
        days.append(day)
        for brand in rng.sample(basket, min(rng.randint(*n_lines), len(basket))):
            picked[brand.pk] = picked.get(brand.pk, 0) + rng.randint(*cartons)
    span = (cutoff - first).days
    for month, (days, picked) in months.items():
        day = days[len(days) // 2]
        factor = SEASON[month.month] * (1 - YEARLY_GROWTH) ** ((cutoff - day).days / 365)
        low_tar = factor * (LOW_TAR_START + (1 - LOW_TAR_START) * (day - first).days / span)
        online = retailer.ordering_channel == OrderingChannel.ONLINE and (
            online_from is None or day >= online_from
        )
        channel = (
            OrderChannel.ONLINE
            if online
            else (OrderChannel.VISIT if rng.random() < 0.1 else OrderChannel.PHONE)
        )
        total = rebate = Decimal("0.00")
        lines = []
        for pk, n in picked.items():
            brand = by_pk[pk]
            n = max(1, int(n * (low_tar if brand.is_low_tar else factor) + 0.5))
            price, difference = services.line_prices(brand=brand, channel=channel)
            total += price * n
            rebate += difference * n
            lines.append(
                OrderLine(
                    brand_id=pk, cartons=n, unit_price=price, wholesale_price=brand.wholesale_price
                )
            )
        order = Order(
            retailer_id=retailer.pk,
            cycle_id=cycles[week_start(day)].pk,
            channel=channel,
            status=OrderStatus.PLACED,
            ordered_at=_aware(day, 8 + rng.randrange(4), rng.randrange(60)),
            entered_by_id=(
                None if channel == OrderChannel.ONLINE else retailer.route.account_manager_id
            ),
            total_amount=total,
            rebate_amount=rebate,
        )
        yield order, lines


def _status_on(history, day: dt.date) -> str | None:
    status = None
    for change in history:
        if change.effective_from > day:
            break
        status = change.status
    return status


def _debit_results(rng, retailer: Retailer, day: dt.date) -> tuple[str, ...]:
    """The debit attempts of an older order: none for cash payers and before the retailer's
    e-settlement account was opened; a retry (usually successful) after a failure."""
    account = getattr(retailer, "settlement_account", None)
    if (
        account is None
        or retailer.payment_method != PaymentMethod.E_SETTLEMENT
        or (account.opened_on is not None and account.opened_on > day)
    ):
        return ()
    if rng.random() >= FAIL_EARLIER:
        return (DebitStatus.SUCCESS,)
    failed = DebitStatus.INSUFFICIENT_FUNDS if rng.random() < 0.85 else DebitStatus.FAILED
    if rng.random() < RECOVERED_EARLIER:
        return (failed, DebitStatus.SUCCESS)
    return (failed,)


# --- Brand-cultivation targets ---------------------------------------------------------------

#: (manager, brand group or brand code, period: "half" or "month", growth on last year).
TARGETS = (
    ("manager", BrandGroup.LOW_TAR, "half", 1.12),
    ("manager", BrandGroup.KEY, "half", 1.05),
    ("manager", "6901028193498", "month", 1.2),  # 贵烟(跨越): new and low-tar
    ("manager", "6901028193498", "last month", 1.1),
    ("manager2", BrandGroup.LOW_TAR, "half", 1.12),
)


def _period_of(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if kind in ("month", "last month"):
        start = today.replace(day=1) if kind == "month" else services.previous_month(today)
        return start, services.next_month(start) - dt.timedelta(days=1)
    first_month = 1 if today.month <= 6 else 7
    start = dt.date(today.year, first_month, 1)
    return start, dt.date(today.year, first_month + 5, 30 if first_month == 1 else 31)


def _round_up(value: float, step: int) -> int:
    return max(step, -(-int(value) // step) * step)


def _seed_targets(ctx: DemoContext) -> None:
    """This half-year's and this month's targets of the demo managers: last year's figures of
    the same period (from the orders) plus some growth, rounded up."""
    users = {u.username: u for u in User.objects.filter(username__in=["manager", "manager2"])}
    setter = User.objects.filter(username="supervisor").first()
    brands = {b.code: b for b in Brand.objects.all()}
    for username, subject, kind, growth in TARGETS:
        manager = users.get(username)
        brand = brands.get(subject) if subject not in BrandGroup.values else None
        if manager is None or (brand is None and subject not in BrandGroup.values):
            continue
        start, end = _period_of(kind, ctx.today)
        lines = OrderLine.objects.filter(
            order__status__in=COUNTED_ORDER_STATUSES,
            order__retailer__route__account_manager=manager,
            order__ordered_at__gte=_aware(add_months(start, -12), 0),
            order__ordered_at__lt=_aware(add_months(end, -12) + dt.timedelta(days=1), 0),
        )
        if brand is not None:
            lines = lines.filter(brand=brand)
        else:
            lines = lines.filter(**{f"brand__{BRAND_GROUP_FLAGS[subject]}": True})
        last_year = lines.aggregate(
            retailers=Count("order__retailer_id", distinct=True), cartons=Sum("cartons")
        )
        if not last_year["cartons"]:
            continue
        _target, created = CultivationTarget.objects.get_or_create(
            account_manager=manager,
            brand=brand,
            brand_group="" if brand is not None else subject,
            start_date=start,
            end_date=end,
            defaults={
                "target_retailers": _round_up(last_year["retailers"] * min(growth, 1.05), 5),
                "target_cartons": _round_up(last_year["cartons"] * growth, 10),
                "created_by": setter if manager.username == "manager" else None,
            },
        )
        ctx.count("cultivation targets", int(created))
