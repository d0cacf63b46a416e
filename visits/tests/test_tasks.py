import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from retailers.models import Retailer, RetailerStatus
from territory.selectors import cycle_for_day
from tests.worker import wait_until
from visits.models import VisitPlan
from visits.tasks import plan_visits


@pytest.mark.django_db
def test_task_plans_a_given_cycle_once(world):
    created = plan_visits.delay(world.c1.pk, [world.district.pk]).get()
    assert created == VisitPlan.objects.filter(cycle=world.c1).count() > 0
    assert plan_visits.delay(world.c1.pk, [world.district.pk]).get() == 0


@pytest.mark.django_db
def test_task_without_a_cycle_plans_todays(demo):
    cycle = cycle_for_day(timezone.localdate())
    assert plan_visits.delay().get() == 0  # the demo planned it already
    removed, _by_model = VisitPlan.objects.filter(cycle=cycle).delete()
    assert plan_visits.delay().get() == removed > 300
    assert plan_visits.delay(10**9).get() == 0


def test_beat_plans_at_the_start_of_each_cycle():
    entry = settings.CELERY_BEAT_SCHEDULE["visits-plan-cycle"]
    assert entry["task"] == "visits.tasks.plan_visits"
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute, schedule.day_of_week) == ({0}, {30}, {1})


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_plans_twice_without_duplicates(celery_worker, world):
    plan_visits.delay(world.c1.pk, [world.district.pk])
    plan_visits.delay(world.c1.pk, [world.district.pk])
    wait_until(lambda: celery_worker.log().count("succeeded") >= 2, message=celery_worker.log())
    planned = VisitPlan.objects.filter(cycle=world.c1)
    per_retailer = {}
    for retailer_id, sequence in planned.values_list("retailer_id", "sequence"):
        per_retailer.setdefault(retailer_id, []).append(sequence)
    assert all(sorted(seqs) == list(range(len(seqs))) for seqs in per_retailer.values())
    active = Retailer.objects.filter(route__district=world.district, status=RetailerStatus.ACTIVE)
    assert set(per_retailer) <= set(active.values_list("pk", flat=True))
    assert planned.filter(star=5).count() == 6
    assert all(
        world.c1.start_date <= day <= world.c1.start_date + dt.timedelta(days=6)
        for day in planned.values_list("day", flat=True)
    )
