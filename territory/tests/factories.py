import datetime as dt

import factory

from territory.models import Branch, Cycle, CycleStatus, District, Route


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n}")
    name = factory.Sequence(lambda n: f"分公司{n}")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    branch = factory.SubFactory(BranchFactory)
    code = factory.Sequence(lambda n: f"D{n}")
    name = factory.Sequence(lambda n: f"辖区{n}")
    supervisor = None


class RouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Route

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"R{n}")
    visit_weekday = 0
    delivery_weekday = 1
    account_manager = None


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle

    start_date = factory.Sequence(lambda n: dt.date(2026, 1, 5) + dt.timedelta(weeks=n))
    end_date = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(days=6))
    code = factory.LazyAttribute(
        lambda o: f"{o.start_date.isocalendar().year}-W{o.start_date.isocalendar().week:02d}"
    )
    status = CycleStatus.CLOSED
