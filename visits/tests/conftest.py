"""A small district of its own, far from the demo's dates, for exact figures."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.tests.factories import SupervisorFactory, UserFactory
from retailers.models import BusinessType, RetailerStatus
from retailers.tests.factories import RetailerFactory
from settlement.tests.factories import BrandFactory
from territory.tests.factories import DistrictFactory, RouteFactory
from visits import services
from visits.models import StockObservation
from visits.tests.factories import VisitFactory, make_cycle

D = Decimal

#: Two Mondays in 2031, far from the demo's cycles.
MONDAY = dt.date(2031, 1, 6)


@pytest.fixture
def world(db):
    """District D of supervisor ``boss``: am1 runs routes R1 (Monday) and R2 (Wednesday), am2
    runs R3 (Tuesday). Retailers by star: R1 5,5,4,3,2,1,unrated; R2 5,3,3; R3 4,2,2,2 and a
    closed 3★. Cycles c1 and c2 are consecutive weeks."""
    services.service_policies_ensure_defaults()  # gone if a transactional test flushed them
    boss, other_boss = SupervisorFactory(username="boss"), SupervisorFactory(username="boss9")
    am1, am2 = UserFactory(username="am1"), UserFactory(username="am2")
    district = DistrictFactory(supervisor=boss, code="TD")
    other = DistrictFactory(supervisor=other_boss, code="TO")
    r1 = RouteFactory(district=district, code="R1", visit_weekday=0, account_manager=am1)
    r2 = RouteFactory(district=district, code="R2", visit_weekday=2, account_manager=am1)
    r3 = RouteFactory(district=district, code="R3", visit_weekday=1, account_manager=am2)
    outside = RouteFactory(district=other, code="X", visit_weekday=0, account_manager=None)

    def shops(route, stars, **extra):
        return [
            RetailerFactory(route=route, star=star, stop_order=n, **extra)
            for n, star in enumerate(stars, start=1)
        ]

    shops_r1 = shops(r1, [5, 5, 4, 3, 2, 1, None])
    shops_r2 = shops(r2, [5, 3, 3])
    shops_r3 = shops(r3, [4, 2, 2, 2])
    closed = RetailerFactory(route=r3, star=3, stop_order=9, status=RetailerStatus.CLOSED)
    unmanaged = RetailerFactory(route=outside, star=5)
    venue = RetailerFactory(
        route=r1, star=2, stop_order=20, business_type=BusinessType.CATERING, status="suspended"
    )
    return SimpleNamespace(
        boss=boss,
        other_boss=other_boss,
        am1=am1,
        am2=am2,
        district=district,
        other=other,
        r1=r1,
        r2=r2,
        r3=r3,
        outside=outside,
        shops_r1=shops_r1,
        shops_r2=shops_r2,
        shops_r3=shops_r3,
        closed=closed,
        unmanaged=unmanaged,
        venue=venue,
        active=[*shops_r1, *shops_r2, *shops_r3],
        c1=make_cycle(MONDAY),
        c2=make_cycle(MONDAY + dt.timedelta(weeks=1)),
    )


def observe(shop, day: dt.date, brand, stock: int, price: str | None, sales: int | None, by=None):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    visit = VisitFactory(
        retailer=shop, checked_in_at=at, account_manager=by or shop.route.account_manager
    )
    return StockObservation.objects.create(
        visit=visit,
        brand=brand,
        cartons_on_hand=stock,
        retail_price=None if price is None else D(price),
        sales_last_cycle=sales,
    )


@pytest.fixture
def stock(world):
    """Brand A: December 2030 at r1's first shop (10, 110.00, 20); January 2031 at r1's first
    (12, 112.00, 18, cycle c1) and second shop (7, no price, no sales, c1) and at r2's first
    (5, 115.00, 30, c2); 100 cartons at a shop of another district. Brand B: January 2031 at
    r3's first shop (3, 50.00, 4, c2)."""
    a = BrandFactory(code="VA001", name="甲", list_price=D("102.00"))
    b = BrandFactory(code="VB001", name="乙", list_price=D("45.00"), wholesale_price=D("44.00"))
    observe(world.shops_r1[0], dt.date(2030, 12, 20), a, 10, "110.00", 20)
    observe(world.shops_r1[0], dt.date(2031, 1, 6), a, 12, "112.00", 18)
    observe(world.shops_r1[1], dt.date(2031, 1, 8), a, 7, None, None)
    observe(world.shops_r2[0], dt.date(2031, 1, 15), a, 5, "115.00", 30)
    observe(world.unmanaged, dt.date(2031, 1, 7), a, 100, "200.00", 100, by=world.am2)
    observe(world.shops_r3[0], dt.date(2031, 1, 14), b, 3, "50.00", 4)
    return SimpleNamespace(a=a, b=b)
