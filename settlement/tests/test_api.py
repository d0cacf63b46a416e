"""The e-settlement API: orders, settlement accounts, balances, debits and reminders."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Brand
from config.api.testing import api_token, bearer, error_of
from retailers.models import Retailer
from settlement.models import BalanceReminder, Debit, Order, SettlementAccount
from territory.models import Cycle

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
ACCOUNTS = "/api/v1/settlement-accounts/"
BALANCES = "/api/v1/settlement-accounts/balances/"
DEBITS = "/api/v1/debits/"
REMINDERS = "/api/v1/balance-reminders/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def tokens(demo):
    return {name: api_token(user) for name, user in demo.items()}


def get_all(client, url, token, **params):
    results, next_url = [], None
    response = client.get(url, {**params, "page_size": 500}, **bearer(token))
    assert response.status_code == 200, response.content
    while True:
        body = response.json()
        results += body["results"]
        next_url = body["next"]
        if next_url is None:
            return results
        response = client.get(next_url, **bearer(token))


def city_shop():
    return Retailer.objects.filter(route__district__code="YC-CQ", status="active").order_by(
        "licence_number"
    )[0]


def current_cycle():
    today = timezone.localdate()
    return Cycle.objects.get(start_date__lte=today, end_date__gte=today)


def post_order(client, token, **body):
    return client.post(ORDERS, body, content_type="application/json", **bearer(token))


# --- Orders ---------------------------------------------------------------------------------


def test_orders_are_scoped_by_role(client, tokens):
    cycle = Cycle.objects.filter(status="closed").order_by("-start_date")[0]
    for name, district in (("manager", "YC-CQ"), ("manager2", "YC-XZ"), ("supervisor", "YC-CQ")):
        ids = {o["id"] for o in get_all(client, ORDERS, tokens[name], cycle=cycle.pk)}
        expected = Order.objects.filter(cycle=cycle, retailer__route__district__code=district)
        assert ids == set(expected.values_list("pk", flat=True)), name
    everything = {o["id"] for o in get_all(client, ORDERS, tokens["admin"], cycle=cycle.pk)}
    assert everything == set(Order.objects.filter(cycle=cycle).values_list("pk", flat=True))


def test_an_order_has_its_fields_and_lines(client, tokens):
    order = Order.objects.filter(retailer__route__district__code="YC-CQ").order_by("pk")[0]
    response = client.get(f"{ORDERS}{order.pk}/", **bearer(tokens["manager"]))
    assert response.status_code == 200
    body = response.json()
    lines = list(order.lines.select_related("brand").order_by("pk"))
    assert body == {
        "id": order.pk,
        "retailer": order.retailer_id,
        "retailer_licence": order.retailer.licence_number,
        "cycle": order.cycle_id,
        "cycle_code": order.cycle.code,
        "channel": order.channel,
        "status": order.status,
        "e_settlement": order.e_settlement,
        "ordered_at": timezone.localtime(order.ordered_at).isoformat(),
        "external_ref": None,
        "total_amount": str(order.total_amount),
        "rebate_amount": str(order.rebate_amount),
        "rebate": order.rebate_id,
        "lines": [
            {
                "brand": line.brand_id,
                "brand_code": line.brand.code,
                "cartons": line.cartons,
                "unit_price": str(line.unit_price),
                "wholesale_price": str(line.wholesale_price),
                "amount": str(line.amount),
            }
            for line in lines
        ],
        "created_at": timezone.localtime(order.created_at).isoformat(),
        "updated_at": timezone.localtime(order.updated_at).isoformat(),
    }
    theirs = Order.objects.filter(retailer__route__district__code="YC-XZ")[0]
    response = client.get(f"{ORDERS}{theirs.pk}/", **bearer(tokens["manager"]))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cycle": "abc"}, "cycle"),
        ({"status": "lost"}, "status"),
        ({"channel": "fax"}, "channel"),
        ({"ordered_since": "yesterday"}, "ordered_since"),
        ({"external_ref": "x" * 65}, "external_ref"),
    ],
)
def test_bad_order_filters_are_400_naming_them(client, tokens, params, field):
    response = client.get(ORDERS, params, **bearer(tokens["manager"]))
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


def test_order_filters(client, tokens):
    cycle = Cycle.objects.filter(status="closed").order_by("-start_date")[0]
    failed = get_all(client, ORDERS, tokens["supervisor"], cycle=cycle.pk, status="payment_failed")
    expected = Order.objects.filter(
        cycle=cycle, status="payment_failed", retailer__route__district__code="YC-CQ"
    )
    assert {o["id"] for o in failed} == set(expected.values_list("pk", flat=True))
    online = get_all(client, ORDERS, tokens["supervisor"], channel="online", cycle=cycle.pk)
    assert {o["channel"] for o in online} == {"online"}


@pytest.mark.parametrize("page_size", [1, 100])
def test_order_list_query_count_does_not_grow_with_the_page(
    client, tokens, page_size, django_assert_num_queries
):
    client.get(ORDERS, **bearer(tokens["manager"]))  # the token's first use is recorded once
    with django_assert_num_queries(3):  # token + user, orders, lines with brands
        response = client.get(ORDERS, {"page_size": page_size}, **bearer(tokens["manager"]))
    assert len(response.json()["results"]) == page_size


def test_the_platform_posts_an_order_once(client, tokens):
    shop, cycle = city_shop(), current_cycle()
    brand = Brand.objects.order_by("code")[0]
    body = {
        "retailer": shop.pk,
        "channel": "online",
        "external_ref": "WEB-20261127-1",
        "lines": [{"brand": brand.pk, "cartons": 5}],
    }
    response = post_order(client, tokens["manager"], **body)
    assert response.status_code == 201
    created = response.json()
    assert created["cycle"] == cycle.pk  # the current cycle by default
    assert created["total_amount"] == str(brand.wholesale_price * 5)
    assert created["rebate_amount"] == "0.00"
    again = post_order(
        client, tokens["manager"], **{**body, "lines": [{"brand": brand.pk, "cartons": 9}]}
    )
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    assert Order.objects.filter(external_ref="WEB-20261127-1").count() == 1
    phone = post_order(
        client,
        tokens["manager"],
        retailer=shop.pk,
        cycle=cycle.pk,
        channel="phone",
        lines=[{"brand": brand.pk, "cartons": 2}],
    )
    assert phone.status_code == 201
    assert phone.json()["total_amount"] == str(brand.list_price * 2)
    assert phone.json()["rebate_amount"] == str((brand.list_price - brand.wholesale_price) * 2)


def test_bad_orders_are_refused_and_nothing_is_saved(client, tokens):
    shop = city_shop()
    theirs = Retailer.objects.filter(route__district__code="YC-XZ")[0]
    brand = Brand.objects.order_by("code")[0]
    closed = Cycle.objects.filter(status="closed")[0]
    line = {"brand": brand.pk, "cartons": 1}
    cases = [
        (
            {"retailer": shop.pk, "channel": "phone", "lines": [{**line, "cartons": 0}]},
            400,
            "lines.0.cartons",
        ),
        (
            {"retailer": shop.pk, "channel": "phone", "lines": [{**line, "cartons": -3}]},
            400,
            "lines.0.cartons",
        ),
        ({"retailer": shop.pk, "channel": "phone", "lines": []}, 400, "lines"),
        ({"retailer": shop.pk, "channel": "fax", "lines": [line]}, 400, "channel"),
        (
            {"retailer": shop.pk, "channel": "phone", "lines": [{**line, "brand": 999999}]},
            404,
            None,
        ),
        ({"retailer": theirs.pk, "channel": "phone", "lines": [line]}, 404, None),
        (
            {"retailer": shop.pk, "cycle": closed.pk, "channel": "phone", "lines": [line]},
            409,
            "cycle",
        ),
        ({"retailer": shop.pk, "channel": "phone", "lines": [line, line]}, 409, "lines"),
    ]
    before = Order.objects.count()
    for body, code, field in cases:
        response = post_order(client, tokens["manager"], **body)
        assert response.status_code == code, (body, response.content)
        error = error_of(response)
        if field:
            assert field in error["fields"], error
    assert post_order(client, tokens["manager"], **cases[5][0]).json()["error"]["message"] == (
        f"No retailer with the id {theirs.pk} is on your routes."
    )
    assert post_order(client, tokens["manager"], **cases[4][0]).json()["error"]["message"] == (
        "No brand has the id 999999."
    )
    assert Order.objects.count() == before


def test_a_read_only_token_cannot_post(client, demo):
    token = api_token(demo["manager"], read_only=True)
    brand = Brand.objects.order_by("code")[0]
    response = post_order(
        client,
        token,
        retailer=city_shop().pk,
        channel="phone",
        lines=[{"brand": brand.pk, "cartons": 1}],
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "read_only_token"


# --- Accounts and balances ------------------------------------------------------------------


def test_accounts_are_masked_and_for_supervisors_only(client, tokens):
    response = client.get(ACCOUNTS, **bearer(tokens["manager"]))
    assert response.status_code == 403
    accounts = get_all(client, ACCOUNTS, tokens["supervisor"])
    city = SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ")
    assert {a["id"] for a in accounts} == set(city.values_list("pk", flat=True))
    first = city.order_by("reference")[0]
    assert accounts[0] == {
        "id": first.pk,
        "retailer": first.retailer_id,
        "reference": first.reference,
        "bank_name": first.bank_name,
        "account_number_masked": f"**** **** {first.account_last4}",
        "status": "active",
        "balance": str(first.balance),
        "balance_as_of": timezone.localtime(first.balance_as_of).isoformat(),
        "opened_on": first.opened_on.isoformat() if first.opened_on else None,
        "updated_at": timezone.localtime(first.updated_at).isoformat(),
    }
    body = client.get(ACCOUNTS, {"page_size": 500}, **bearer(tokens["supervisor"])).content.decode()
    assert first.account_number not in body
    one = get_all(client, ACCOUNTS, tokens["admin"], reference=first.reference)
    assert [a["id"] for a in one] == [first.pk]


def post_balances(client, token, items):
    return client.post(
        BALANCES, {"balances": items}, content_type="application/json", **bearer(token)
    )


def test_the_bank_pushes_balances_all_or_nothing(client, tokens):
    city = list(
        SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").order_by("pk")[:2]
    )
    theirs = SettlementAccount.objects.filter(retailer__route__district__code="YC-XZ")[0]
    now = timezone.now().isoformat()
    good = [{"reference": city[0].reference, "balance": "321.50", "as_of": now}]
    bad = [
        *good,
        {"reference": theirs.reference, "balance": "1", "as_of": now},
        {"reference": "NOPE", "balance": "1", "as_of": now},
    ]
    response = post_balances(client, tokens["supervisor"], bad)
    assert response.status_code == 409
    error = error_of(response)
    assert error["fields"] == {
        "balances": [
            f"Row 2: no settlement account has the reference {theirs.reference}.",
            "Row 3: no settlement account has the reference NOPE.",
        ]
    }
    assert SettlementAccount.objects.get(pk=city[0].pk).balance == city[0].balance
    response = post_balances(client, tokens["supervisor"], good)
    assert response.status_code == 200
    assert response.json() == {"updated": 1, "stale": 0}
    assert SettlementAccount.objects.get(pk=city[0].pk).balance == Decimal("321.50")
    assert post_balances(client, tokens["supervisor"], good).json() == {"updated": 0, "stale": 1}
    for balance in ("-1", "1.234", "abc"):
        response = post_balances(client, tokens["supervisor"], [{**good[0], "balance": balance}])
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["balances.0.balance"]
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = post_balances(client, tokens["supervisor"], [{**good[0], "as_of": future}])
    assert response.status_code == 409
    assert error_of(response)["fields"] == {"balances": ["Row 1: the as-of time is in the future."]}


def test_balances_are_for_supervisors_only(client, tokens):
    account = SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ")[0]
    item = {"reference": account.reference, "balance": "1", "as_of": timezone.now().isoformat()}
    assert post_balances(client, tokens["manager"], [item]).status_code == 403
    assert SettlementAccount.objects.get(pk=account.pk).balance == account.balance


# --- Debits and reminders -------------------------------------------------------------------


def test_debits_are_for_supervisors_and_scoped(client, tokens):
    assert client.get(DEBITS, **bearer(tokens["manager"])).status_code == 403
    order = Order.objects.filter(retailer__route__district__code="YC-CQ", debits__attempt=2)[0]
    debits = get_all(client, DEBITS, tokens["supervisor"], order=order.pk)
    assert [(d["attempt"], d["status"]) for d in debits] == list(
        Debit.objects.filter(order=order).order_by("-created_at").values_list("attempt", "status")
    )
    assert debits[0]["idempotency_key"] == f"o{order.pk}a2"
    theirs = Order.objects.filter(retailer__route__district__code="YC-XZ", debits__isnull=False)[0]
    assert get_all(client, DEBITS, tokens["supervisor"], order=theirs.pk) == []


def test_reminders_are_scoped_and_filtered(client, tokens):
    mine = get_all(client, REMINDERS, tokens["manager"])
    city = BalanceReminder.objects.filter(retailer__route__district__code="YC-CQ")
    assert {r["id"] for r in mine} == set(city.values_list("pk", flat=True))
    helped = get_all(client, REMINDERS, tokens["manager"], help_deposit="true")
    assert {r["id"] for r in helped} == set(
        city.filter(help_deposit=True).values_list("pk", flat=True)
    )
    unsent = get_all(client, REMINDERS, tokens["manager"], sent="false")
    assert {r["id"] for r in unsent} == set(
        city.filter(sent_at__isnull=True).values_list("pk", flat=True)
    )
    assert get_all(client, REMINDERS, tokens["manager2"], retailer=city[0].retailer_id) == []
    response = client.get(REMINDERS, {"order_date": "27/11/2026"}, **bearer(tokens["manager"]))
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["order_date"]
