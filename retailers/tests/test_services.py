import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import SupervisorFactory
from config.errors import ApplicationError
from retailers import services
from retailers.models import RetailerStatus, StarChange, Violation
from retailers.tests.factories import RetailerFactory
from territory.tests.factories import DistrictFactory, RouteFactory

pytestmark = pytest.mark.django_db


def supervised_shop(star=3):
    boss = SupervisorFactory()
    return RetailerFactory(
        star=star, route=RouteFactory(district=DistrictFactory(supervisor=boss))
    ), boss


def test_star_change_records_history_and_current_value():
    shop, boss = supervised_shop()
    services.retailer_change_star(
        retailer=shop, star=4, effective_from=timezone.localdate(), by=boss, reason="re-rated"
    )
    shop.refresh_from_db()
    assert shop.star == 4
    assert list(StarChange.objects.filter(retailer=shop).values_list("star", flat=True)) == [4, 3]


def test_future_star_change_does_not_change_todays_star():
    shop, boss = supervised_shop()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.retailer_change_star(
        retailer=shop, star=5, effective_from=tomorrow, by=boss, reason="from tomorrow"
    )
    shop.refresh_from_db()
    assert shop.star == 3
    services.retailers_apply_due_history(day=tomorrow)
    shop.refresh_from_db()
    assert shop.star == 5


def test_bad_star_is_refused_and_nothing_changes():
    shop, boss = supervised_shop()
    with pytest.raises(ApplicationError):
        services.retailer_change_star(
            retailer=shop, star=6, effective_from=timezone.localdate(), by=boss, reason="x"
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
