"""Factories for allocation tests, and a small branch of its own ("world") to allocate in."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import SupervisorFactory, UserFactory
from allocation import services
from allocation.models import ScarceSupply
from catalog.models import Brand
from retailers.models import Retailer, RetailerStatus
from retailers.tests.factories import RetailerFactory
from settlement.models import Order, OrderLine, OrderStatus
from territory.models import Branch, Cycle, CycleStatus, District, Route
from territory.tests.factories import (
    BranchFactory,
    CycleFactory,
    DistrictFactory,
    RouteFactory,
)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Sequence(lambda n: f"测试烟{n}")
    price_class = 1
    wholesale_price = Decimal("100.00")
    list_price = Decimal("102.00")
    is_scarce = True


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    retailer = factory.SubFactory(RetailerFactory)
    cycle = factory.SubFactory(CycleFactory)
    channel = "phone"
    status = OrderStatus.PAID
    ordered_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    brand = factory.SubFactory(BrandFactory)
    cartons = 1
    unit_price = Decimal("102.00")
    wholesale_price = Decimal("100.00")


def order(retailer: Retailer, cycle: Cycle, *lines: tuple[Brand, int], **kwargs) -> Order:
    """An order of ``retailer`` in ``cycle`` with ``(brand, cartons)`` lines."""
    made = OrderFactory(retailer=retailer, cycle=cycle, **kwargs)
    for brand, cartons in lines:
        OrderLineFactory(order=made, brand=brand, cartons=cartons)
    return made


@dataclass
class World:
    """A branch of its own: one district (with its supervisor) and route (with its manager),
    a closed points cycle and an open allocation cycle after it."""

    branch: Branch
    district: District
    route: Route
    supervisor: User
    manager: User
    before: Cycle
    cycle: Cycle
    class1: Brand
    scarce: Brand

    def retailer(self, *, points: int = 0, star: int | None = 3, **kwargs) -> Retailer:
        """A retailer on the route with ``points`` in the points cycle (class 1 weighs 5)."""
        shop = RetailerFactory(route=kwargs.pop("route", self.route), star=star, **kwargs)
        if points:
            whole, rest = divmod(points, 5)
            lines = [(self.class1, whole)] if whole else []
            if rest:
                lines.append((BrandFactory(price_class=6 - rest, is_scarce=False), 1))
            order(shop, self.before, *lines)
        return shop

    def points(self) -> None:
        services.points_compute(cycle=self.before)

    def supply(self, **kwargs) -> ScarceSupply:
        caps = kwargs.pop("caps", {1: 4, 2: 4, 3: 4, 4: 4, 5: 4})
        params = services.SupplyParams(
            quantity=kwargs.pop("quantity", 10),
            unit=kwargs.pop("unit", 1),
            min_star=kwargs.pop("min_star", 1),
            caps=caps,
            minimum=kwargs.pop("minimum", 0),
            violation_cycles=kwargs.pop("violation_cycles", 3),
        )
        return services.supply_create(
            branch=self.branch,
            cycle=kwargs.pop("cycle", self.cycle),
            brand=kwargs.pop("brand", self.scarce),
            params=params,
            by=kwargs.pop("by", self.supervisor),
        )


def make_world(start: dt.date | None = None) -> World:
    start = start or dt.date(2030, 1, 7)
    branch = BranchFactory()
    supervisor = SupervisorFactory()
    manager = UserFactory()
    district = DistrictFactory(branch=branch, supervisor=supervisor)
    route = RouteFactory(district=district, account_manager=manager)
    earlier = [
        CycleFactory(
            start_date=start - dt.timedelta(weeks=n),
            end_date=start - dt.timedelta(weeks=n) + dt.timedelta(days=6),
            status=CycleStatus.CLOSED,
        )
        for n in (4, 3, 2, 1)
    ]
    cycle = CycleFactory(
        start_date=start, end_date=start + dt.timedelta(days=6), status=CycleStatus.OPEN
    )
    return World(
        branch=branch,
        district=district,
        route=route,
        supervisor=supervisor,
        manager=manager,
        before=earlier[-1],
        cycle=cycle,
        class1=BrandFactory(price_class=1, is_scarce=False),
        scarce=BrandFactory(price_class=1, is_scarce=True),
    )


def demo_orders(cycles) -> None:
    """Orders like the settlement demo's, for the given cycles (this branch has none yet)."""
    rng = random.Random(7)
    brands = list(Brand.objects.order_by("code"))
    shops = list(Retailer.objects.filter(status=RetailerStatus.ACTIVE).order_by("pk"))
    for cycle in cycles:
        at = timezone.make_aware(dt.datetime.combine(cycle.start_date, dt.time(9)))
        orders = Order.objects.bulk_create(
            Order(retailer=shop, cycle=cycle, channel="phone", ordered_at=at)
            for shop in shops
            if rng.random() < 0.9
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=o,
                brand=brand,
                cartons=rng.randint(1, 8),
                unit_price=brand.list_price,
                wholesale_price=brand.wholesale_price,
            )
            for o in orders
            for brand in rng.sample(brands, 3)
        )
