"""GET /api/v1/sales/summary/: the sales page's figures, scoped, for REST clients."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from config.api.testing import api_token, bearer, error_of

pytestmark = pytest.mark.django_db

URL = reverse("api:sales-summary")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def get(client, user, **params):
    return client.get(URL, params, **bearer(api_token(user)))


def test_the_summary_of_a_month_by_route(client, sales):
    response = get(client, sales.boss, period="2031-10", level="route")
    assert response.status_code == 200
    body = response.json()
    assert (body["period"], body["partial"], body["level"]) == ("2031-10", False, "route")
    assert body["current"] == {"start": "2031-10-01", "end": "2031-10-31"}
    assert body["year_before"] == {"start": "2030-10-01", "end": "2030-10-31"}
    assert body["total"]["current"] == {"cartons": 87, "cases": "2.24", "revenue": "6520.00"}
    assert body["total"]["year_before"] == {"cartons": 33, "cases": "0.66", "revenue": "2652.00"}
    assert (body["total"]["cartons_yoy"], body["total"]["revenue_pop"]) == ("163.6", "59.8")
    rows = [
        (r["id"], r["label"], r["current"]["cartons"], r["cartons_pop"], r["share"])
        for r in body["rows"]
    ]
    assert rows == [
        (sales.r1.pk, "一区 R1", 35, "-12.5", "40.2"),
        (sales.r2.pk, "一区 R2", 50, None, "57.5"),
        (sales.r3.pk, "一区 R3", 2, "-50.0", "2.3"),
    ]
    assert [r["id"] for r in body["price_classes"]] == [1, 2, 3, 4, 5]
    assert [(r["id"], r["current"]["cartons"]) for r in body["brands"]] == [
        (sales.plain.pk, 50),
        (sales.low.pk, 25),
        (sales.key.pk, 12),
    ]
    assert body["low_tar_brands"]["current"]["cartons"] == 25
    assert body["key_brands"]["cartons_yoy"] == "50.0"


def test_filters_and_scope(client, sales, demo):
    r1 = get(client, sales.boss, period="2031-10", area=f"route:{sales.r1.pk}")
    assert r1.json()["total"]["current"]["cartons"] == 35
    unseen = get(client, sales.boss, period="2031-10", area=f"route:{sales.r4.pk}")
    assert (unseen.status_code, unseen.json()["total"]["current"]["cartons"]) == (200, 0)
    low = get(client, sales.boss, period="2031-10", brand=sales.low.pk)
    assert low.json()["total"]["current"]["cartons"] == 25
    assert get(client, sales.boss, period="2031-10", brand=999999999).json()["brands"] == []
    assert (
        get(client, sales.boss, period="2031-10", price_class=5).json()["total"]["current"][
            "cartons"
        ]
        == 50
    )
    half = get(client, sales.am1, period="2031-H2", level="manager").json()
    assert [(r["label"], r["current"]["cartons"]) for r in half["rows"]] == [(str(sales.am1), 132)]
    for user in (demo["manager2"], demo["supervisor"]):
        assert get(client, user, period="2031-10").json()["total"]["current"]["cartons"] == 0
    assert get(client, demo["admin"], period="2031-10").json()["total"]["current"]["cartons"] == 187


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2031-13"}, "period"),
        ({"period": "1999-01"}, "period"),
        ({"period": ""}, "period"),
        ({"level": "planet"}, "level"),
        ({"area": "route:x"}, "area"),
        ({"area": "planet:1"}, "area"),
        ({"brand": "1.5"}, "brand"),
        ({"price_class": "6"}, "price_class"),
    ],
)
def test_bad_parameters_are_400s_naming_them(client, sales, params, field):
    response = get(client, sales.boss, **params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_a_token_is_needed(client):
    assert client.get(URL).status_code == 401
