"""GET /api/v1/retailers/, /retailers/{id}/ and /retailers/export/."""

import csv
import datetime as dt
import io
import json
import tracemalloc
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from config.api.testing import api_token, bearer, error_of
from retailers import export as export_module
from retailers.models import PaymentMethod, Retailer
from retailers.tests.factories import RetailerFactory
from territory.models import District, Route

pytestmark = pytest.mark.django_db

LIST = "/api/v1/retailers/"
EXPORT = "/api/v1/retailers/export/"
VISIBLE = {"manager": "YC-CQ", "supervisor": "YC-CQ", "manager2": "YC-XZ", "admin": None}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def tokens(demo):
    return {name: api_token(user) for name, user in demo.items()}


def visible_ids(username: str) -> set[int]:
    district = VISIBLE[username]
    retailers = Retailer.objects.all()
    if district:
        retailers = retailers.filter(route__district__code=district)
    return set(retailers.values_list("pk", flat=True))


def get(client, token, url=LIST, **params):
    return client.get(url, params, **bearer(token))


def all_pages(client, token, url=LIST, **params) -> list[dict]:
    results, response = [], get(client, token, url, **params)
    while True:
        assert response.status_code == 200, response.content
        results += response.json()["results"]
        if response.json()["next"] is None:
            return results
        response = client.get(response.json()["next"], **bearer(token))


def ids(client, token, **params) -> list[int]:
    return [r["id"] for r in all_pages(client, token, page_size=500, **params)]


def export(client, token, **params):
    response = client.get(EXPORT, params, **bearer(token))
    assert response.status_code == 200, response.content if not response.streaming else ""
    return response, b"".join(response.streaming_content).decode()


def ndjson(client, token, **params) -> list[dict]:
    _response, text = export(client, token, format="ndjson", **params)
    return [json.loads(line) for line in text.splitlines()]


# --- scoping ------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["manager", "supervisor", "manager2", "admin"])
def test_each_role_lists_exactly_its_retailers_of_every_status(client, tokens, username):
    found = ids(client, tokens[username])
    assert len(found) == len(set(found))
    assert set(found) == visible_ids(username)
    expected = {"manager": 310, "supervisor": 310, "manager2": 24, "admin": 334}[username]
    assert len(found) == expected


@pytest.mark.parametrize("username", ["manager", "supervisor", "manager2", "admin"])
def test_each_role_sees_details_only_of_its_retailers(client, tokens, username):
    city = Retailer.objects.filter(route__district__code="YC-CQ").order_by("pk").first()
    town = Retailer.objects.filter(route__district__code="YC-XZ").order_by("pk").first()
    for shop in (city, town):
        response = get(client, tokens[username], f"{LIST}{shop.pk}/")
        if shop.pk in visible_ids(username):
            assert response.status_code == 200
            assert response.json()["licence_number"] == shop.licence_number
        else:
            assert response.status_code == 404
            assert error_of(response) == {
                "status": 404,
                "code": "not_found",
                "message": "Not found.",
                "fields": {},
            }


@pytest.mark.parametrize("username", ["manager", "supervisor", "manager2", "admin"])
@pytest.mark.parametrize("export_format", ["csv", "ndjson"])
def test_each_role_exports_exactly_its_retailers(client, tokens, username, export_format):
    _response, text = export(client, tokens[username], format=export_format)
    if export_format == "csv":
        found = [int(row["id"]) for row in csv.DictReader(io.StringIO(text))]
    else:
        found = [json.loads(line)["id"] for line in text.splitlines()]
    assert sorted(found) == sorted(visible_ids(username))


@pytest.mark.parametrize("pk", [0, 10**9, 10**30])
def test_missing_retailers_are_404(client, tokens, pk):
    response = get(client, tokens["admin"], f"{LIST}{pk}/")
    assert response.status_code == 404


