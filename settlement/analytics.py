"""What the half-year report asks a branch to measure (DESIGN §2.6): reads only.

Sales by branch, district, route and account manager, by brand and price class, per month and
half-year, with year-on-year and period-on-period change; ordering channels and e-settlement
over time; brand-cultivation targets and their progress. Every figure is one aggregate query
(GROUP BY in the database) over the rows the user may see (``territory.selectors.route_scope``,
the rule behind ``retailers.selectors.visible_retailers``); Python only folds the grouped rows.

Conventions, stated once here and on the pages:

* Sales are the lines of orders that count (``COUNTED_ORDER_STATUSES``: not cancelled), dated
  by ``Order.ordered_at`` in the branch's time zone (``TIME_ZONE``, Asia/Shanghai).
* Revenue is the amount charged: ``unit_price × cartons`` (list price for phone and visit
  orders, before the month-end rebate; wholesale price for online orders, DESIGN §2.4).
* Cases (箱) are ``cartons ÷ Brand.cartons_per_case``, summed per brand, shown to 0.01.
* Figures follow each retailer's *current* route (there is no route history).
* A period that has not ended is counted to date (through today), and compared with the same
  days of the compared periods (see :func:`compare`).
* A change is ``(current − base) ÷ base`` in per cent, one decimal, rounded half up;
  ``None`` (shown "—") when the base is zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from catalog.models import Brand
from retailers.models import RetailerStatus
from retailers.selectors import retailers_as_of
from settlement.models import (
    BRAND_GROUP_FLAGS,
    COUNTED_ORDER_STATUSES,
    CultivationTarget,
    Debit,
    Order,
    OrderChannel,
    OrderLine,
)
from settlement.selectors import DebitStats, _counts, _first_attempts
from territory.models import Cycle, Route
from territory.selectors import route_scope, visible_routes

ZERO = Decimal("0")
CENT = Decimal("0.01")


def cents(amount) -> Decimal:
    """A summed amount of money to the cent. Amounts are whole cents; SQLite's ``SUM`` of
    decimals may hand back float noise (``4555473.0200000000000``), PostgreSQL does not."""
    return ZERO if amount is None else Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


TENTH = Decimal("0.1")
MIN_YEAR, MAX_YEAR = 2000, 2100
#: How many months the sales trend shows, and how many months or cycles the channel page shows.
TREND_MONTHS = 12
SERIES_LENGTH = 12
TOP_BRANDS_CHARTED = 10
PRICE_CLASSES = (1, 2, 3, 4, 5)


def percent(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole``, one decimal, half up; ``None`` if ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def change(current, base) -> Decimal | None:
    """The change from ``base`` to ``current`` in per cent; ``None`` when the base is zero."""
    if not base:
        return None
    result = ((Decimal(current) - Decimal(base)) * 100 / Decimal(base)).quantize(
        TENTH, rounding=ROUND_HALF_UP
    )
    return result if result else abs(result)  # a change that rounds to 0 has no sign


# --- Periods --------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return dt.date(year, month + 1, min(day.day, (first_next - dt.timedelta(days=1)).day))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


MONTH, HALF = "month", "half"
_PERIOD = re.compile(r"(?P<year>[0-9]{4})-(?:(?P<month>0[1-9]|1[0-2])|H(?P<half>[12]))")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (``2026-10``) or half-year (``2026-H2``: July to December)."""

    kind: str
    year: int
    number: int  # the month (1–12) or the half (1–2)

    @classmethod
    def parse(cls, text: str) -> Period:
        """``YYYY-MM`` or ``YYYY-H1``/``YYYY-H2``; raises ``ValueError`` on anything else."""
        match = _PERIOD.fullmatch(text.strip())
        if match is None:
            raise ValueError(text)
        year = int(match["year"])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(text)
        if match["month"]:
            return cls(MONTH, year, int(match["month"]))
        return cls(HALF, year, int(match["half"]))

    @classmethod
    def of(cls, kind: str, day: dt.date) -> Period:
        return cls(kind, day.year, day.month if kind == MONTH else (day.month - 1) // 6 + 1)

    @property
    def months(self) -> int:
        return 1 if self.kind == MONTH else 6

    @property
    def start(self) -> dt.date:
        month = self.number if self.kind == MONTH else 6 * (self.number - 1) + 1
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        return add_months(self.start, self.months) - dt.timedelta(days=1)

    @property
    def code(self) -> str:
        return (
            f"{self.year}-{self.number:02d}"
            if self.kind == MONTH
            else f"{self.year}-H{self.number}"
        )

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return self.code
        if self.number == 1:
            return str(_("%(year)s H1 (Jan–Jun)") % {"year": self.year})
        return str(_("%(year)s H2 (Jul–Dec)") % {"year": self.year})

    def shifted(self, n: int) -> Period:
        per_year = 12 // self.months
        year, index = divmod(self.year * per_year + self.number - 1 + n, per_year)
        return Period(self.kind, year, index + 1)

    def __str__(self) -> str:
        return self.code


def last_complete(kind: str, today: dt.date) -> Period:
    """The latest period of ``kind`` that has ended by ``today``."""
    return Period.of(kind, today).shifted(-1)


def recent_periods(kind: str, today: dt.date, n: int) -> list[Period]:
    """The ``n`` latest periods of ``kind`` up to the one containing ``today``, newest first."""
    current = Period.of(kind, today)
    return [current.shifted(-k) for k in range(n)]


@dataclass(frozen=True)
class DateRange:
    """Days ``start`` to ``end``, both included, in the branch's time zone."""

    start: dt.date
    end: dt.date

    def q(self, path: str) -> Q:
        """Rows whose datetime at ``path`` falls on one of these days (index-friendly)."""
        zone = timezone.get_default_timezone()
        low = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone)
        high = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return Q(**{f"{path}__gte": low, f"{path}__lt": high})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class Comparison:
    """A period and the two it is compared with: the same period a year before (year on year)
    and the period before it (period on period). ``partial``: the period had not ended on the
    day asked, so all three cover the same days only (month-to-date against the same days)."""

    period: Period
    current: DateRange
    year_before: DateRange
    previous: DateRange
    partial: bool


