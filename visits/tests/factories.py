import datetime as dt

import factory
from django.utils import timezone

from retailers.tests.factories import RetailerFactory
from territory.models import Cycle, CycleStatus
from visits.models import PlanSource, Visit, VisitPlan


def make_cycle(start: dt.date) -> Cycle:
    """A weekly cycle from Monday ``start`` (tests use dates far from the demo's cycles)."""
    iso = start.isocalendar()
    cycle, _created = Cycle.objects.get_or_create(
        start_date=start,
        defaults={
            "code": f"{iso.year}-W{iso.week:02d}",
            "end_date": start + dt.timedelta(days=6),
            "status": CycleStatus.PLANNED,
        },
    )
    return cycle


class VisitPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitPlan

    retailer = factory.SubFactory(RetailerFactory)
    day = factory.LazyFunction(timezone.localdate)
    cycle = factory.LazyAttribute(
        lambda o: (
            Cycle.objects.filter(start_date__lte=o.day, end_date__gte=o.day).first()
            or make_cycle(o.day - dt.timedelta(days=o.day.weekday()))
        )
    )
    sequence = factory.Sequence(lambda n: n % 5)
    account_manager = factory.LazyAttribute(lambda o: o.retailer.route.account_manager)
    route = factory.LazyAttribute(lambda o: o.retailer.route)
    star = factory.LazyAttribute(lambda o: o.retailer.star)
    min_stay_minutes = 10
    source = PlanSource.GENERATED
    created_at = factory.LazyFunction(timezone.now)


class VisitFactory(factory.django.DjangoModelFactory):
    """A checked-out visit; pass ``checked_in_at`` and ``stay_minutes`` to place it."""

    class Meta:
        model = Visit

    retailer = factory.SubFactory(RetailerFactory)
    account_manager = factory.LazyAttribute(lambda o: o.retailer.route.account_manager)
    route = factory.LazyAttribute(lambda o: o.retailer.route)
    star = factory.LazyAttribute(lambda o: o.retailer.star)
    plan = None
    cycle = factory.LazyAttribute(
        lambda o: (
            o.plan.cycle
            if o.plan
            else Cycle.objects.filter(
                start_date__lte=timezone.localdate(o.checked_in_at),
                end_date__gte=timezone.localdate(o.checked_in_at),
            ).first()
        )
    )
    required_stay_minutes = 10
    checked_in_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    stay_minutes = 15
    checked_out_at = factory.LazyAttribute(
        lambda o: (
            None
            if o.stay_minutes is None
            else o.checked_in_at + dt.timedelta(minutes=o.stay_minutes)
        )
    )
