"""A small world for re-rating tests: two districts, a quarter of points and orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accounts.models import User
from accounts.tests.factories import SupervisorFactory, UserFactory
from retailers import services
from retailers.models import Retailer, RetailerStatus
from retailers.tests.factories import RetailerFactory
from territory.models import District, Route
from territory.tests.factories import DistrictFactory, RouteFactory

QUARTER = dt.date(2026, 7, 1)
THRESHOLDS = {5: (100, 50), 4: (60, 30), 3: (30, 10), 2: (5, 1)}


@dataclass
class RatingWorld:
    boss1: User
    boss2: User
    am1: User
    am2: User
    d1: District
    d2: District
    r1: Route
    r2: Route
    shops: dict[str, Retailer]


def rating_world(*, thresholds: bool = True) -> RatingWorld:
    boss1, boss2 = SupervisorFactory(username="boss1"), SupervisorFactory(username="boss2")
    am1, am2 = UserFactory(username="am1"), UserFactory(username="am2")
    d1, d2 = DistrictFactory(supervisor=boss1), DistrictFactory(supervisor=boss2)
    r1 = RouteFactory(district=d1, account_manager=am1, code="A")
    r2 = RouteFactory(district=d2, account_manager=am2, code="A")
    shops = {
        "up5": RetailerFactory(route=r1, star=3),
        "same3": RetailerFactory(route=r1, star=3),
        "down1": RetailerFactory(route=r1, star=4),
        "unrated": RetailerFactory(route=r1, star=None),
        "same2": RetailerFactory(route=r1, star=2),
        "closed": RetailerFactory(route=r1, star=5, status=RetailerStatus.CLOSED),
        "other": RetailerFactory(route=r2, star=1),
    }
    if thresholds:
        services.rating_thresholds_set(district=d1, thresholds=THRESHOLDS, by=boss1)
    return RatingWorld(boss1, boss2, am1, am2, d1, d2, r1, r2, shops)
