import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import AdminFactory, SupervisorFactory, UserFactory
from retailers import selectors, services
from retailers.models import Retailer, RetailerStatus, StarChange
from retailers.tests.factories import RetailerFactory
from territory.selectors import visible_districts, visible_routes
from territory.tests.factories import DistrictFactory, RouteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two districts; district 1 has two managers' routes, district 2 one."""
    boss1, boss2 = SupervisorFactory(username="boss1"), SupervisorFactory(username="boss2")
    am1, am2, am3 = (
        UserFactory(username="am1"),
        UserFactory(username="am2"),
        UserFactory(username="am3"),
    )
    d1, d2 = DistrictFactory(supervisor=boss1), DistrictFactory(supervisor=boss2)
    r1, r2 = (
        RouteFactory(district=d1, account_manager=am1),
        RouteFactory(district=d1, account_manager=am2),
    )
    r3 = RouteFactory(district=d2, account_manager=am3)
    shops = {
        "r1": RetailerFactory.create_batch(3, route=r1),
        "r2": RetailerFactory.create_batch(2, route=r2),
        "r3": RetailerFactory.create_batch(4, route=r3),
    }
    return locals()


def ids(retailers):
    return {r.pk for r in retailers}


def test_account_manager_sees_only_their_routes(world):
    visible = selectors.visible_retailers(world["am1"])
    assert ids(visible) == ids(world["shops"]["r1"])
    assert list(visible_routes(world["am1"])) == [world["r1"]]
    assert list(visible_districts(world["am1"])) == [world["d1"]]


def test_supervisor_sees_their_district(world):
    visible = selectors.visible_retailers(world["boss1"])
    assert ids(visible) == ids(world["shops"]["r1"] + world["shops"]["r2"])
    assert set(visible_routes(world["boss1"])) == {world["r1"], world["r2"]}
    assert list(visible_districts(world["boss1"])) == [world["d1"]]


def test_administrator_sees_everything(world):
    admin = AdminFactory(username="root2")
    assert selectors.visible_retailers(admin).count() == Retailer.objects.count()


def test_anonymous_inactive_and_roleless_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    inactive = UserFactory(username="gone", is_active=False)
    world["r1"].account_manager = inactive
    world["r1"].save()
    roleless = UserFactory(username="nobody", role="")
    for user in (AnonymousUser(), inactive, roleless):
        assert selectors.visible_retailers(user).count() == 0
        assert visible_routes(user).count() == 0
        assert visible_districts(user).count() == 0


def test_detail_of_a_foreign_retailer_does_not_exist(world):
    foreign = world["shops"]["r3"][0]
    with pytest.raises(Retailer.DoesNotExist):
        selectors.retailer_detail(user=world["am1"], pk=foreign.pk)
    with pytest.raises(Retailer.DoesNotExist):
        selectors.retailer_detail(user=world["boss1"], pk=foreign.pk)
    assert selectors.retailer_detail(user=world["boss2"], pk=foreign.pk) == foreign


def test_list_filters_combine(world):
    shop = world["shops"]["r1"][0]
    shop.name = "鑫源烟酒商行"
    shop.business_type = "tobacco_liquor"
    shop.save()
    found = selectors.retailer_list(
        user=world["boss1"], search="鑫源", business_type="tobacco_liquor"
    )
    assert list(found) == [shop]
    assert list(selectors.retailer_list(user=world["boss1"], search=shop.licence_number)) == [shop]
    assert selectors.retailer_list(user=world["am2"], search="鑫源").count() == 0
    assert selectors.retailer_list(user=world["boss1"], route=world["r2"]).count() == 2


def test_unrated_filter(world):
    shop = world["shops"]["r2"][0]
    StarChange.objects.create(retailer=shop, star=None, effective_from=dt.date(2021, 1, 1))
    services.retailers_apply_due_history()
    assert list(selectors.retailer_list(user=world["boss1"], star="unrated")) == [shop]
    assert selectors.retailer_list(user=world["boss1"], star=3).count() == 4


def test_district_summary_follows_history(world):
    shop = world["shops"]["r1"][0]
    StarChange.objects.create(retailer=shop, star=5, effective_from=dt.date(2024, 1, 1))
    services.retailer_change_status(
        retailer=shop, status=RetailerStatus.CLOSED, effective_from=dt.date(2025, 6, 1), by=None
    )
    late = RetailerFactory(route=world["r2"], opened_on=dt.date(2025, 1, 1), star=None)

    def summary(day):
        return selectors.district_summary(user=world["boss1"], district=world["d1"], as_of=day)

    before_join = summary(dt.date(2019, 12, 31))
    assert before_join.total.retailers == 0
    in_2024 = summary(dt.date(2024, 6, 1))
    assert in_2024.total.retailers == 5
    assert in_2024.total.by_star[5] == 1
    assert in_2024.total.by_star[3] == 4
    in_2025 = summary(dt.date(2025, 3, 1))
    assert in_2025.total.retailers == 6
    assert in_2025.total.by_star["unrated"] == 1
    after_close = summary(dt.date(2025, 6, 1))
    assert after_close.total.retailers == 5
    assert {row.label: row.retailers for row in after_close.rows} == {
        world["r1"].code: 2,
        world["r2"].code: 3,
    }
    assert late.star is None


def test_district_summary_counts_only_the_managers_routes(world):
    summary = selectors.district_summary(
        user=world["am1"],
        district=world["d1"],
        as_of=timezone.localdate(),
    )
    assert [row.route for row in summary.rows] == [world["r1"]]
    assert summary.total.retailers == 3


def test_share_is_rounded_half_up_and_empty_is_none():
    row = selectors.SummaryRow(label="x")
    assert row.e_settlement_share is None
    row.add(star=3, e_settlement=True, online=False, count=2)
    row.add(star=None, e_settlement=False, online=True, count=1)
    assert str(row.e_settlement_share) == "66.7"
    assert row.stars == [0, 0, 2, 0, 0, 1]