def compare(period: Period, today: dt.date) -> Comparison:
    """The date ranges to compare for ``period`` as seen on ``today``.

    An ended (or future) period is compared whole with whole periods. A running one counts
    from its start through today, and each compared period from its start through the same
    day shifted by the same number of months (a day the month lacks becomes its last day):
    on 27 November, November 1–27 against November 1–27 a year before and October 1–27.
    """
    year_before, previous = period.shifted(-12 // period.months), period.shifted(-1)
    if not period.start <= today < period.end:
        return Comparison(
            period=period,
            current=DateRange(period.start, period.end),
            year_before=DateRange(year_before.start, year_before.end),
            previous=DateRange(previous.start, previous.end),
            partial=False,
        )

    def cut(other: Period) -> DateRange:
        months = (period.start.year - other.start.year) * 12 + period.start.month
        months -= other.start.month
        return DateRange(other.start, min(other.end, add_months(today, -months)))

    return Comparison(
        period=period,
        current=DateRange(period.start, today),
        year_before=cut(year_before),
        previous=cut(previous),
        partial=True,
    )


# --- Areas and levels -----------------------------------------------------------------------


class Level:
    """What the breakdown table groups by."""

    BRANCH, DISTRICT, ROUTE, MANAGER = "branch", "district", "route", "manager"
    CHOICES = (
        (BRANCH, _("Branch")),
        (DISTRICT, _("District")),
        (ROUTE, _("Route")),
        (MANAGER, _("Account manager")),
    )
    #: From a route to the unit of each level.
    PATHS = {
        BRANCH: "district__branch_id",
        DISTRICT: "district_id",
        ROUTE: "id",
        MANAGER: "account_manager_id",
    }


@dataclass(frozen=True)
class Area:
    """One unit of a level (a branch, district, route or account manager) the user can see."""

    level: str
    pk: int | None
    label: str

    @property
    def code(self) -> str:
        return f"{self.level}:{self.pk}"

    def q(self, route_path: str) -> Q:
        """Rows whose route (reached by ``route_path``, e.g. ``order__retailer__route``) is in
        this unit."""
        return Q(**{f"{route_path}__{Level.PATHS[self.level]}": self.pk})


def _route_units(route: Route) -> dict[str, tuple[int | None, str]]:
    manager = route.account_manager
    return {
        Level.BRANCH: (route.district.branch_id, route.district.branch.name),
        Level.DISTRICT: (route.district_id, route.district.name),
        Level.ROUTE: (route.pk, f"{route.district.name} {route.code}"),
        Level.MANAGER: (
            manager.pk if manager else None,
            str(manager) if manager else str(_("No account manager")),
        ),
    }


@dataclass
class Units:
    """Every unit of every level among the routes a user can see (one query)."""

    routes: list[Route]
    by_level: dict[str, dict[int | None, str]]

    def areas(self) -> list[Area]:
        """The areas a user may narrow a page to, by level; routes without a manager are not an
        area of their own."""
        return [
            Area(level, pk, label)
            for level, _label in Level.CHOICES
            for pk, label in self.by_level[level].items()
            if pk is not None
        ]

    def area(self, code: str) -> Area:
        """The area named ``level:id``; raises ``ValueError`` if the user cannot see it."""
        level, _sep, pk = code.partition(":")
        if level not in self.by_level or not pk.isdigit():
            raise ValueError(code)
        label = self.by_level[level].get(int(pk))
        if label is None:
            raise ValueError(code)
        return Area(level, int(pk), label)

    def in_area(self, level: str, area: Area | None) -> dict[int | None, str]:
        """The units of ``level`` that have a route in ``area`` (all when no area)."""
        units: dict[int | None, str] = {}
        for route in self.routes:
            unit = _route_units(route)
            if area is None or unit[area.level][0] == area.pk:
                units.setdefault(*unit[level])
        return units


def units_for(user: User) -> Units:
    routes = list(
        visible_routes(user)
        .select_related("district__branch", "account_manager")
        .order_by("district__branch__code", "district__code", "code")
    )
    by_level: dict[str, dict[int | None, str]] = {level: {} for level, _label in Level.CHOICES}
    for route in routes:
        for level, (pk, label) in _route_units(route).items():
            by_level[level].setdefault(pk, label)
    return Units(routes=routes, by_level=by_level)


def _scope(user: User, route_path: str, area: Area | None) -> Q:
    """The rows of routes the user may see (and of ``area``), ``route_path`` leading there."""
    scope = route_scope(user, prefix=f"{route_path}__") or Q()
    return scope & area.q(route_path) if area is not None else scope


# --- Sales ----------------------------------------------------------------------------------

REVENUE = ExpressionWrapper(
    F("cartons") * F("unit_price"), output_field=DecimalField(max_digits=16, decimal_places=2)
)


@dataclass
class Measures:
    """Cartons (条), cases (箱) and revenue of a set of order lines."""

    cartons: int = 0
    cases_exact: Decimal = ZERO
    revenue: Decimal = ZERO

    def add(self, *, cartons: int, revenue: Decimal, per_case: int) -> None:
        self.cartons += cartons
        self.cases_exact += Decimal(cartons) / Decimal(per_case)
        self.revenue += cents(revenue)

    def merge(self, other: Measures) -> None:
        self.cartons += other.cartons
        self.cases_exact += other.cases_exact
        self.revenue += other.revenue

    @property
    def cases(self) -> Decimal:
        return self.cases_exact.quantize(CENT, rounding=ROUND_HALF_UP)

    def __bool__(self) -> bool:
        return bool(self.cartons or self.revenue)


@dataclass
class SalesRow:
    """A line of a sales table: its period, the same period a year before, the period before."""

    label: str
    key: object = None
    current: Measures = field(default_factory=Measures)
    year_before: Measures = field(default_factory=Measures)
    previous: Measures = field(default_factory=Measures)
    share: Decimal | None = None

    def merge(self, other: SalesRow) -> None:
        self.current.merge(other.current)
        self.year_before.merge(other.year_before)
        self.previous.merge(other.previous)

    @property
    def cartons_yoy(self) -> Decimal | None:
        return change(self.current.cartons, self.year_before.cartons)

    @property
    def cartons_pop(self) -> Decimal | None:
        return change(self.current.cartons, self.previous.cartons)

    @property
    def cases_yoy(self) -> Decimal | None:
        return change(self.current.cases, self.year_before.cases)

    @property
    def cases_pop(self) -> Decimal | None:
        return change(self.current.cases, self.previous.cases)

    @property
    def revenue_yoy(self) -> Decimal | None:
        return change(self.current.revenue, self.year_before.revenue)

    @property
    def revenue_pop(self) -> Decimal | None:
        return change(self.current.revenue, self.previous.revenue)

    @property
    def active(self) -> bool:
        return bool(self.current or self.year_before or self.previous)


@dataclass
class TrendPoint:
    label: str
    start: dt.date
    current: Measures = field(default_factory=Measures)
    year_before: Measures | None = None


@dataclass
class SalesDashboard:
    comparison: Comparison
    level: str
    area: Area | None
    brand: Brand | None
    price_class: int | None
    total: SalesRow
    by_unit: list[SalesRow]
    by_class: list[SalesRow]
    by_brand: list[SalesRow]
    key_brands: SalesRow
    key_rows: list[SalesRow]
    low_tar: SalesRow
    low_tar_rows: list[SalesRow]
    months: list[TrendPoint]
    halves: list[TrendPoint]


#: From an order line to the unit of each level.
LINE_UNIT = {
    Level.BRANCH: "order__retailer__route__district__branch_id",
    Level.DISTRICT: "order__retailer__route__district_id",
    Level.ROUTE: "order__retailer__route_id",
    Level.MANAGER: "order__retailer__route__account_manager_id",
}
RANGES = ("current", "year_before", "previous")


def sales_lines(
    *,
    user: User,
    area: Area | None = None,
    brand: Brand | None = None,
    price_class: int | None = None,
) -> QuerySet[OrderLine]:
    """The order lines that count as sales, of the retailers the user may see."""
    lines = OrderLine.objects.filter(order__status__in=COUNTED_ORDER_STATUSES).filter(
        _scope(user, "order__retailer__route", area)
    )
    if brand is not None:
        lines = lines.filter(brand=brand)
    if price_class is not None:
        lines = lines.filter(brand__price_class=price_class)
    return lines


def _brand_row(brand: Brand) -> SalesRow:
    return SalesRow(label=brand.name, key=brand)


def _subtotal(label: str, rows: Iterable[SalesRow]) -> SalesRow:
    total = SalesRow(label=label)
    for row in rows:
        total.merge(row)
    return total


def _with_shares(rows: list[SalesRow], total: SalesRow) -> list[SalesRow]:
    for row in rows:
        row.share = percent(row.current.cartons, total.current.cartons)
    return rows


def sales_dashboard(
    *,
    user: User,
    period: Period,
    today: dt.date,
    level: str = Level.ROUTE,
    area: Area | None = None,
    brand: Brand | None = None,
    price_class: int | None = None,
    units: Units | None = None,
) -> SalesDashboard:
    """Sales of ``period`` for the user's retailers (of ``area``; of one brand or price class),
    against the same period a year before and the period before (DESIGN §2.6).

    Two grouped queries (by unit and brand for the three ranges; by month and brand for the
    trends), the brands and the user's units (unless given): four in all, whatever the data.
    """
    comparison = compare(period, today)
    ranges = {name: getattr(comparison, name) for name in RANGES}
    lines = sales_lines(user=user, area=area, brand=brand, price_class=price_class)
    brands = {b.pk: b for b in Brand.objects.all()}
    units = units or units_for(user)

    sums = {}
    window = Q()
    for name, days in ranges.items():
        in_range = days.q("order__ordered_at")
        window |= in_range
        sums[f"{name}_cartons"] = Sum("cartons", filter=in_range)
        sums[f"{name}_revenue"] = Sum(REVENUE, filter=in_range)
    unit_path = LINE_UNIT[level]
    grouped = lines.filter(window).values(unit_path, "brand_id").annotate(**sums).order_by()

    by_unit = {
        pk: SalesRow(label=label, key=pk) for pk, label in units.in_area(level, area).items()
    }
    by_brand: dict[int, SalesRow] = {}
    by_class = {n: SalesRow(label=str(_("Class %(n)s") % {"n": n}), key=n) for n in PRICE_CLASSES}
    total = SalesRow(label=str(_("Total")))
    for row in grouped:
        brand_of_row = brands[row["brand_id"]]
        unit = by_unit.setdefault(row[unit_path], SalesRow(label="?", key=row[unit_path]))
        brand_row = by_brand.setdefault(brand_of_row.pk, _brand_row(brand_of_row))
        for name in RANGES:
            cartons = row[f"{name}_cartons"] or 0
            if not cartons:
                continue
            values = {
                "cartons": cartons,
                "revenue": row[f"{name}_revenue"],
                "per_case": brand_of_row.cartons_per_case,
            }
            for target in (unit, brand_row, by_class[brand_of_row.price_class], total):
                getattr(target, name).add(**values)

    brand_rows = sorted(
        (row for row in by_brand.values() if row.active),
        key=lambda r: (-r.current.cartons, -r.year_before.cartons, r.key.code),
    )
    key_rows = [row for row in brand_rows if row.key.is_key]
    low_tar_rows = [row for row in brand_rows if row.key.is_low_tar]
    return SalesDashboard(
        comparison=comparison,
        level=level,
        area=area,
        brand=brand,
        price_class=price_class,
        total=total,
        by_unit=_with_shares(list(by_unit.values()), total),
        by_class=_with_shares(list(by_class.values()), total),
        by_brand=_with_shares(brand_rows, total),
        key_brands=_subtotal(str(_("Key brands")), key_rows),
        key_rows=key_rows,
        low_tar=_subtotal(str(_("Low-tar brands")), low_tar_rows),
        low_tar_rows=low_tar_rows,
        **_trends(lines, period=period, brands=brands),
    )


def _trends(
    lines: QuerySet[OrderLine], *, period: Period, brands: dict[int, Brand]
) -> dict[str, list[TrendPoint]]:
    """Monthly figures for the 12 months ending with the period's last month, each with the
    same month a year before, and the four half-years ending with the period's half-year."""
    last = month_start(period.end)
    first = add_months(last, -(TREND_MONTHS + 11))
    zone = timezone.get_default_timezone()
    grouped = (
        lines.filter(DateRange(first, period.end).q("order__ordered_at"))
        .annotate(month=TruncMonth("order__ordered_at", tzinfo=zone))
        .values("month", "brand_id")
        # Not named "cartons": REVENUE would then read the sum instead of the column.
        .annotate(sold=Sum("cartons"), amount=Sum(REVENUE))
        .order_by()
    )
    by_month: dict[dt.date, Measures] = {}
    for row in grouped:
        month = timezone.localtime(row["month"], zone).date()
        by_month.setdefault(month, Measures()).add(
            cartons=row["sold"],
            revenue=row["amount"],
            per_case=brands[row["brand_id"]].cartons_per_case,
        )
    months = []
    for k in range(TREND_MONTHS - 1, -1, -1):
        month = add_months(last, -k)
        months.append(
            TrendPoint(
                label=f"{month:%Y-%m}",
                start=month,
                current=by_month.get(month, Measures()),
                year_before=by_month.get(add_months(month, -12), Measures()),
            )
        )
    halves = []
    for k in range(3, -1, -1):
        half = Period.of(HALF, period.end).shifted(-k)
        point = TrendPoint(label=half.label, start=half.start)
        for month, measures in by_month.items():
            if half.start <= month <= half.end:
                point.current.merge(measures)
        halves.append(point)
    return {"months": months, "halves": halves}


# --- Ordering channels and e-settlement over time --------------------------------------------

CHANNELS = tuple(OrderChannel.values)


@dataclass
class ChannelPoint:
    """Orders by channel, e-settlement and debit success of one month or cycle."""

    label: str
    start: dt.date
    end: dt.date
    orders: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CHANNELS, ZERO))
    e_orders: int = 0
    e_amount: Decimal = ZERO
    active_retailers: int | None = None
    e_retailers: int | None = None
    debits: DebitStats = field(default_factory=lambda: DebitStats(label=""))

    @property
    def total_orders(self) -> int:
        return sum(self.orders.values())

    @property
    def total_amount(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

    @property
    def order_shares(self) -> dict[str, Decimal | None]:
        return {c: percent(n, self.total_orders) for c, n in self.orders.items()}

    @property
    def amount_shares(self) -> dict[str, Decimal | None]:
        return {c: percent(a, self.total_amount) for c, a in self.amounts.items()}

    @property
    def e_order_share(self) -> Decimal | None:
        return percent(self.e_orders, self.total_orders)

    @property
    def e_amount_share(self) -> Decimal | None:
        return percent(self.e_amount, self.total_amount)

    @property
    def e_retailer_share(self) -> Decimal | None:
        if self.active_retailers is None:
            return None
        return percent(self.e_retailers, self.active_retailers)


MONTHS, CYCLES = "month", "cycle"


@dataclass(frozen=True)
class Bucket:
    """A month or a cycle of a series: its label and its days (both included)."""

    label: str
    start: dt.date
    end: dt.date


def series_buckets(by: str, end: dt.date, today: dt.date) -> list[Bucket]:
    """The 12 months ending with ``end``'s month, or the 12 latest cycles that started by
    ``end`` (and by ``today``), oldest first."""
    if by == MONTHS:
        last = month_start(end)
        months = [add_months(last, -k) for k in range(SERIES_LENGTH - 1, -1, -1)]
        return [Bucket(f"{m:%Y-%m}", m, add_months(m, 1) - dt.timedelta(days=1)) for m in months]
    cycles = Cycle.objects.filter(start_date__lte=min(end, today)).order_by("-start_date")
    return [Bucket(c.code, c.start_date, c.end_date) for c in list(cycles[:SERIES_LENGTH])[::-1]]


def channel_series(
    *, user: User, by: str, end: dt.date, today: dt.date, area: Area | None = None
) -> list[ChannelPoint]:
    """Per month (the 12 ending with ``end``'s month) or per cycle (the 12 latest that started
    by ``end``): orders and amounts by channel, e-settlement orders (debited from a bank
    account: at least one debit attempt) and their amount, active retailers with an
    e-settlement account (opened on or before the last day, or with no opening date recorded),
    and the debit success rate as the e-settlement dashboard defines it
    (``selectors.DebitStats``: first attempts answered by the bank).

    Grouped queries for orders and debits; one count per point for the retailers (their
    status as of its last day, ``retailers.selectors.retailers_as_of``), so at most 12.
    """
    points = [
        ChannelPoint(label=b.label, start=b.start, end=b.end)
        for b in series_buckets(by, end, today)
    ]
    if not points:
        return []
    zone = timezone.get_default_timezone()
    window = DateRange(points[0].start, points[-1].end)
    if by == MONTHS:
        bucket, debit_bucket = (
            TruncMonth("ordered_at", tzinfo=zone),
            TruncMonth("order__ordered_at", tzinfo=zone),
        )
        order_window, debit_window = window.q("ordered_at"), window.q("order__ordered_at")
    else:
        bucket, debit_bucket = F("cycle__start_date"), F("order__cycle__start_date")
        order_window = Q(cycle__start_date__gte=window.start, cycle__start_date__lte=window.end)
        debit_window = Q(
            order__cycle__start_date__gte=window.start, order__cycle__start_date__lte=window.end
        )

    def key(value) -> dt.date:
        return timezone.localtime(value, zone).date() if isinstance(value, dt.datetime) else value

    by_start = {point.start: point for point in points}
    debited = Exists(Debit.objects.filter(order=OuterRef("pk")))
    orders = (
        Order.objects.filter(status__in=COUNTED_ORDER_STATUSES)
        .filter(_scope(user, "retailer__route", area), order_window)
        .alias(debited=debited)
        .annotate(bucket=bucket)
        .values("bucket", "channel")
        .annotate(
            n=Count("pk"),
            amount=Sum("total_amount"),
            e_n=Count("pk", filter=Q(debited=True)),
            e_amount=Sum("total_amount", filter=Q(debited=True)),
        )
        .order_by()
    )
    for row in orders:
        point = by_start.get(key(row["bucket"]))
        if point is None:
            continue
        point.orders[row["channel"]] += row["n"]
        point.amounts[row["channel"]] += cents(row["amount"])
        point.e_orders += row["e_n"]
        point.e_amount += cents(row["e_amount"])

    debits = _first_attempts(user, None).filter(debit_window)
    if area is not None:
        debits = debits.filter(area.q("order__retailer__route"))
    debits = debits.annotate(bucket=debit_bucket).values("bucket").annotate(**_counts()).order_by()
    for row in debits:
        point = by_start.get(key(row["bucket"]))
        if point is not None:
            point.debits.add(
                attempted=row["attempted"], succeeded=row["succeeded"], recovered=row["recovered"]
            )

    retailers = Q(_scope(user, "route", area))
    for point in points:
        point.debits.label = point.label
        if point.start > today:
            continue
        day = min(point.end, today)
        has_account = Q(settlement_account__isnull=False) & (
            Q(settlement_account__opened_on__lte=day)
            | Q(settlement_account__opened_on__isnull=True)
        )
        counts = (
            retailers_as_of(day)
            .filter(retailers, status_at=RetailerStatus.ACTIVE)
            .aggregate(active=Count("pk"), e=Count("pk", filter=has_account))
        )
        point.active_retailers, point.e_retailers = counts["active"], counts["e"]
    return points


# --- Brand-cultivation targets ---------------------------------------------------------------


def manageable_managers(user: User) -> QuerySet[User]:
    """Account managers whose targets ``user`` may set: an administrator any, a supervisor those
    with a route in a district they supervise, anyone else none."""
    managers = User.objects.filter(role=Role.ACCOUNT_MANAGER, is_superuser=False, is_active=True)
    if not user.is_authenticated or not user.is_active:
        return managers.none()
    if user.is_administrator:
        return managers.order_by("username")
    if user.is_supervisor:
        return managers.filter(
            pk__in=Route.objects.filter(district__supervisor=user).values("account_manager_id")
        ).order_by("username")
    return managers.none()


def visible_targets(user: User) -> QuerySet[CultivationTarget]:
    """Targets the user may read: their own (account manager), their districts' managers'
    (supervisor), all (administrator)."""
    targets = CultivationTarget.objects.select_related("account_manager", "brand")
    if not user.is_authenticated or not user.is_active:
        return targets.none()
    if user.is_administrator:
        return targets
    if user.is_supervisor:
        return targets.filter(
            account_manager_id__in=Route.objects.filter(district__supervisor=user).values(
                "account_manager_id"
            )
        )
    if user.is_account_manager:
        return targets.filter(account_manager=user)
    return targets.none()


@dataclass
class TargetProgress:
    """A target and what the manager's retailers reached in its period (up to today)."""

    target: CultivationTarget
    retailers: int
    cartons: int
    today: dt.date

    @property
    def retailers_pct(self) -> Decimal | None:
        return percent(self.retailers, self.target.target_retailers)

    @property
    def cartons_pct(self) -> Decimal | None:
        return percent(self.cartons, self.target.target_cartons)

    @property
    def elapsed_pct(self) -> Decimal:
        """How much of the period has passed, today included."""
        target = self.target
        days = (target.end_date - target.start_date).days + 1
        passed = min(max((self.today - target.start_date).days + 1, 0), days)
        return percent(passed, days) or Decimal("0.0")

    @property
    def state(self) -> str:
        """``met`` (every figure set is reached), ``upcoming``, ``missed`` (ended short),
        ``behind`` (a figure is behind the share of the period passed) or ``on_track``."""
        reached = [pct for pct in (self.retailers_pct, self.cartons_pct) if pct is not None]
        if all(pct >= 100 for pct in reached):
            return "met"
        if self.today < self.target.start_date:
            return "upcoming"
        if self.today > self.target.end_date:
            return "missed"
        if any(pct < self.elapsed_pct for pct in reached):
            return "behind"
        return "on_track"


def _brand_q(target: CultivationTarget) -> Q:
    if target.brand_id is not None:
        return Q(brand_id=target.brand_id)
    return Q(**{f"brand__{BRAND_GROUP_FLAGS[target.brand_group]}": True})


def target_progress(
    *, user: User, targets: Sequence[CultivationTarget], today: dt.date
) -> list[TargetProgress]:
    """Progress of each target from the orders: distinct retailers of the manager's routes that
    ordered the brand (or a brand of the group) in the period, and the cartons they ordered.

    Only retailers ``user`` may see are counted, so a supervisor sees the part of a manager's
    work in their own districts. One query for any number of targets.
    """
    if not targets:
        return []
    sums = {}
    window = Q()
    for i, target in enumerate(targets):
        days = DateRange(target.start_date, min(target.end_date, today))
        matched = (
            Q(order__retailer__route__account_manager_id=target.account_manager_id)
            & days.q("order__ordered_at")
            & _brand_q(target)
        )
        window |= matched
        sums[f"r{i}"] = Count("order__retailer_id", distinct=True, filter=matched)
        sums[f"c{i}"] = Sum("cartons", filter=matched)
    lines = OrderLine.objects.filter(order__status__in=COUNTED_ORDER_STATUSES).filter(
        _scope(user, "order__retailer__route", None)
    )
    totals = lines.filter(window).aggregate(**sums)
    return [
        TargetProgress(
            target=target,
            retailers=totals[f"r{i}"] or 0,
            cartons=totals[f"c{i}"] or 0,
            today=today,
        )
        for i, target in enumerate(targets)
    ]


def target_list(
    *, user: User, today: dt.date, manager: User | None = None, current_only: bool = False
) -> QuerySet[CultivationTarget]:
    targets = visible_targets(user)
    if manager is not None:
        targets = targets.filter(account_manager=manager)
    if current_only:
        targets = targets.filter(start_date__lte=today, end_date__gte=today)
    return targets.order_by("-end_date", "account_manager__username", "brand_group", "brand__code")


def current_targets(*, user: User, today: dt.date, limit: int = 6) -> list[TargetProgress]:
    """The user's own targets running today, with progress: the Today page's panel."""
    targets = list(
        visible_targets(user)
        .filter(account_manager=user, start_date__lte=today, end_date__gte=today)
        .order_by("end_date", "brand_group", "brand__code")[:limit]
    )
    return target_progress(user=user, targets=targets, today=today)