def test_a_closed_retailer_is_listed_so_sync_clients_learn_of_it(client, tokens):
    closed = set(Retailer.objects.filter(status="closed").values_list("pk", flat=True))
    assert len(closed) == 2
    assert closed <= set(ids(client, tokens["manager"]))
    assert set(ids(client, tokens["manager"], status="closed")) == closed


# --- representation -----------------------------------------------------------------------
def expected_json(shop: Retailer, *, settlement: bool) -> dict:
    account = getattr(shop, "settlement_account", None)
    return {
        "id": shop.pk,
        "licence_number": shop.licence_number,
        "name": shop.name,
        "owner_name": shop.owner_name,
        "phone": shop.phone,
        "address": shop.address,
        "route": shop.route_id,
        "route_code": shop.route.code,
        "district": shop.route.district_id,
        "district_code": shop.route.district.code,
        "stop_order": shop.stop_order,
        "star": shop.star,
        "business_type": shop.business_type,
        "integrity_level": shop.integrity_level,
        "status": shop.status,
        "ordering_channel": shop.ordering_channel,
        "payment_method": shop.payment_method,
        "e_settlement": shop.payment_method == "e_settlement",
        "needs_assistance": shop.needs_assistance,
        "is_standard_store": shop.is_standard_store,
        "is_demonstration_store": shop.is_demonstration_store,
        "latitude": None if shop.latitude is None else str(shop.latitude),
        "longitude": None if shop.longitude is None else str(shop.longitude),
        "opened_on": shop.opened_on and shop.opened_on.isoformat(),
        "created_at": timezone.localtime(shop.created_at).isoformat(),
        "updated_at": timezone.localtime(shop.updated_at).isoformat(),
        "settlement_account": (
            {
                "bank_name": account.bank_name,
                "account_number_masked": account.masked_account_number,
            }
            if settlement and account
            else None
        ),
    }


def e_settlement_shop() -> Retailer:
    return (
        Retailer.objects.filter(route__district__code="YC-CQ", payment_method="e_settlement")
        .select_related("route__district", "settlement_account")
        .order_by("pk")
        .first()
    )


def test_supervisors_see_the_settlement_account_masked(client, tokens):
    shop = e_settlement_shop()
    account = shop.settlement_account
    response = get(client, tokens["supervisor"], f"{LIST}{shop.pk}/")
    assert response.json() == expected_json(shop, settlement=True)
    masked = response.json()["settlement_account"]["account_number_masked"]
    assert masked == f"**** **** {account.account_number[-4:]}"
    assert account.account_number not in response.content.decode()


def test_account_managers_never_see_settlement_accounts(client, tokens):
    shop = e_settlement_shop()
    response = get(client, tokens["manager"], f"{LIST}{shop.pk}/")
    assert response.json() == expected_json(shop, settlement=False)
    assert response.json()["settlement_account"] is None
    assert shop.settlement_account.account_last4 not in json.dumps(
        response.json()["settlement_account"]
    )
    for row in ndjson(client, tokens["manager"]):
        assert row["settlement_account"] is None
    _response, text = export(client, tokens["manager"], format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["settlement_account_number_masked"] for row in rows} == {""}
    assert {row["settlement_bank"] for row in rows} == {""}


@pytest.mark.parametrize("username", ["manager", "supervisor"])
def test_ndjson_export_holds_the_same_objects_as_the_list(client, tokens, username):
    listed = all_pages(client, tokens[username], page_size=500)
    exported = ndjson(client, tokens[username])
    assert exported == listed


def test_csv_export_has_a_header_and_the_same_values(client, tokens):
    shop = e_settlement_shop()
    response, text = export(client, tokens["supervisor"], format="csv", search=shop.licence_number)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="retailers-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    item = expected_json(shop, settlement=True)
    assert list(row) == [
        *[k for k in item if k not in ("e_settlement", "settlement_account")],
        "e_settlement",
        "settlement_bank",
        "settlement_account_number_masked",
    ]
    assert row["id"] == str(shop.pk)
    assert row["star"] == ("" if shop.star is None else str(shop.star))
    assert row["e_settlement"] == "true"
    assert row["needs_assistance"] == str(shop.needs_assistance).lower()
    assert row["updated_at"] == item["updated_at"]
    assert row["settlement_bank"] == shop.settlement_account.bank_name
    assert row["settlement_account_number_masked"] == shop.settlement_account.masked_account_number


