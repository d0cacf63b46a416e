"""The half-year report's pages: filters, figures, bad input, exports, targets."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from settlement.models import CultivationTarget
from settlement.tests.conftest import at, sell
from settlement.tests.factories import BrandFactory

pytestmark = pytest.mark.django_db

SALES = reverse("settlement:sales")
CHANNELS = reverse("settlement:channels")
TARGETS = reverse("settlement:targets")
OCTOBER = {"period": "2031-10", "level": "route"}


def export(client, fmt, **params):
    return client.get(reverse("settlement:sales-export", args=[fmt]), {**OCTOBER, **params})


def blocks(response) -> dict[str, list[list[str]]]:
    """The CSV's blocks by title: header and rows."""
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    found, title = {}, None
    for row in csv.reader(io.StringIO(text[1:])):
        if not row:
            title = None
        elif title is None:
            title = row[0]
            found[title] = []
        else:
            found[title].append(row)
    return found


@pytest.mark.parametrize(
    "url",
    [
        SALES,
        CHANNELS,
        TARGETS,
        reverse("settlement:target-create"),
        reverse("settlement:sales-export", args=["csv"]),
    ],
)
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("username", ["manager", "manager2", "supervisor", "admin"])
def test_every_role_opens_the_report_pages_on_the_demo(client, demo, username):
    client.force_login(demo[username])
    for url in (SALES, CHANNELS, TARGETS):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"cdn" not in response.content.lower()
    sales = client.get(SALES)
    assert sales.context["data"].total.current.cartons > 100  # last month's demo sales
    assert b'data-chart="chart-months"' in sales.content
    assert b'id="chart-months" type="application/json"' in sales.content
    assert b"vendor/chartjs/chart.umd.min.js" in sales.content


def test_the_sales_page_shows_the_figures(client, sales):
    client.force_login(sales.boss)
    response = client.get(SALES, OCTOBER)
    assert response.status_code == 200
    body = response.content.decode()
    data = response.context["data"]
    assert data.total.current.cartons == 87
    assert [r.label for r in data.by_unit] == ["一区 R1", "一区 R2", "一区 R3"]
    assert '<td class="num"><span class="change up">+163.6%</span></td>' in body
    assert '<span class="change down">-50.0%</span>' in body  # R3 against September
    assert '<span class="change muted">—</span>' in body  # R2 had nothing in September
    assert "6,520.00" in body
    assert "2.24" in body
    charts = response.context["charts"]
    assert charts["months"]["datasets"][0]["data"][-2:] == [44, 87]
    assert charts["months"]["datasets"][1]["data"][-1] == 33
    assert charts["classes"]["datasets"][0]["data"] == [12, 0, 25, 0, 50]
    assert charts["brands"]["labels"] == ["普通一号", "低焦一号", "重点一号"]


