import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from retailers.models import Retailer
from territory.selectors import cycle_for_day
from visits.models import (
    EmergencyRequest,
    FollowUp,
    ServicePolicy,
    StockObservation,
    Visit,
    VisitPlan,
)

pytestmark = pytest.mark.django_db


def test_demo_has_policies_the_current_plan_and_weeks_of_history(demo):
    assert sorted(ServicePolicy.objects.values_list("star", flat=True)) == [0, 1, 2, 3, 4, 5]
    today = timezone.localdate()
    current = cycle_for_day(today)
    city = VisitPlan.objects.filter(cycle=current, route__district__code="YC-CQ")
    # Every active 5★ of the city district is planned twice in the current cycle.
    assert city.filter(star=5).values("retailer").distinct().count() == (
        Retailer.objects.filter(route__district__code="YC-CQ", status="active", star=5).count()
    )
    per_retailer = city.filter(star=5).values("retailer").annotate(n=Count("id"))
    assert {row["n"] for row in per_retailer} == {2}
    cycles = Visit.objects.values("cycle").distinct().count()
    assert cycles >= 4
    first = Visit.objects.order_by("checked_in_at").first().checked_in_at
    assert timezone.localdate(first) <= today - dt.timedelta(weeks=4)
    assert not Visit.objects.filter(checked_out_at__isnull=True).exists()
    assert Visit.objects.filter(plan__isnull=True).exists()  # a few unplanned
    assert Visit.objects.exclude(notes="").exists()
    assert Visit.objects.exclude(feedback="").exists()
    assert StockObservation.objects.exists()
    assert FollowUp.objects.filter(done_in__isnull=True).exists()
    assert FollowUp.objects.filter(done_in__isnull=False).exists()
    assert EmergencyRequest.objects.exists()
    assert not Visit.objects.filter(checked_in_at__date__gte=today).exists()