def test_csv_cells_cannot_become_formulas(client, demo, tokens):
    route = Route.objects.get(district__code="YC-CQ", code="A")
    shop = RetailerFactory(
        licence_number="-12345678",
        name='=HYPERLINK("http://x","y")',
        owner_name="+SUM(A1:A9)",
        phone="@cmd",
        address="\t=1+1",
        route=route,
    )
    _response, text = export(client, tokens["manager"], format="csv", search="-1234")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["id"] == str(shop.pk)
    assert row["licence_number"] == "'-12345678"
    assert row["name"] == '\'=HYPERLINK("http://x","y")'
    assert row["owner_name"] == "'+SUM(A1:A9)"
    assert row["phone"] == "'@cmd"
    assert row["address"] == "'\t=1+1"
    (item,) = ndjson(client, tokens["manager"], search="-1234")
    assert item["name"] == '=HYPERLINK("http://x","y")'  # JSON is data, not a spreadsheet


def test_ndjson_is_one_object_per_line(client, tokens):
    response, text = export(client, tokens["manager2"], format="ndjson")
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    lines = text.split("\n")
    assert lines[-1] == ""
    assert len(lines) == 25
    assert all(line.startswith("{") and line.endswith("}") for line in lines[:-1])


def test_export_streams_from_a_server_side_cursor_in_bounded_memory(client, demo, tokens):
    route = Route.objects.get(district__code="YC-XZ", code="F")
    Retailer.objects.bulk_create(
        Retailer(
            licence_number=f"77{n:010d}",
            name=f"批量{n}",
            owner_name="批量测试户主",
            address="批量测试地址" * 5,
            route=route,
            stop_order=n,
            business_type="grocery",
        )
        for n in range(20000)
    )
    chunked = mock.Mock(wraps=connection.chunked_cursor)
    with mock.patch.object(connection, "chunked_cursor", chunked):
        response = client.get(EXPORT, {"format": "ndjson"}, **bearer(tokens["manager2"]))
        assert response.streaming
        tracemalloc.start()
        count = 0
        for chunk in response.streaming_content:
            count += chunk.count(b"\n")
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == 20024
    assert chunked.call_count == 1
    # 20,000 rows held at once would be ~30 MB of Python objects (and 15 MB of text);
    # streaming holds one fetch (2,000 rows) and one chunk (1,000 lines) at a time.
    assert peak < 12 * 1024 * 1024, peak


def test_rows_fetched_ahead_stop_when_the_stream_is_closed_early(demo):
    import threading

    from retailers import export

    expected = list(Retailer.objects.order_by("pk").values_list("pk"))
    # All of it, batch after batch, in order.
    whole = export.server_side_rows(Retailer.objects.order_by("pk").values_list("pk"), chunk_size=3)
    assert list(whole) == expected
    # (Closing early ends the stream's transaction, here the test's: so this comes last.)
    rows = export.server_side_rows(Retailer.objects.order_by("pk").values_list("pk"), chunk_size=3)
    first = [next(rows) for _ in range(4)]  # the second batch, with the third fetched ahead
    rows.close()  # the client went away: the fetch ahead ends with the stream
    assert first == expected[:4]
    assert not [t for t in threading.enumerate() if t.name.startswith("export-fetch")]


