import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import SupervisorFactory, UserFactory
from catalog.models import Brand
from retailers.tests.factories import RetailerFactory
from settlement import services
from settlement.models import SettlementAccount
from territory.models import Cycle, CycleStatus
from territory.tests.factories import DistrictFactory, RouteFactory


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:08d}")
    name = factory.Sequence(lambda n: f"测试烟{n}")
    price_class = 3
    wholesale_price = Decimal("100.00")
    list_price = Decimal("102.00")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SettlementAccount

    retailer = factory.SubFactory(RetailerFactory)
    reference = factory.Sequence(lambda n: f"TSA{n:06d}")
    bank_name = "测试银行"
    account_number = factory.Sequence(lambda n: f"62220000{n:08d}")
    account_last4 = factory.LazyAttribute(lambda o: o.account_number[-4:])
    balance = Decimal("1000.00")
    balance_as_of = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class World:
    """A district of its own, far from the demo's dates: one supervisor, one manager, a route
    whose order day is ``order_date`` and the cycles around it."""

    def __init__(self, *, order_date: dt.date = dt.date(2031, 3, 12), history: int = 4) -> None:
        self.supervisor = SupervisorFactory()
        self.manager = UserFactory()
        self.district = DistrictFactory(supervisor=self.supervisor)
        self.route = RouteFactory(
            district=self.district,
            account_manager=self.manager,
            visit_weekday=order_date.weekday(),
        )
        self.order_date = order_date
        start = order_date - dt.timedelta(days=order_date.weekday())
        self.cycle = week(start)
        self.past = [week(start - dt.timedelta(weeks=k)) for k in range(history, 0, -1)]
        self.brand = BrandFactory(wholesale_price=Decimal("100.00"), list_price=Decimal("102.00"))

    def retailer(self, *, balance: str | None = "1000.00", **kwargs):
        retailer = RetailerFactory(**{"route": self.route, **kwargs})
        if balance is not None:
            AccountFactory(retailer=retailer, balance=Decimal(balance))
        return retailer

    def order(self, retailer, *, cycle=None, cartons: int = 10, channel: str = "phone", brand=None):
        """An order placed an hour ago (so that the debit job takes it)."""
        return services.order_create(
            retailer=retailer,
            cycle=cycle or self.cycle,
            channel=channel,
            lines=[services.LineInput(brand=brand or self.brand, cartons=cartons)],
            by=None,
            ordered_at=timezone.now() - dt.timedelta(hours=1),
        )


def week(start: dt.date, status: str = CycleStatus.OPEN) -> Cycle:
    """The cycle starting on ``start`` (created once)."""
    iso = start.isocalendar()
    cycle, _created = Cycle.objects.get_or_create(
        start_date=start,
        defaults={
            "code": f"{iso.year}-W{iso.week:02d}",
            "end_date": start + dt.timedelta(days=6),
            "status": status,
        },
    )
    return cycle
