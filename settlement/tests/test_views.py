import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Brand
from retailers.models import Retailer
from settlement.models import (
    BalanceReminder,
    Debit,
    ImportBatch,
    Order,
    OrderStatus,
    SettlementAccount,
)
from territory.models import Cycle

pytestmark = pytest.mark.django_db


def city(code="A"):
    return Retailer.objects.filter(
        route__district__code="YC-CQ", route__code=code, status="active"
    ).order_by("stop_order")


def town():
    return Retailer.objects.filter(route__district__code="YC-XZ").order_by("licence_number")


def order_post(retailer, cycle, rows, channel="phone"):
    data = {
        "retailer": retailer.pk,
        "cycle": cycle.pk,
        "channel": channel,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "30",
    }
    for i, (brand, cartons) in enumerate(rows):
        data[f"lines-{i}-brand"] = "" if brand is None else str(brand.pk)
        data[f"lines-{i}-cartons"] = "" if cartons is None else str(cartons)
    return data


@pytest.fixture
def current():
    return Cycle.objects.get(
        start_date__lte=timezone.localdate(), end_date__gte=timezone.localdate()
    )


@pytest.fixture
def failed_order():
    """A demo order whose payment failed, on the manager's routes."""
    return (
        Order.objects.filter(
            status=OrderStatus.PAYMENT_FAILED, retailer__route__district__code="YC-CQ"
        )
        .select_related("retailer__settlement_account")
        .order_by("pk")
        .first()
    )