def test_export_applies_the_list_filters(client, tokens):
    closed = ndjson(client, tokens["supervisor"], status="closed")
    assert sorted(r["id"] for r in closed) == sorted(
        Retailer.objects.filter(status="closed").values_list("pk", flat=True)
    )
    unrated = ndjson(client, tokens["supervisor"], star="unrated", ordering="-name")
    assert [r["id"] for r in unrated] == ids(
        client, tokens["supervisor"], star="unrated", ordering="-name"
    )
    for ordering in ("-star", "star,-name", "route", "-updated_at"):
        exported = [r["id"] for r in ndjson(client, tokens["supervisor"], ordering=ordering)]
        assert exported == ids(client, tokens["supervisor"], ordering=ordering), ordering


@pytest.mark.parametrize(
    ("params", "field"),
    [({"format": "xml"}, "format"), ({"format": ""}, "format"), ({"star": "9"}, "star")],
)
def test_export_bad_parameters_are_json_400s_whatever_the_client_accepts(
    client, tokens, params, field
):
    response = client.get(EXPORT, params, HTTP_ACCEPT="text/csv", **bearer(tokens["manager"]))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(error_of(response)["fields"]) == [field]


def test_export_has_its_own_throttle(client, tokens, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "export": "1/hour",
        },
    }
    export(client, tokens["manager2"])
    response = client.get(EXPORT, **bearer(tokens["manager2"]))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert get(client, tokens["manager2"]).status_code == 200  # the list is another scope


def test_export_needs_credentials(client, demo):
    assert client.get(EXPORT).status_code == 401


# --- filters --------------------------------------------------------------------------------
def city() -> "Retailer.objects":
    return Retailer.objects.filter(route__district__code="YC-CQ")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, lambda: city().filter(status="active")),
        ({"status": "closed"}, lambda: city().filter(status="closed")),
        ({"star": "5"}, lambda: city().filter(star=5)),
        ({"star": "unrated"}, lambda: city().filter(star__isnull=True)),
        ({"star_min": "4"}, lambda: city().filter(star__gte=4)),
        ({"star_max": "2"}, lambda: city().filter(star__lte=2)),
        ({"star_min": "2", "star_max": "3"}, lambda: city().filter(star__in=[2, 3])),
        ({"business_type": "catering"}, lambda: city().filter(business_type="catering")),
        ({"integrity_level": "A"}, lambda: city().filter(integrity_level="A")),
        ({"ordering_channel": "online"}, lambda: city().filter(ordering_channel="online")),
        ({"e_settlement": "true"}, lambda: city().filter(payment_method="e_settlement")),
        ({"e_settlement": "false"}, lambda: city().exclude(payment_method="e_settlement")),
        ({"search": "鑫源"}, lambda: city().filter(name__contains="鑫源")),
        ({"search": "4114251"}, lambda: city().filter(licence_number__startswith="4114251")),
    ],
)
def test_each_filter(client, tokens, params, expected):
    wanted = set(expected().values_list("pk", flat=True))
    assert wanted, "the demo data should have some"
    assert set(ids(client, tokens["supervisor"], **params)) == wanted


def test_route_and_district_filters(client, tokens):
    route_b = Route.objects.get(district__code="YC-CQ", code="B")
    found = ids(client, tokens["manager"], route=route_b.pk)
    assert set(found) == set(route_b.retailers.values_list("pk", flat=True))
    assert len(found) == 79  # 78 active and one closed
    assert len(ids(client, tokens["manager"], route=route_b.pk, status="active")) == 78
    town = District.objects.get(code="YC-XZ")
    assert len(ids(client, tokens["admin"], district=town.pk)) == 24
    # Another district's route or an unknown one: nothing, and nothing learnt.
    assert ids(client, tokens["manager"], district=town.pk) == []
    assert ids(client, tokens["manager"], route=10**12) == []


def test_the_source_figures_come_out_of_the_filters(client, tokens):
    token = tokens["supervisor"]
    assert len(ids(client, token, status="active")) == 308
    assert len(ids(client, token, status="active", e_settlement="true")) == 278
    assert len(ids(client, token, status="active", ordering_channel="online")) == 12


