"""GET /api/v1/brands/: every signed-in user reads the whole catalogue."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalog.demo import DEMO_BRANDS
from catalog.models import Brand
from config.api.testing import api_token, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/brands/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def token(demo):
    return api_token(demo["manager2"])


def codes(response) -> list[str]:
    return [brand["code"] for brand in response.json()["results"]]


def test_every_role_reads_every_brand_in_price_class_order(client, demo):
    expected = [row[0] for row in sorted(DEMO_BRANDS, key=lambda row: (row[3], row[0]))]
    for username in ("manager", "manager2", "supervisor", "admin"):
        response = client.get(URL, {"page_size": 100}, **bearer(api_token(demo[username])))
        assert response.status_code == 200
        assert response.json()["next"] is None
        assert codes(response) == expected


def test_a_brand_has_its_fields(client, token):
    brand = Brand.objects.get(code="6901028075015")
    response = client.get(URL, {"search": "6901028075015"}, **bearer(token))
    assert response.json()["results"] == [
        {
            "id": brand.pk,
            "code": "6901028075015",
            "name": "中华(硬)",
            "manufacturer": "上海烟草集团",
            "price_class": 1,
            "wholesale_price": "420.00",
            "list_price": "428.40",
            "cartons_per_case": 50,
            "is_low_tar": False,
            "is_new": False,
            "is_key": True,
            "is_scarce": True,
            "is_active": True,
            "updated_at": timezone.localtime(brand.updated_at).isoformat(),
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"price_class": "1"}, {r[0] for r in DEMO_BRANDS if r[3] == 1}),
        ({"is_scarce": "true"}, {r[0] for r in DEMO_BRANDS if r[8]}),
        ({"is_scarce": "false"}, {r[0] for r in DEMO_BRANDS if not r[8]}),
        ({"is_low_tar": "1"}, {r[0] for r in DEMO_BRANDS if r[5]}),
        ({"is_new": "true"}, {r[0] for r in DEMO_BRANDS if r[6]}),
        ({"is_key": "0"}, {r[0] for r in DEMO_BRANDS if not r[7]}),
        ({"is_active": "false"}, set()),
        ({"search": "黄金叶"}, {"6901028315208", "6901028315253", "6901028315185"}),
        ({"search": " 690102804 "}, {"6901028042079", "6901028042918", "6901028046893"}),
        ({"search": "   "}, {r[0] for r in DEMO_BRANDS}),
    ],
)
def test_filters(client, token, params, expected):
    response = client.get(URL, {**params, "page_size": 100}, **bearer(token))
    assert response.status_code == 200
    assert set(codes(response)) == expected


def test_updated_since_returns_what_changed(client, token):
    Brand.objects.update(updated_at=timezone.now() - dt.timedelta(days=2))
    changed = Brand.objects.get(code="6901028001250")
    changed.name = "大前门(新)"
    changed.save()
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = client.get(URL, {"updated_since": since}, **bearer(token))
    assert codes(response) == ["6901028001250"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_class": "6"}, "price_class"),
        ({"price_class": "0"}, "price_class"),
        ({"price_class": "1.0"}, "price_class"),
        ({"is_scarce": "maybe"}, "is_scarce"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "9999-12-31T23:59:59-14:00"}, "updated_since"),
        ({"search": "x" * 101}, "search"),
        ({"search": "a\x00b"}, "search"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"cursor": "forged"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, token, params, field):
    response = client.get(URL, params, **bearer(token))
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert body["message"].startswith(f"{field}: ")


def test_pages_follow_next_until_the_end(client, token):
    seen, url, pages = [], URL + "?page_size=7", 0
    while url:
        response = client.get(url, **bearer(token))
        assert response.status_code == 200
        seen += codes(response)
        url, pages = response.json()["next"], pages + 1
    assert pages == 3
    assert sorted(seen) == sorted(r[0] for r in DEMO_BRANDS)
    assert len(set(seen)) == len(DEMO_BRANDS)


@pytest.mark.parametrize("page_size", [1, 100])
def test_query_count_does_not_grow_with_the_page(
    client, token, page_size, django_assert_num_queries
):
    client.get(URL, **bearer(token))  # the token's first use is recorded once
    with django_assert_num_queries(2):  # token + user, brands
        response = client.get(URL, {"page_size": page_size}, **bearer(token))
    assert len(response.json()["results"]) == min(page_size, len(DEMO_BRANDS))


def test_a_browser_session_reads_brands_too(client, demo):
    client.force_login(demo["manager"])
    assert client.get(URL).status_code == 200
