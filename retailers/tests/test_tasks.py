import datetime as dt

import pytest
from django.utils import timezone

from retailers import services
from retailers.models import Retailer, RetailerStatus, StarChange, StatusChange
from retailers.tasks import apply_due_history
from retailers.tests.factories import RetailerFactory
from tests.worker import wait_until


def record_ahead(shop: Retailer, *, star: int | None, status: str | None, day: dt.date) -> None:
    """A change recorded earlier for ``day``: the history has it, the current value not yet."""
    if star is not None:
        StarChange.objects.create(retailer=shop, star=star, effective_from=day)
    if status is not None:
        StatusChange.objects.create(retailer=shop, status=status, effective_from=day)


@pytest.mark.django_db
def test_due_changes_are_applied_once_and_future_ones_wait():
    today = timezone.localdate()
    due, later, unrated = RetailerFactory(star=3), RetailerFactory(star=3), RetailerFactory(star=2)
    record_ahead(due, star=4, status=RetailerStatus.CLOSED, day=today)
    record_ahead(later, star=5, status=None, day=today + dt.timedelta(days=1))
    StarChange.objects.create(retailer=unrated, star=None, effective_from=today)
    assert services.retailers_apply_due_history() == 2
    for shop in (due, later, unrated):
        shop.refresh_from_db()
    assert (due.star, due.status) == (4, RetailerStatus.CLOSED)
    assert later.star == 3
    assert unrated.star is None
    assert services.retailers_apply_due_history() == 0
    assert services.retailers_apply_due_history(day=today + dt.timedelta(days=1)) == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_runs_the_daily_job(celery_worker):
    shop = RetailerFactory(star=3)
    record_ahead(shop, star=1, status=None, day=timezone.localdate())
    apply_due_history.delay()
    apply_due_history.delay()  # delivered twice: the second run finds nothing to do
    wait_until(
        lambda: Retailer.objects.get(pk=shop.pk).star == 1,
        message=f"the worker did not apply the change:\n{celery_worker.log()}",
    )
    wait_until(lambda: celery_worker.log().count("succeeded") >= 2, message=celery_worker.log())
    assert StarChange.objects.filter(retailer=shop).count() == 2