def test_updated_since_gives_what_changed(client, tokens):
    Retailer.objects.update(updated_at=timezone.now() - dt.timedelta(days=3))
    shop = city().order_by("pk")[5]
    shop.phone = "13800000000"
    shop.save()
    since = timezone.localtime() - dt.timedelta(hours=1)
    assert ids(client, tokens["manager"], updated_since=since.isoformat()) == [shop.pk]
    naive = since.replace(tzinfo=None).isoformat()  # local time when no offset is given
    assert ids(client, tokens["manager"], updated_since=naive) == [shop.pk]
    utc = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client, tokens["manager"], updated_since=utc) == [shop.pk]


# --- ordering and paging ------------------------------------------------------------------
def test_default_order_is_by_id(client, tokens):
    assert ids(client, tokens["supervisor"]) == sorted(visible_ids("supervisor"))


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("name", lambda r: (r.name, r.pk)),
        ("-name", lambda r: (r.name, r.pk)),
        ("licence_number", lambda r: (r.licence_number,)),
        ("updated_at", lambda r: (r.updated_at, r.pk)),
    ],
)
def test_ordering_across_pages(client, tokens, ordering, key):
    found = [
        r["id"] for r in all_pages(client, tokens["supervisor"], page_size=37, ordering=ordering)
    ]
    shops = sorted(city(), key=key, reverse=ordering.startswith("-"))
    assert found == [shop.pk for shop in shops]


def test_star_ordering_puts_unrated_last_both_ways(client, tokens):
    for ordering, reverse in (("star", False), ("-star", True)):
        found = all_pages(client, tokens["supervisor"], page_size=23, ordering=ordering)
        rated = [r for r in found if r["star"] is not None]
        assert found[-1]["star"] is None
        assert len(found) == 310
        assert [(r["star"], r["id"]) for r in rated] == sorted(
            ((r["star"], r["id"]) for r in rated), key=lambda p: (p[0], p[1]), reverse=reverse
        )


def test_route_ordering_follows_stops(client, tokens):
    found = all_pages(client, tokens["admin"], page_size=50, ordering="route")
    shops = Retailer.objects.select_related("route__district").order_by(
        "route__district__code", "route__code", "stop_order", "pk"
    )
    assert [r["id"] for r in found] == [s.pk for s in shops]


def test_next_and_previous_links_walk_both_ways(client, tokens):
    token = tokens["supervisor"]
    first = get(client, token, page_size=100, ordering="-star").json()
    assert first["previous"] is None
    second = client.get(first["next"], **bearer(token)).json()
    third = client.get(second["next"], **bearer(token)).json()
    back = client.get(third["previous"], **bearer(token)).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in second["results"]]
    back_to_first = client.get(back["previous"], **bearer(token)).json()
    assert back_to_first["results"] == first["results"]
    assert back_to_first["previous"] is None
    page = third
    while page["next"]:
        page = client.get(page["next"], **bearer(token)).json()
    assert len(page["results"]) == 10  # 310 = 3 × 100 + 10
    assert page["previous"] is not None


def test_rows_added_while_paging_are_not_skipped_or_repeated(client, demo, tokens):
    token = tokens["manager2"]
    page = get(client, token, page_size=10).json()
    seen = [r["id"] for r in page["results"]]
    RetailerFactory(route=Route.objects.get(district__code="YC-XZ", code="G"))
    while page["next"]:
        page = client.get(page["next"], **bearer(token)).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 25


def test_a_cursor_is_bound_to_its_ordering(client, tokens):
    token = tokens["supervisor"]
    cursor_link = get(client, token, page_size=5, ordering="name").json()["next"]
    response = client.get(cursor_link.replace("ordering=name", "ordering=-star"), **bearer(token))
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "cursor": ["This cursor belongs to another ordering; start again without it."]
    }


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize("username", ["supervisor", "manager"])
def test_list_query_count_does_not_grow_with_the_page(
    client, tokens, username, page_size, django_assert_num_queries
):
    token = tokens[username]
    get(client, token)  # the token's first use is recorded once
    with django_assert_num_queries(2):  # token + user; one page with route, district, account
        response = get(client, token, page_size=page_size, ordering="-star")
    assert len(response.json()["results"]) == page_size


