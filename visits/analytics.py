"""Volume, price and stock (量、价、存) trends per brand, from the stock observations account
managers record at visits (DESIGN §2.6). Reads only; one grouped query.

Per month (by the visit's check-in day, Beijing time) or per cycle (the visit's cycle), and per
brand: how many observations, the average stock on hand (存, cartons), the average retail price
seen (价, yuan per carton) and the average sales the retailer reported for its last cycle (量,
cartons). Averages are over the observations that recorded the figure, to 0.1 (0.01 for the
price), rounded half up. Only visits to retailers the user may see count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from catalog.models import Brand
from settlement.analytics import (
    MONTHS,
    Area,
    Bucket,
    DateRange,
    change,
    series_buckets,
)
from territory.selectors import route_scope
from visits.models import StockObservation

TENTH, CENT = Decimal("0.1"), Decimal("0.01")


def _average(total, count: int, step: Decimal) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(step, rounding=ROUND_HALF_UP)


@dataclass
class StockPoint:
    label: str
    start: dt.date
    end: dt.date
    observations: int = 0
    stock_total: int = 0
    price_total: Decimal = Decimal("0")
    price_count: int = 0
    sales_total: int = 0
    sales_count: int = 0

    @property
    def stock(self) -> Decimal | None:
        return _average(self.stock_total, self.observations, TENTH)

    @property
    def price(self) -> Decimal | None:
        return _average(self.price_total, self.price_count, CENT)

    @property
    def sales(self) -> Decimal | None:
        return _average(self.sales_total, self.sales_count, TENTH)


@dataclass
class BrandStock:
    """A brand's series, and its latest figures against the ones before (with observations)."""

    brand: Brand
    points: list[StockPoint] = field(default_factory=list)

    @property
    def observations(self) -> int:
        return sum(p.observations for p in self.points)

    def _observed(self) -> list[StockPoint]:
        return [p for p in self.points if p.observations]

    @property
    def latest(self) -> StockPoint | None:
        observed = self._observed()
        return observed[-1] if observed else None

    @property
    def before(self) -> StockPoint | None:
        observed = self._observed()
        return observed[-2] if len(observed) > 1 else None

    def _change(self, name: str) -> Decimal | None:
        if self.latest is None or self.before is None:
            return None
        now, then = getattr(self.latest, name), getattr(self.before, name)
        return None if now is None or then is None else change(now, then)

    @property
    def stock_change(self) -> Decimal | None:
        return self._change("stock")

    @property
    def price_change(self) -> Decimal | None:
        return self._change("price")

    @property
    def sales_change(self) -> Decimal | None:
        return self._change("sales")


def stock_trends(
    *,
    user: User,
    by: str,
    end: dt.date,
    today: dt.date,
    area: Area | None = None,
    brand: Brand | None = None,
) -> list[BrandStock]:
    """Per brand observed in the 12 months or cycles up to ``end`` (or just ``brand``, observed
    or not), most observed first: its figures per month or cycle."""
    buckets: list[Bucket] = series_buckets(by, end, today)
    if not buckets:
        return []
    observations = StockObservation.objects.filter(
        route_scope(user, prefix="visit__retailer__route__") or Q()
    )
    if area is not None:
        observations = observations.filter(area.q("visit__retailer__route"))
    if brand is not None:
        observations = observations.filter(brand=brand)
    zone = timezone.get_default_timezone()
    if by == MONTHS:
        window = DateRange(buckets[0].start, buckets[-1].end).q("visit__checked_in_at")
        bucket = TruncMonth("visit__checked_in_at", tzinfo=zone)
    else:
        window = Q(
            visit__cycle__start_date__gte=buckets[0].start,
            visit__cycle__start_date__lte=buckets[-1].start,
        )
        bucket = F("visit__cycle__start_date")
    rows = (
        observations.filter(window)
        .annotate(bucket=bucket)
        .values("bucket", "brand_id")
        .annotate(
            n=Count("pk"),
            stock=Sum("cartons_on_hand"),
            price=Sum("retail_price"),
            price_n=Count("retail_price"),
            sales=Sum("sales_last_cycle"),
            sales_n=Count("sales_last_cycle"),
        )
        .order_by()
    )
    brands = {b.pk: b for b in Brand.objects.all()}
    series: dict[int, BrandStock] = {}
    if brand is not None:
        series[brand.pk] = _empty(brand, buckets)
    for row in rows:
        start = row["bucket"]
        if isinstance(start, dt.datetime):
            start = timezone.localtime(start, zone).date()
        item = series.setdefault(row["brand_id"], _empty(brands[row["brand_id"]], buckets))
        point = next((p for p in item.points if p.start == start), None)
        if point is None:
            continue
        point.observations += row["n"]
        point.stock_total += row["stock"] or 0
        point.price_total += row["price"] or Decimal("0")
        point.price_count += row["price_n"]
        point.sales_total += row["sales"] or 0
        point.sales_count += row["sales_n"]
    return sorted(series.values(), key=lambda s: (-s.observations, s.brand.code))


def _empty(brand: Brand, buckets: list[Bucket]) -> BrandStock:
    return BrandStock(
        brand=brand, points=[StockPoint(label=b.label, start=b.start, end=b.end) for b in buckets]
    )
