"""GET /api/v1/allocation/runs/ and their lines: published runs for all, drafts for supervisors."""

import pytest
from django.core.cache import cache

from accounts.tests.factories import SupervisorFactory, UserFactory
from allocation import services
from allocation.tests.factories import make_world
from config.api.testing import api_token, bearer, error_of
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/allocation/runs/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def computed(world, **kwargs):
    run, _created = services.allocation_run_request(
        supply=world.supply(**kwargs), by=world.supervisor, enqueue=False
    )
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    return run


def publish(run, by):
    services.allocation_run_approve(run=run, by=by)
    return services.allocation_run_publish(run=run, by=by)


@pytest.fixture
def world():
    world = make_world()
    world.other_manager = UserFactory()
    far = RouteFactory(district__branch=world.branch, account_manager=world.other_manager)
    world.shops = {
        "A": world.retailer(points=50, name="A"),
        "B": world.retailer(points=30, name="B"),
        "C": world.retailer(points=15, name="C"),
        "D": world.retailer(points=5, name="D", route=far),
    }
    world.points()
    world.published = publish(computed(world), world.supervisor)
    world.draft = computed(world, brand=world.class1)
    return world


def get(client, user, url, **params):
    return client.get(url, {"page_size": 100, **params}, **bearer(api_token(user)))


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def test_runs_by_role(client, world, demo):
    assert ids(get(client, world.supervisor, RUNS)) == [world.draft.pk, world.published.pk]
    assert ids(get(client, world.manager, RUNS)) == [world.published.pk]
    assert ids(get(client, world.other_manager, RUNS)) == [world.published.pk]
    assert ids(get(client, demo["manager"], RUNS)) == []
    assert ids(get(client, SupervisorFactory(), RUNS)) == []
    assert set(ids(get(client, demo["admin"], RUNS))) >= {world.draft.pk, world.published.pk}
    assert client.get(RUNS).status_code == 401


def test_a_run_has_its_fields(client, world):
    response = get(client, world.manager, f"{RUNS}{world.published.pk}/")
    body = response.json()
    run = world.published
    assert {k: body[k] for k in ("id", "number", "status", "branch", "cycle_code")} == {
        "id": run.pk,
        "number": 1,
        "status": "published",
        "branch": world.branch.code,
        "cycle_code": world.cycle.code,
    }
    assert body["caps"] == {"1": 4, "2": 4, "3": 4, "4": 4, "5": 4}
    assert (body["quantity"], body["allocated"], body["unallocated"]) == (10, 10, 0)
    assert (body["units_per_point"], body["total_points"], body["eligible"]) == ("3/25", 100, 4)
    assert body["brand_name"] == world.scarce.name
    assert body["inputs_hash"] == run.inputs_hash


def test_drafts_are_404_for_managers(client, world):
    for url in (f"{RUNS}{world.draft.pk}/", f"{RUNS}{world.draft.pk}/lines/"):
        response = get(client, world.manager, url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert get(client, world.supervisor, f"{RUNS}{world.draft.pk}/lines/").status_code == 200


def test_lines_are_scoped_to_the_users_retailers_and_explained(client, world):
    url = f"{RUNS}{world.published.pk}/lines/"

    def names(user):
        return [line["retailer_name"] for line in get(client, user, url).json()["results"]]

    # D is on a route of another district of the branch, which the supervisor does not oversee.
    assert names(world.supervisor) == ["A", "B", "C"]
    assert names(world.manager) == ["A", "B", "C"]
    assert names(world.other_manager) == ["D"]
    line = get(client, world.manager, url, retailer=world.shops["B"].pk).json()["results"][0]
    assert {k: line[k] for k in ("points", "cap", "quota", "floor_units", "remainder_rank")} == {
        "points": 30,
        "cap": 4,
        "quota": "3.6",
        "floor_units": 3,
        "remainder_rank": 2,
    }
    assert (line["award"], line["capped"], line["eligible"], line["reason"]) == (4, False, True, "")
    assert line["explanation"][-1] == "Award: 4 cartons."
    assert line["licence_number"] == world.shops["B"].licence_number


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"awarded": "true"}, ["A", "B", "C"]),
        ({"awarded": "false"}, ["D"]),
        ({"eligible": "true"}, ["A", "B", "C", "D"]),
    ],
)
def test_line_filters(client, world, params, expected, demo):
    response = get(client, demo["admin"], f"{RUNS}{world.published.pk}/lines/", **params)
    assert [line["retailer_name"] for line in response.json()["results"]] == expected


def test_run_filters(client, world):
    assert ids(get(client, world.supervisor, RUNS, status="draft")) == [world.draft.pk]
    assert ids(get(client, world.supervisor, RUNS, brand=world.scarce.pk)) == [world.published.pk]
    assert ids(get(client, world.supervisor, RUNS, cycle=world.before.pk)) == []
    assert ids(get(client, world.supervisor, RUNS, supply=world.draft.supply_id)) == [
        world.draft.pk
    ]


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (RUNS, {"status": "done"}, "status"),
        (RUNS, {"cycle": "x"}, "cycle"),
        (RUNS, {"brand": "1.5"}, "brand"),
        ("lines", {"awarded": "maybe"}, "awarded"),
        ("lines", {"retailer": "-"}, "retailer"),
        ("lines", {"page_size": "0"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, world, url, params, field):
    if url == "lines":
        url = f"{RUNS}{world.published.pk}/lines/"
    response = client.get(url, params, **bearer(api_token(world.supervisor)))
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


@pytest.mark.parametrize("page_size", [1, 100])
def test_query_counts_do_not_grow_with_the_page(
    client, world, page_size, django_assert_num_queries
):
    token = api_token(world.supervisor)
    # token, its last use, the runs (the branch scope as subqueries)
    with django_assert_num_queries(3):
        response = client.get(RUNS, {"page_size": page_size}, **bearer(token))
    assert response.status_code == 200
    # token, the run, the lines
    with django_assert_num_queries(3):
        response = client.get(
            f"{RUNS}{world.published.pk}/lines/", {"page_size": page_size}, **bearer(token)
        )
    assert len(response.json()["results"]) == min(page_size, 3)
