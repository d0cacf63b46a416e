"""/api/v1/visits/: read visits under the pages' scoping; account managers post whole visits."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Brand
from config.api.testing import api_token, bearer, error_of
from visits.models import FollowUp, StockObservation, Visit
from visits.tests.factories import VisitFactory, VisitPlanFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/visits/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def ago(minutes):
    return timezone.now() - dt.timedelta(minutes=minutes)


@pytest.fixture
def visits(world, demo):
    """Two visits on am1's routes (one with stock and a follow-up), one on am2's."""
    brand = Brand.objects.get(name="中华(硬)")
    first = VisitFactory(retailer=world.shops_r1[0], checked_in_at=ago(300), stay_minutes=25)
    second = VisitFactory(retailer=world.shops_r2[1], checked_in_at=ago(200), stay_minutes=8)
    third = VisitFactory(retailer=world.shops_r3[0], checked_in_at=ago(100), stay_minutes=12)
    StockObservation.objects.create(
        visit=first, brand=brand, cartons_on_hand=4, retail_price="480.00", sales_last_cycle=2
    )
    FollowUp.objects.create(retailer=world.shops_r1[0], text="带资料", created_in=first)
    return [first, second, third]


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_scoping_for_every_role(client, world, visits):
    first, second, third = visits
    mine = {first.pk, second.pk}
    for user, expected in [
        (world.am1, [second.pk, first.pk]),
        (world.am2, [third.pk]),
        (world.other_boss, []),
    ]:
        response = client.get(URL, **bearer(api_token(user)))
        assert response.status_code == 200
        assert ids(response) == expected
    boss = client.get(URL, {"route": world.r1.pk}, **bearer(api_token(world.boss)))
    assert ids(boss) == [first.pk]
    token = api_token(world.am2)
    for pk in mine:
        response = client.get(f"{URL}{pk}/", **bearer(token))
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert client.get(f"{URL}{2**63}/", **bearer(token)).status_code == 404
    assert client.get(URL).status_code == 401


def test_a_visit_has_its_fields(client, world, visits, demo):
    first = visits[0]
    response = client.get(f"{URL}{first.pk}/", **bearer(api_token(world.am1)))
    body = response.json()
    follow_up = FollowUp.objects.get(created_in=first)
    assert body == {
        "id": first.pk,
        "retailer": first.retailer_id,
        "retailer_licence_number": first.retailer.licence_number,
        "retailer_name": first.retailer.name,
        "account_manager": world.am1.pk,
        "account_manager_name": str(world.am1),
        "planned": False,
        "plan": None,
        "cycle": first.cycle.code if first.cycle else None,
        "route": "R1",
        "star": 5,
        "required_stay_minutes": 10,
        "checked_in_at": timezone.localtime(first.checked_in_at).isoformat(),
        "checked_out_at": timezone.localtime(first.checked_out_at).isoformat(),
        "stay_minutes": 25,
        "latitude": None,
        "longitude": None,
        "activities": [],
        "notes": "",
        "feedback": "",
        "stock": [
            {
                "brand": Brand.objects.get(name="中华(硬)").pk,
                "brand_name": "中华(硬)",
                "cartons_on_hand": 4,
                "retail_price": "480.00",
                "sales_last_cycle": 2,
            }
        ],
        "follow_ups": [
            {
                "id": follow_up.pk,
                "text": "带资料",
                "done": False,
                "done_in": None,
                "done_at": None,
                "outcome": "",
            }
        ],
        "follow_ups_done": [],
        "updated_at": timezone.localtime(Visit.objects.get(pk=first.pk).updated_at).isoformat(),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"retailer": "RETAILER"}, [0]),
        ({"is_open": "true"}, []),
        ({"is_open": "false"}, [1, 0]),
        ({"checked_in_since": "SINCE"}, [1]),
        ({"checked_in_before": "SINCE"}, [0]),
        ({"account_manager": "AM2"}, []),
    ],
)
def test_filters(client, world, visits, params, expected):
    since = timezone.localtime(ago(250)).isoformat()
    replace = {"RETAILER": str(visits[0].retailer_id), "SINCE": since, "AM2": str(world.am2.pk)}
    params = {k: replace.get(v, v) for k, v in params.items()}
    response = client.get(URL, params, **bearer(api_token(world.am1)))
    assert response.status_code == 200
    assert ids(response) == [visits[i].pk for i in expected]


@pytest.mark.parametrize(
    "params",
    [
        {"retailer": "1.5"},
        {"is_open": "maybe"},
        {"checked_in_since": "yesterday"},
        {"cycle": "x" * 21},
    ],
)
def test_bad_filters_are_400s_naming_the_parameter(client, world, params):
    response = client.get(URL, params, **bearer(api_token(world.am1)))
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == list(params)


@pytest.mark.parametrize("page_size", [1, 100])
def test_list_query_count_does_not_grow(
    client, world, visits, page_size, django_assert_num_queries
):
    token = api_token(world.am1)
    client.get(URL, **bearer(token))  # the token's last use is recorded once a minute
    # token lookup, visits, stock, follow-ups set, follow-ups done
    with django_assert_num_queries(5):
        response = client.get(URL, {"page_size": page_size}, **bearer(token))
    assert response.status_code == 200


# --- POST -------------------------------------------------------------------------------------


@pytest.fixture
def shop(world):
    retailer = world.shops_r1[2]  # 4★
    VisitPlanFactory(retailer=retailer, sequence=0, day=timezone.localdate(ago(40)))
    return retailer


def payload(shop, **changes):
    body = {
        "retailer": shop.pk,
        "checked_in_at": ago(40).isoformat(),
        "checked_out_at": ago(15).isoformat(),
        "latitude": "34.400001",
        "longitude": "115.860001",
        "activities": ["law", "inventory"],
        "notes": "讲解法规",
        "feedback": "希望多供应紧俏烟",
        "stock": [{"brand": Brand.objects.get(name="中华(硬)").pk, "cartons_on_hand": 9}],
        "follow_ups": ["回访试销"],
    }
    return {**body, **changes}


def test_an_account_manager_posts_a_whole_visit(client, world, shop, demo):
    earlier = VisitFactory(retailer=shop, checked_in_at=ago(60 * 24 * 7))
    open_item = FollowUp.objects.create(retailer=shop, text="带资料", created_in=earlier)
    body = payload(shop, done_follow_ups=[{"id": open_item.pk, "outcome": "已带到"}])
    response = client.post(
        URL, body, content_type="application/json", **bearer(api_token(world.am1))
    )
    assert response.status_code == 201
    data = response.json()
    visit = Visit.objects.get(pk=data["id"])
    assert (data["planned"], data["stay_minutes"], data["activities"]) == (
        True,
        25,
        ["law", "inventory"],
    )
    assert [row["cartons_on_hand"] for row in data["stock"]] == [9]
    assert [row["text"] for row in data["follow_ups"]] == ["回访试销"]
    assert data["follow_ups_done"] == [open_item.pk]
    assert str(visit.latitude) == "34.400001"
    open_item.refresh_from_db()
    assert (open_item.done_in, open_item.outcome) == (visit, "已带到")


def post_refused(client, token, body, *, status=400):
    before = (Visit.objects.count(), StockObservation.objects.count(), FollowUp.objects.count())
    response = client.post(URL, body, content_type="application/json", **bearer(token))
    assert response.status_code == status, response.content
    after = (Visit.objects.count(), StockObservation.objects.count(), FollowUp.objects.count())
    assert after == before
    return error_of(response)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"checked_out_at": "CHECKIN_MINUS"}, "checked_out_at"),  # check-out before check-in
        ({"checked_in_at": "DAYS_AGO"}, "checked_out_at"),  # a stay of days
        ({"stock": [{"brand": "BRAND", "cartons_on_hand": -1}]}, "stock.0.cartons_on_hand"),
        ({"stock": [{"brand": "BRAND", "cartons_on_hand": 10**7}]}, "stock.0.cartons_on_hand"),
        ({"stock": [{"brand": "BRAND", "cartons_on_hand": 1, "retail_price": "1.00"}]}, "stock"),
        ({"stock": [{"brand": 10**12, "cartons_on_hand": 1}]}, "stock.0.brand"),
        ({"activities": ["promote_brands"]}, "activities"),
        ({"activities": ["nap"]}, "activities.0"),
        ({"latitude": "95"}, "latitude"),
        ({"follow_ups": ["x"] * 6}, "follow_ups"),
        ({"notes": "a\x00b"}, "notes"),
        ({"done_follow_ups": [{"id": 10**9}]}, "follow_ups"),
        ({"retailer": 10**15}, "retailer"),
    ],
)
def test_bad_visits_are_400s_and_save_nothing(client, world, shop, demo, changes, field):
    brand = Brand.objects.get(name="中华(硬)").pk
    body = payload(shop)
    replace = {
        "CHECKIN_MINUS": (ago(40) - dt.timedelta(minutes=5)).isoformat(),
        "DAYS_AGO": ago(3 * 24 * 60).isoformat(),
    }
    for key, value in changes.items():
        if key == "stock":
            value = [
                {**row, "brand": brand if row["brand"] == "BRAND" else row["brand"]}
                for row in value
            ]
        body[key] = replace.get(value, value) if isinstance(value, str) else value
    error = post_refused(client, api_token(world.am1), body)
    assert field in error["fields"], error


def test_second_check_in_and_strangers_are_refused(client, world, shop, demo):
    token = api_token(world.am1)
    open_visit = VisitFactory(retailer=world.shops_r1[3], checked_in_at=ago(5), stay_minutes=None)
    error = post_refused(client, token, payload(shop))
    assert "still checked in" in error["message"]
    open_visit.delete()
    error = post_refused(client, token, payload(world.shops_r3[0]))  # am2's retailer
    assert error["fields"]["retailer"] == ["No retailer of yours has this id."]
    error = post_refused(client, api_token(world.boss), payload(shop), status=403)
    assert error["code"] == "role"
    error = post_refused(client, api_token(world.am1, read_only=True), payload(shop), status=403)
    assert error["code"] == "read_only_token"
