"""A small district of its own, far from the demo's dates, for exact figures."""

import datetime as dt
from types import SimpleNamespace

import pytest

from accounts.tests.factories import SupervisorFactory, UserFactory
from retailers.models import BusinessType, RetailerStatus
from retailers.tests.factories import RetailerFactory
from territory.tests.factories import DistrictFactory, RouteFactory
from visits import services
from visits.tests.factories import make_cycle

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