def test_the_default_is_last_month_and_the_users_routes(client, sales, demo):
    client.force_login(demo["supervisor"])
    response = client.get(SALES)
    data = response.context["data"]
    assert data.comparison.partial is False
    assert data.level == "route"
    assert [r.label for r in data.by_unit] == [f"城区辖区 {c}" for c in "ABCDE"]
    client.force_login(demo["admin"])
    assert client.get(SALES).context["data"].level == "district"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "2031-13"}, "period", "Choose a month (such as 2026-10)"),
        ({"period": "<script>"}, "period", "Choose a month (such as 2026-10)"),
        ({"level": "planet"}, "level", "Select a valid choice"),
        ({"area": "route:999999999"}, "area", "Select a valid choice"),
        ({"price_class": "9"}, "price_class", "Select a valid choice"),
        ({"brand": "abc"}, "brand", "Select a valid choice"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(client, sales, params, field, message):
    client.force_login(sales.boss)
    response = client.get(SALES, {**OCTOBER, **params})
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert "data" not in response.context
    csv_response = export(client, "csv", **params)
    assert csv_response.status_code == 400
    assert csv_response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in csv_response.content.decode()


def test_another_districts_area_is_refused(client, sales):
    client.force_login(sales.boss)
    response = client.get(SALES, {**OCTOBER, "area": f"route:{sales.r4.pk}"})
    assert response.status_code == 400
    response = client.get(SALES, {**OCTOBER, "area": f"route:{sales.r1.pk}"})
    assert response.context["data"].total.current.cartons == 35


def test_csv_export_holds_every_table(client, sales):
    client.force_login(sales.boss)
    response = export(client, "csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sales-2031-10-route.csv"'
    found = blocks(response)
    assert list(found) == ["About", "Summary", "By Route", "By price class", "By brand", "By month"]
    header, *rows = found["Summary"]
    assert header[:6] == [
        "Name",
        "Cartons",
        "Cartons, a year before",
        "Cartons, period before",
        "Cartons YoY %",
        "Cartons PoP %",
    ]
    assert rows[0] == [
        "Total",
        "87",
        "33",
        "44",
        "163.6",
        "97.7",
        "2.24",
        "0.66",
        "1.68",
        "6520.00",
        "2652.00",
        "4080.00",
        "145.9",
        "59.8",
        "",
    ]
    assert [r[0] for r in rows] == ["Total", "Key brands", "Low-tar brands"]
    cartons, cases, revenue = slice(0, 6), slice(6, 9), slice(9, 15)
    r1, r2, r3 = found["By Route"][1:]
    assert r1[cartons] == ["一区 R1", "35", "8", "40", "337.5", "-12.5"]
    assert r1[cases] == ["1.20", "0.16", "1.60"]
    assert r1[revenue] == ["4072.00", "1632.00", "3264.00", "149.5", "24.8", "40.2"]
    assert r2[cartons] == ["一区 R2", "50", "25", "0", "100.0", ""]
    assert r2[cases] == ["1.00", "0.50", "0.00"]
    assert r2[revenue] == ["2040.00", "1020.00", "0", "100.0", "", "57.5"]
    assert r3[cartons] == ["一区 R3", "2", "0", "4", "", "-50.0"]
    assert r3[cases] == ["0.04", "0.00", "0.08"]
    assert r3[revenue] == ["408.00", "0", "816.00", "", "-50.0", "2.3"]
    assert found["By month"][-1] == ["2031-10", "87", "2.24", "6520.00", "33"]
    assert ["Revenue", "Amount charged: price per carton × cartons"] in found["About"]


def test_exports_cannot_carry_formulas(client, sales):
    evil = BrandFactory(code="EVIL1", name='=HYPERLINK("http://x","y")', price_class=2)
    sell(sales.shops[0], at(dt.date(2031, 10, 2)), (evil, 3))
    client.force_login(sales.boss)
    by_brand = blocks(export(client, "csv"))["By brand"]
    assert by_brand[-1][:2] == ['\'=HYPERLINK("http://x","y")', "3"]
    book = load_workbook(io.BytesIO(export(client, "xlsx").content))
    cell = next(row[0] for row in book["By brand"].iter_rows() if "HYPERLINK" in str(row[0].value))
    # One rule for CSV and Excel (config.spreadsheet): the apostrophe is kept in the cell too.
    assert (cell.value, cell.data_type) == ('\'=HYPERLINK("http://x","y")', "s")


def test_excel_export(client, sales):
    client.force_login(sales.boss)
    response = export(client, "xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sales-2031-10-route.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "About",
        "Summary",
        "By Route",
        "By price class",
        "By brand",
        "By month",
    ]
    summary = [[c.value for c in row] for row in book["Summary"].iter_rows()]
    assert summary[1][:6] == ["Total", 87, 33, 44, 163.6, 97.7]
    assert summary[1][9] == 6520
    classes = [[c.value for c in row][:4] for row in book["By price class"].iter_rows()][1:]
    assert classes == [
        ["Class 1", 12, 8, 4],
        ["Class 2", 0, 0, 0],
        ["Class 3", 25, 0, 40],
        ["Class 4", 0, 0, 0],
        ["Class 5", 50, 25, 0],
    ]
    assert client.get(reverse("settlement:sales-export", args=["pdf"])).status_code == 404


def test_a_manager_exports_only_their_routes(client, sales):
    client.force_login(sales.am2)
    found = blocks(export(client, "csv"))
    assert [r[:2] for r in found["By Route"][1:]] == [["一区 R3", "2"]]


# --- Channels ---------------------------------------------------------------------------------


def test_the_channels_page_shows_shares_and_success(client, sales):
    client.force_login(sales.boss)
    response = client.get(CHANNELS, {"by": "month", "end": "2031-10"})
    assert response.status_code == 200
    october = response.context["points"][-1]
    assert (october.label, october.e_order_share, october.debits.rate) == (
        "2031-10",
        Decimal("75.0"),
        Decimal("50.0"),
    )
    body = response.content.decode()
    assert '<td class="num" data-channel="online">25.0%</td>' in body
    charts = response.context["charts"]
    assert charts["shares"]["datasets"][1]["data"][-1] == 25.0
    assert charts["success"]["datasets"][0]["data"][-1] == 50.0
    assert charts["success"]["datasets"][1]["data"] == [95] * 12


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "week"}, "by"),
        ({"end": "2031-13"}, "end"),
        ({"end": "1999-01"}, "end"),
        ({"end": "yesterday"}, "end"),
        ({"area": "district:0"}, "area"),
    ],
)
def test_bad_channel_filters_are_a_400(client, sales, params, field):
    client.force_login(sales.boss)
    response = client.get(CHANNELS, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors


# --- Targets ----------------------------------------------------------------------------------


def target_post(manager, **changes):
    return {
        "account_manager": manager.pk,
        "subject": "group:low_tar",
        "start_date": "2031-07-01",
        "end_date": "2031-12-31",
        "target_retailers": "3",
        "target_cartons": "100",
        **changes,
    }


def ours(sales):
    return CultivationTarget.objects.filter(account_manager__in=[sales.am1, sales.am2, sales.am3])


def test_a_supervisor_sets_edits_and_deletes_a_target(client, sales):
    client.force_login(sales.boss)
    form = client.get(reverse("settlement:target-create"))
    assert form.status_code == 200
    assert list(form.context["form"].fields["account_manager"].queryset) == [sales.am1, sales.am2]
    response = client.post(reverse("settlement:target-create"), target_post(sales.am1))
    assert response.status_code == 302
    target = ours(sales).get()
    assert (target.brand_group, target.target_cartons, target.created_by) == (
        "low_tar",
        100,
        sales.boss,
    )
    edit = reverse("settlement:target-edit", args=[target.pk])
    assert client.get(edit).context["form"].initial["subject"] == "group:low_tar"
    changed = target_post(sales.am1, subject=f"brand:{sales.low.pk}", target_cartons="120")
    assert client.post(edit, changed).status_code == 302
    target.refresh_from_db()
    assert (target.brand, target.brand_group, target.target_cartons) == (sales.low, "", 120)
    listing = client.get(TARGETS, {"show": "all"})
    assert [p.target for p in listing.context["rows"]] == [target]
    assert "低焦一号" in listing.content.decode()
    assert client.get(reverse("settlement:target-delete", args=[target.pk])).status_code == 405
    assert client.post(reverse("settlement:target-delete", args=[target.pk])).status_code == 302
    assert not ours(sales).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_date": "2031-06-30"}, "end_date", "ends before it starts"),
        ({"end_date": "2031-02-30"}, "end_date", "Enter a valid date"),
        ({"target_cartons": "0"}, "target_cartons", "greater than or equal to 1"),
        ({"target_cartons": "-3"}, "target_cartons", "greater than or equal to 1"),
        ({"target_retailers": "", "target_cartons": ""}, "target_retailers", "or both"),
        ({"subject": "brand:999999"}, "subject", "Select a valid choice"),
        ({"subject": ""}, "subject", "This field is required"),
    ],
)
def test_bad_target_input_is_a_400_and_changes_nothing(client, sales, changes, field, message):
    client.force_login(sales.boss)
    response = client.post(reverse("settlement:target-create"), target_post(sales.am1, **changes))
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert not ours(sales).exists()


