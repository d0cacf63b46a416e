import datetime as dt

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from retailers import services
from retailers.models import RetailerStatus, StarChange, Violation
from retailers.tests.factories import RetailerFactory

pytestmark = pytest.mark.django_db


def test_star_change_records_history_and_current_value():
    shop = RetailerFactory(star=3)
    services.retailer_change_star(
        retailer=shop, star=4, effective_from=dt.date(2023, 1, 1), by=None, reason="re-rating"
    )
    shop.refresh_from_db()
    assert shop.star == 4
    assert list(StarChange.objects.filter(retailer=shop).values_list("star", flat=True)) == [4, 3]


def test_future_star_change_does_not_change_todays_star():
    shop = RetailerFactory(star=3)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.retailer_change_star(retailer=shop, star=5, effective_from=tomorrow, by=None)
    shop.refresh_from_db()
    assert shop.star == 3


def test_bad_star_is_refused_and_nothing_changes():
    shop = RetailerFactory(star=3)
    with pytest.raises(ApplicationError):
        services.retailer_change_star(
            retailer=shop, star=6, effective_from=dt.date(2023, 1, 1), by=None
        )
    assert StarChange.objects.filter(retailer=shop).count() == 1


def test_status_change_and_bad_status():
    shop = RetailerFactory()
    services.retailer_change_status(
        retailer=shop, status=RetailerStatus.CLOSED, effective_from=dt.date(2024, 1, 1), by=None
    )
    shop.refresh_from_db()
    assert shop.status == RetailerStatus.CLOSED
    with pytest.raises(ApplicationError):
        services.retailer_change_status(
            retailer=shop, status="gone", effective_from=dt.date(2024, 2, 1), by=None
        )
    assert shop.status_history.count() == 2


def test_violation_in_the_future_is_refused():
    shop = RetailerFactory()
    with pytest.raises(ApplicationError):
        services.violation_record(
            retailer=shop,
            occurred_on=timezone.localdate() + dt.timedelta(days=2),
            kind="price",
            description="",
            by=None,
        )
    assert Violation.objects.filter(retailer=shop).count() == 0
    services.violation_record(
        retailer=shop, occurred_on=timezone.localdate(), kind="price", description="x", by=None
    )
    assert Violation.objects.filter(retailer=shop).count() == 1