PAGES = [
    ("settlement:order-list", []),
    ("settlement:order-create", []),
    ("settlement:order-import", []),
    ("settlement:balance-import", []),
    ("settlement:reminder-list", []),
    ("settlement:dashboard", []),
    ("settlement:rebate-report", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_pages_require_login(client, demo, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_page_renders_for_each_role_without_an_account_number(client, demo):
    numbers = list(SettlementAccount.objects.values_list("account_number", flat=True)[:400])
    order = Order.objects.filter(retailer__route__district__code="YC-CQ").first()
    for user, forbidden in (
        (demo["manager"], {"settlement:balance-import"}),
        (demo["supervisor"], set()),
        (demo["admin"], set()),
    ):
        client.force_login(user)
        for name, args in [*PAGES, ("settlement:order-detail", [order.pk])]:
            response = client.get(reverse(name, args=args))
            expected = 403 if name in forbidden else 200
            assert response.status_code == expected, (user, name)
            body = response.content.decode()
            assert not any(n in body for n in numbers), (user, name)


def test_the_manager_enters_an_order_priced_by_channel(client, demo, current):
    client.force_login(demo["manager"])
    shop = city().first()
    brands = list(Brand.objects.order_by("code")[:2])
    response = client.get(reverse("settlement:order-create"), {"retailer": shop.pk})
    assert response.context["form"].initial == {"cycle": current, "retailer": shop.pk}
    response = client.post(
        reverse("settlement:order-create"),
        order_post(shop, current, [(brands[0], 3), (None, None), (brands[1], 2)]),
    )
    order = Order.objects.get(retailer=shop, cycle=current)
    assert response.status_code == 302
    assert response["Location"] == reverse("settlement:order-detail", args=[order.pk])
    assert order.total_amount == brands[0].list_price * 3 + brands[1].list_price * 2
    assert (
        order.rebate_amount
        == (brands[0].list_price - brands[0].wholesale_price) * 3
        + (brands[1].list_price - brands[1].wholesale_price) * 2
    )
    assert order.entered_by == demo["manager"]
    body = client.get(response["Location"]).content.decode()
    assert f"{order.total_amount:,}" in body or str(order.total_amount) in body


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("brand", 0)], "Ensure this value is greater than or equal to 1."),
        ([("brand", -4)], "Ensure this value is greater than or equal to 1."),
        ([("brand", None)], "Enter the number of cartons."),
        ([(None, 3)], "Choose a brand."),
        ([(None, None)], "Enter at least one line."),
        ([("brand", 1), ("brand", 2)], "Each brand may appear on one line only."),
    ],
)
def test_bad_order_lines_are_a_400_and_nothing_is_saved(client, demo, current, rows, message):
    client.force_login(demo["manager"])
    brand = Brand.objects.order_by("code").first()
    rows = [(brand if b == "brand" else b, n) for b, n in rows]
    before = Order.objects.count()
    response = client.post(
        reverse("settlement:order-create"), order_post(city().first(), current, rows)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Order.objects.count() == before


def test_an_order_for_another_managers_retailer_or_a_closed_cycle_is_refused(client, demo, current):
    client.force_login(demo["manager"])
    brand = Brand.objects.order_by("code").first()
    before = Order.objects.count()
    response = client.post(
        reverse("settlement:order-create"), order_post(town().first(), current, [(brand, 1)])
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    closed = Cycle.objects.filter(status="closed").first()
    response = client.post(
        reverse("settlement:order-create"), order_post(city().first(), closed, [(brand, 1)])
    )
    assert response.status_code == 400
    assert Order.objects.count() == before


def test_order_list_filters_and_refuses_bad_filters(client, demo):
    client.force_login(demo["manager"])
    cycle = Cycle.objects.filter(status="closed").order_by("-start_date").first()
    response = client.get(
        reverse("settlement:order-list"), {"cycle": cycle.pk, "status": "payment_failed"}
    )
    assert response.status_code == 200
    page = response.context["page"]
    expected = Order.objects.filter(
        cycle=cycle, status="payment_failed", retailer__route__account_manager=demo["manager"]
    )
    assert page.paginator.count == expected.count()
    assert {o.pk for o in page} == set(expected.values_list("pk", flat=True))
    response = client.get(reverse("settlement:order-list"), {"cycle": "nope", "status": "lost"})
    assert response.status_code == 400
    assert response.context["page"] is None


def test_another_managers_order_is_a_404(client, demo):
    theirs = Order.objects.filter(retailer__route__district__code="YC-XZ").first()
    client.force_login(demo["manager"])
    assert client.get(reverse("settlement:order-detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("settlement:order-retry", args=[theirs.pk])).status_code == 404


def test_the_masked_account_shows_to_supervisors_only(client, demo):
    order = Order.objects.filter(
        retailer__route__district__code="YC-CQ", retailer__settlement_account__isnull=False
    ).first()
    masked = f"**** **** {order.retailer.settlement_account.account_last4}"
    client.force_login(demo["supervisor"])
    assert (
        masked in client.get(reverse("settlement:order-detail", args=[order.pk])).content.decode()
    )
    client.force_login(demo["manager"])
    assert (
        masked
        not in client.get(reverse("settlement:order-detail", args=[order.pk])).content.decode()
    )


def test_a_failed_debit_is_retried_once_funds_arrive(
    client, demo, failed_order, django_capture_on_commit_callbacks
):
    client.force_login(demo["manager"])
    account = failed_order.retailer.settlement_account
    SettlementAccount.objects.filter(pk=account.pk).update(balance=Decimal("0"))
    url = reverse("settlement:order-retry", args=[failed_order.pk])
    response = client.post(url, {"next": "/settlement/dashboard/"}, follow=True)
    assert "does not cover the order" in response.content.decode()
    attempts = Debit.objects.filter(order=failed_order).count()
    SettlementAccount.objects.filter(pk=account.pk).update(balance=failed_order.total_amount)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"next": "/settlement/dashboard/"})
    assert response["Location"] == "/settlement/dashboard/"
    failed_order.refresh_from_db()
    assert failed_order.status == OrderStatus.PAID  # the task ran eagerly
    assert Debit.objects.filter(order=failed_order).count() == attempts + 1
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("settlement:order-detail", args=[failed_order.pk])


def balance_csv(*rows):
    return ("reference,balance,as_of\n" + "".join(f"{r}\n" for r in rows)).encode()


def upload(client, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse(name), {"file": SimpleUploadedFile("f.csv", content, "text/csv")})


def test_balance_import_preview_then_apply(client, demo):
    client.force_login(demo["supervisor"])
    accounts = list(
        SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").order_by("pk")[:2]
    )
    now = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    content = balance_csv(
        f"{accounts[0].reference},1234.56,{now}", f"{accounts[1].reference},0,{now}"
    )
    response = upload(client, "settlement:balance-import", content)
    assert response.status_code == 200
    batch = response.context["batch"]
    assert (
        SettlementAccount.objects.get(pk=accounts[0].pk).balance == accounts[0].balance
    )  # preview only
    response = client.post(reverse("settlement:balance-import-apply", args=[batch.pk]))
    assert response["Location"] == reverse("settlement:dashboard")
    assert SettlementAccount.objects.get(pk=accounts[0].pk).balance == Decimal("1234.56")
    assert SettlementAccount.objects.get(pk=accounts[1].pk).balance == Decimal("0")
    response = client.post(reverse("settlement:balance-import-apply", args=[batch.pk]), follow=True)
    assert "applied already" in response.content.decode()


def test_a_bad_balance_file_is_rejected_whole_with_row_numbers(client, demo):
    client.force_login(demo["supervisor"])
    mine = (
        SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ")
        .order_by("pk")
        .first()
    )
    theirs = SettlementAccount.objects.filter(retailer__route__district__code="YC-XZ").first()
    now = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    batches = ImportBatch.objects.count()
    response = upload(
        client,
        "settlement:balance-import",
        balance_csv(f"{mine.reference},99,{now}", f"{theirs.reference},5,{now}", f"XX,abc,{now}"),
    )
    assert response.status_code == 400
    errors = [str(e) for e in response.context["check"].errors]
    assert errors == [
        f"Row 3: no settlement account has the reference {theirs.reference}.",
        "Row 4: balance must be an amount of at least 0 with at most 2 decimals, not abc.",
    ]
    body = response.content.decode()
    assert "nothing was changed" in body
    assert "Row 4: balance must be" in body
    assert "batch" not in response.context
    assert ImportBatch.objects.count() == batches
    assert SettlementAccount.objects.get(pk=mine.pk).balance == mine.balance


def test_balance_import_is_for_supervisors_only(client, demo):
    client.force_login(demo["manager"])
    assert (
        upload(client, "settlement:balance-import", balance_csv("X,1,2026-01-01")).status_code
        == 403
    )


def test_an_oversized_or_binary_upload_is_a_400(client, demo, settings):
    client.force_login(demo["supervisor"])
    settings.SETTLEMENT_IMPORT_MAX_BYTES = 100
    response = upload(client, "settlement:balance-import", b"x" * 101)
    assert response.status_code == 400
    assert "The file is too large" in response.content.decode()
    settings.SETTLEMENT_IMPORT_MAX_BYTES = 10000
    response = upload(client, "settlement:balance-import", b"\xff\xfe\x00\x00")
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()


def test_order_import_preview_then_apply(client, demo, current):
    client.force_login(demo["manager"])
    shop = city("B").first()
    brand = Brand.objects.order_by("code").first()
    content = (
        "licence,brand,cartons,channel,cycle,external_ref\n"
        f"{shop.licence_number},{brand.code},4,phone,{current.code},IMP-1\n"
    ).encode()
    response = upload(client, "settlement:order-import", content)
    assert response.status_code == 200
    assert [o.rows for o in response.context["check"].orders] == [[2]]
    assert not Order.objects.filter(external_ref="IMP-1").exists()
    response = client.post(
        reverse("settlement:order-import-apply", args=[response.context["batch"].pk])
    )
    assert response["Location"] == reverse("settlement:order-list")
    order = Order.objects.get(external_ref="IMP-1")
    assert (order.retailer, order.total_amount) == (shop, brand.list_price * 4)


def test_order_import_with_another_managers_retailer_is_rejected(client, demo, current):
    client.force_login(demo["manager"])
    brand = Brand.objects.order_by("code").first()
    theirs = town().first()
    content = (
        "licence,brand,cartons,channel,cycle,external_ref\n"
        f"{city().first().licence_number},{brand.code},1,phone,{current.code},\n"
        f"{theirs.licence_number},{brand.code},1,phone,{current.code},\n"
    ).encode()
    before = Order.objects.count()
    response = upload(client, "settlement:order-import", content)
    assert response.status_code == 400
    assert (
        f"Row 3: the retailer {theirs.licence_number} is on another manager&#x27;s route."
        in response.content.decode()
    )
    assert Order.objects.count() == before


def test_another_users_import_batch_is_a_404(client, demo):
    client.force_login(demo["supervisor"])
    shop = city().first()
    content = balance_csv(f"{shop.settlement_account.reference},1,{timezone.localdate()}")
    batch = upload(client, "settlement:balance-import", content).context["batch"]
    client.force_login(demo["admin"])
    assert (
        client.post(reverse("settlement:balance-import-apply", args=[batch.pk])).status_code == 404
    )


def test_the_manager_sees_reminders_and_records_help(client, demo):
    cycle = (
        Cycle.objects.filter(balance_reminders__help_deposit=True).order_by("-start_date").first()
    )
    reminder = BalanceReminder.objects.filter(cycle=cycle, help_deposit=True).first()
    BalanceReminder.objects.filter(pk=reminder.pk).update(helped_at=None, helped_by=None)
    client.force_login(demo["manager"])
    response = client.get(reverse("settlement:reminder-list"), {"cycle": cycle.pk})
    assert response.status_code == 200
    assert {r.pk for r in response.context["reminders"]} == set(
        BalanceReminder.objects.filter(
            cycle=cycle, retailer__route__account_manager=demo["manager"]
        ).values_list("pk", flat=True)
    )
    assert "I helped deposit" in response.content.decode()
    response = client.post(reverse("settlement:reminder-helped", args=[reminder.pk]))
    assert response["Location"] == f"{reverse('settlement:reminder-list')}?cycle={cycle.pk}"
    reminder.refresh_from_db()
    assert reminder.helped_by == demo["manager"]
    client.force_login(demo["manager2"])
    assert client.post(reverse("settlement:reminder-helped", args=[reminder.pk])).status_code == 404
    assert client.get(reverse("settlement:reminder-list"), {"cycle": "x"}).status_code == 400


def test_the_dashboard_shows_the_demo_figures(client, demo):
    client.force_login(demo["supervisor"])
    response = client.get(reverse("settlement:dashboard"))
    assert response.status_code == 200
    data = response.context["data"]
    last = Cycle.objects.filter(status="closed").order_by("-start_date").first()
    assert data.cycle == last
    first_attempts = Debit.objects.filter(
        order__cycle=last, attempt=1, order__retailer__route__district__code="YC-CQ"
    )
    assert data.total.attempted == first_attempts.count()
    assert data.total.succeeded == first_attempts.filter(status="success").count()
    assert [s.label for s in data.by_route] == ["A", "B", "C", "D", "E"]
    body = response.content.decode()
    assert f"{data.total.rate}%" in body
    assert "goal 95%" in body
    assert len(data.trend) == 8
    for params in ({"cycle": "abc"}, {"district": "99999"}):
        assert client.get(reverse("settlement:dashboard"), params).status_code == 400


def test_the_rebate_report_lists_last_months_rebates(client, demo):
    client.force_login(demo["supervisor"])
    response = client.get(reverse("settlement:rebate-report"))
    assert response.status_code == 200
    month = response.context["month"]
    first_of_this_month = timezone.localdate().replace(day=1)
    assert month == (first_of_this_month - dt.timedelta(days=1)).replace(day=1)
    rebates = response.context["rebates"]
    assert {r.retailer.route.district.code for r in rebates} == {"YC-CQ"}
    assert response.context["total"] == sum(r.amount for r in rebates)
    assert client.get(reverse("settlement:rebate-report"), {"month": "2026-13"}).status_code == 400
