"""GET /api/v1/routes/, /districts/ (scoped) and /cycles/ (branch-wide)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.api.testing import api_token, bearer, error_of
from territory.models import Cycle, District, Route
from territory.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db

ROUTES, DISTRICTS, CYCLES = "/api/v1/routes/", "/api/v1/districts/", "/api/v1/cycles/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def tokens(demo):
    return {name: api_token(user) for name, user in demo.items()}


def results(client, token, url, **params):
    response = client.get(url, {"page_size": 500, **params}, **bearer(token))
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return response.json()["results"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("manager", ["YC-CQ A", "YC-CQ B", "YC-CQ C", "YC-CQ D", "YC-CQ E"]),
        ("supervisor", ["YC-CQ A", "YC-CQ B", "YC-CQ C", "YC-CQ D", "YC-CQ E"]),
        ("manager2", ["YC-XZ F", "YC-XZ G"]),
        (
            "admin",
            ["YC-CQ A", "YC-CQ B", "YC-CQ C", "YC-CQ D", "YC-CQ E", "YC-XZ F", "YC-XZ G"],
        ),
    ],
)
def test_each_role_lists_its_routes_in_district_and_code_order(client, tokens, username, expected):
    found = results(client, tokens[username], ROUTES)
    assert [f"{r['district_code']} {r['code']}" for r in found] == expected


def test_a_route_has_its_fields(client, demo, tokens):
    route = Route.objects.select_related("district").get(district__code="YC-CQ", code="B")
    (found,) = [r for r in results(client, tokens["manager"], ROUTES) if r["id"] == route.pk]
    manager = demo["manager"]
    assert found == {
        "id": route.pk,
        "code": "B",
        "name": route.name,
        "district": route.district_id,
        "district_code": "YC-CQ",
        "visit_weekday": 1,
        "delivery_weekday": 2,
        "account_manager": {
            "id": manager.pk,
            "username": "manager",
            "full_name": manager.full_name,
        },
        "updated_at": timezone.localtime(route.updated_at).isoformat(),
    }


def test_routes_filter_by_district_and_updated_since(client, tokens):
    town = District.objects.get(code="YC-XZ")
    assert [r["code"] for r in results(client, tokens["admin"], ROUTES, district=town.pk)] == [
        "F",
        "G",
    ]
    assert results(client, tokens["manager"], ROUTES, district=town.pk) == []
    Route.objects.update(updated_at=timezone.now() - dt.timedelta(days=2))
    route = Route.objects.get(code="G")
    route.name = "新线路"
    route.save()
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert [r["id"] for r in results(client, tokens["admin"], ROUTES, updated_since=since)] == [
        route.pk
    ]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("manager", ["YC-CQ"]),
        ("supervisor", ["YC-CQ"]),
        ("manager2", ["YC-XZ"]),
        ("admin", ["YC-CQ", "YC-XZ"]),
    ],
)
def test_each_role_lists_its_districts(client, tokens, username, expected):
    assert [d["code"] for d in results(client, tokens[username], DISTRICTS)] == expected


def test_a_district_has_its_branch_and_supervisor(client, demo, tokens):
    district = District.objects.select_related("branch").get(code="YC-CQ")
    (found,) = results(client, tokens["supervisor"], DISTRICTS)
    assert found == {
        "id": district.pk,
        "code": "YC-CQ",
        "name": "城区辖区",
        "branch": {"id": district.branch_id, "code": "YC", "name": district.branch.name},
        "supervisor": {
            "id": demo["supervisor"].pk,
            "username": "supervisor",
            "full_name": demo["supervisor"].full_name,
        },
    }
    (town,) = results(client, tokens["manager2"], DISTRICTS)
    assert town["supervisor"] is None


@pytest.mark.parametrize("username", ["manager", "manager2", "supervisor", "admin"])
def test_every_role_reads_every_cycle_in_date_order(client, tokens, username):
    found = results(client, tokens[username], CYCLES)
    assert [c["code"] for c in found] == list(
        Cycle.objects.order_by("start_date").values_list("code", flat=True)
    )
    # The territory demo's 12 past weeks, this one and the next; the settlement demo adds the
    # weeks of its older order history.
    assert len(found) == Cycle.objects.count() >= 14


def test_a_cycle_has_its_fields_and_filters(client, tokens):
    today = timezone.localdate()
    current = Cycle.objects.get(start_date__lte=today, end_date__gte=today)
    token = tokens["manager"]
    assert results(client, token, CYCLES, date=today.isoformat()) == [
        {
            "id": current.pk,
            "code": current.code,
            "start_date": current.start_date.isoformat(),
            "end_date": current.end_date.isoformat(),
            "status": "open",
        }
    ]
    assert [c["status"] for c in results(client, token, CYCLES, status="planned")] == ["planned"]
    closed = results(client, token, CYCLES, status="closed")
    assert len(closed) == Cycle.objects.filter(status="closed").count() >= 12
    assert {c["status"] for c in closed} == {"closed"}
    assert results(client, token, CYCLES, date="1999-01-01") == []


def test_cycles_page_in_date_order(client, tokens):
    for n in range(30):
        CycleFactory(start_date=dt.date(2001, 1, 1) + dt.timedelta(weeks=n), code=f"OLD-{n}")
    token, seen = tokens["manager"], []
    page = client.get(CYCLES, {"page_size": 8}, **bearer(token)).json()
    seen += page["results"]
    while page["next"]:
        page = client.get(page["next"], **bearer(token)).json()
        seen += page["results"]
    assert [c["start_date"] for c in seen] == sorted(c["start_date"] for c in seen)
    assert len(seen) == Cycle.objects.count() >= 44


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (ROUTES, {"district": "x"}, "district"),
        (ROUTES, {"district": "0"}, "district"),
        (ROUTES, {"updated_since": "2026-01-01T25:00:00"}, "updated_since"),
        (CYCLES, {"status": "running"}, "status"),
        (CYCLES, {"date": "31/12/2026"}, "date"),
        (CYCLES, {"date": "2026-02-30"}, "date"),
        (CYCLES, {"date": ""}, "date"),
        (DISTRICTS, {"page_size": "501"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, tokens, url, params, field):
    response = client.get(url, params, **bearer(tokens["admin"]))
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


@pytest.mark.parametrize("url", [ROUTES, DISTRICTS, CYCLES])
def test_credentials_are_needed(client, demo, url):
    response = client.get(url)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize("url", [ROUTES, DISTRICTS, CYCLES])
def test_query_count_does_not_grow_with_the_page(
    client, tokens, url, page_size, django_assert_num_queries
):
    token = tokens["admin"]
    client.get(url, **bearer(token))  # the token's first use is recorded once
    with django_assert_num_queries(2):  # token + user; one page with its related rows
        response = client.get(url, {"page_size": page_size}, **bearer(token))
    assert response.status_code == 200