def test_detail_query_count(client, tokens, django_assert_num_queries):
    shop = e_settlement_shop()
    get(client, tokens["supervisor"])
    with django_assert_num_queries(2):
        get(client, tokens["supervisor"], f"{LIST}{shop.pk}/")


def test_export_query_count_is_fixed(client, tokens, django_assert_num_queries):
    get(client, tokens["supervisor"])
    # Token; on PostgreSQL the session's time zone for the query; the rows.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 2):
        export(client, tokens["supervisor"], format="ndjson")
    with django_assert_num_queries(2):  # token; the rows
        export(client, tokens["supervisor"], format="csv")


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"route": "abc"}, "route"),
        ({"route": "0"}, "route"),
        ({"route": "1.5"}, "route"),
        ({"route": "99999999999999999999"}, "route"),
        ({"route": ""}, "route"),
        ({"district": "-1"}, "district"),
        ({"star": "6"}, "star"),
        ({"star": ""}, "star"),
        ({"star_min": "0"}, "star_min"),
        ({"star_max": "six"}, "star_max"),
        ({"status": "bogus"}, "status"),
        ({"business_type": "bank"}, "business_type"),
        ({"integrity_level": "E"}, "integrity_level"),
        ({"ordering_channel": "fax"}, "ordering_channel"),
        ({"e_settlement": "maybe"}, "e_settlement"),
        ({"updated_since": "2026-02-30T00:00:00"}, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
        ({"search": "x" * 101}, "search"),
        ({"search": "nul\x00byte"}, "search"),
        ({"ordering": "password"}, "ordering"),
        ({"page_size": "100000"}, "page_size"),
        ({"page_size": "-1"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "\x00"}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, tokens, params, field):
    response = get(client, tokens["manager"], **params)
    assert response.status_code == 400, response.content
    body = error_of(response)
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert body["message"].startswith(f"{field}: ")


def test_several_bad_parameters_are_named_together(client, tokens):
    response = get(client, tokens["manager"], star="9", status="x")
    body = error_of(response)
    assert set(body["fields"]) == {"star", "status"}
    assert body["message"] == "Invalid input: star, status."


def test_error_messages_follow_the_language(client, tokens):
    response = client.get(
        LIST, {"page_size": "0"}, HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer(tokens["manager"])
    )
    assert error_of(response)["fields"] == {"page_size": ["每页条数请选择 1 至 500。"]}


def test_writes_are_not_allowed(client, tokens):
    response = client.post(LIST, {}, **bearer(tokens["admin"]))
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_payment_method_choices_are_what_the_filter_maps_to():
    assert PaymentMethod.E_SETTLEMENT.value == "e_settlement"


def test_head_on_the_export_runs_no_query(client, tokens, django_assert_num_queries):
    get(client, tokens["manager"])
    with django_assert_num_queries(1):  # the token only
        response = client.head(EXPORT, {"format": "csv"}, **bearer(tokens["manager"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_an_unmatched_accept_header_still_gets_json(client, tokens):
    response = client.get(
        LIST, {"page_size": 1}, HTTP_ACCEPT="text/html", **bearer(tokens["manager"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-09 18:15:31.9691+08", "2026-10-09T18:15:31.969100+08:00"),
        ("2026-10-09 18:15:31+08", "2026-10-09T18:15:31+08:00"),
        ("2026-10-09 18:15:31.123456-05:30", "2026-10-09T18:15:31.123456-05:30"),
        ("1900-01-01 00:00:00+08:05:43", "1900-01-01T00:00:00+08:05:43"),
    ],
)
def test_export_reads_postgresql_times_as_python_writes_them(text, expected):
    assert export_module._iso_time(text) == expected
    moment = dt.datetime.fromisoformat(expected)
    assert moment.isoformat() == expected  # what the serializer writes for the same instant


# --- prepared statements (config.prepared) and the written page (page_json) ----------------
@pytest.mark.parametrize("username", ["admin", "supervisor", "manager"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "active", "star_min": "4"},
        {"star": "3", "star_max": "4", "business_type": "catering", "page_size": "7"},
        {"star": "unrated", "e_settlement": "false", "ordering": "-updated_at"},
        {"e_settlement": "true", "ordering": "-star", "page_size": "9"},
        {"search": " 鑫源 ", "ordering": "name"},
        {"search": "4114%_\\", "integrity_level": "A"},
        {"search": "41142", "ordering": "route", "page_size": "13"},
        {"updated_since": "2020-01-01T00:00:00+08:00", "ordering": "-licence_number"},
        {"ordering": "star,-name", "page_size": "11"},
        {"route": "1", "district": "1", "ordering_channel": "online"},
    ],
)
def test_prepared_written_pages_are_the_orm_serialized_pages(client, tokens, username, params):
    """Every page and link of the list is the same, byte for byte, from the prepared
    statement and ``page_json`` as from the ORM and DRF's renderer, walking forwards to the
    end and back from each page."""
    from retailers.api import LIST_STATEMENTS, PageRenderer

    def both(url=None):
        fetch = (
            (lambda: get(client, token, **params))
            if url is None
            else (lambda: client.get(url, **bearer(token)))
        )
        fast = fetch()
        with (
            mock.patch.object(LIST_STATEMENTS, "statement", return_value=None),
            mock.patch.object(PageRenderer, "writes", return_value=False),
        ):
            slow = fetch()
        assert fast.status_code == slow.status_code == 200, fast.content
        assert fast.content == slow.content
        assert fast.headers == slow.headers
        return fast.json()

    token = tokens[username]
    LIST_STATEMENTS.clear()
    url, pages = None, 0
    # Links are signed with the time: the same second for both.
    with mock.patch("django.core.signing.time.time", return_value=1_800_000_000):
        while True:
            body, pages = both(url), pages + 1
            if body["previous"]:
                both(body["previous"])
            if not body["next"] or pages > 60:
                break
            url = body["next"]
    if connection.vendor == "postgresql":  # every shape was prepared (not run by the ORM)
        assert LIST_STATEMENTS._statements
        assert all(s is not None for s in LIST_STATEMENTS._statements.values())


def test_page_json_writes_what_the_renderer_writes():
    from decimal import Decimal

    from rest_framework.renderers import JSONRenderer

    from retailers.api import page_json

    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    base = (
        7,
        'L\u2028"1',
        "名\u2029\n\x01</script>",
        "",
        "p",
        "a\\b",
        3,
        "R",
        2,
        "D",
        4,
        None,
        "catering",
        "A",
        "active",
        "phone",
        "e_settlement",
        True,
        False,
        True,
        Decimal("0E-6"),
        None,
        dt.date(2026, 1, 2),
        moment,
        moment,
    )
    rows = [
        base,
        (
            *base[:11],
            5,
            *base[12:16],
            "cash",
            *base[17:20],
            None,
            Decimal("-1.50"),
            None,
            moment,
            moment,
        ),
        (*base, "工商银行", "1234"),
        (*base, 'Bank "X"', ""),
        (*base, None, None),
    ]
    for page in (rows[:2], rows[2:], []):
        expected = JSONRenderer().render(
            {
                "next": "http://h/?a=1&cursor=x",
                "previous": None,
                "results": list(export_module.records(page)),
            }
        )
        assert page_json(page, next_link="http://h/?a=1&cursor=x", previous=None) == expected


def test_indented_json_is_still_served_indented(client, tokens):
    response = client.get(
        LIST, {"page_size": 2}, HTTP_ACCEPT="application/json; indent=2", **bearer(tokens["admin"])
    )
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "next": ')