def test_a_duplicate_target_is_refused_on_the_subject(client, sales):
    client.force_login(sales.boss)
    client.post(reverse("settlement:target-create"), target_post(sales.am1))
    response = client.post(reverse("settlement:target-create"), target_post(sales.am1))
    assert response.status_code == 400
    assert "already has a target" in str(response.context["form"].errors["subject"])
    assert ours(sales).count() == 1


def test_supervisors_reach_only_their_managers_targets(client, sales):
    client.force_login(sales.boss)
    response = client.post(reverse("settlement:target-create"), target_post(sales.am3))
    assert response.status_code == 400
    assert "account_manager" in response.context["form"].errors
    client.force_login(sales.boss2)
    client.post(reverse("settlement:target-create"), target_post(sales.am3))
    theirs = ours(sales).get()
    client.force_login(sales.boss)
    assert client.get(reverse("settlement:target-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("settlement:target-delete", args=[theirs.pk])).status_code == 404
    assert client.get(TARGETS, {"show": "all"}).context["rows"] == []
    assert client.get(TARGETS, {"manager": sales.am3.pk}).status_code == 400
    assert ours(sales).get() == theirs


def test_managers_read_their_own_targets_only(client, sales):
    client.force_login(sales.boss)
    client.post(reverse("settlement:target-create"), target_post(sales.am1))
    client.post(reverse("settlement:target-create"), target_post(sales.am2))
    mine = ours(sales).get(account_manager=sales.am1)
    client.force_login(sales.am1)
    response = client.get(TARGETS, {"show": "all"})
    assert [p.target for p in response.context["rows"]] == [mine]
    assert "new-target" not in response.content.decode()
    assert "manager" not in response.context["form"].fields
    assert client.get(reverse("settlement:target-create")).status_code == 403
    assert (
        client.post(reverse("settlement:target-create"), target_post(sales.am1)).status_code == 403
    )
    assert client.get(reverse("settlement:target-edit", args=[mine.pk])).status_code == 403
    assert client.post(reverse("settlement:target-delete", args=[mine.pk])).status_code == 403
    assert ours(sales).count() == 2
