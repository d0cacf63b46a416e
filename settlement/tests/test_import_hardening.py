"""The bank balance file upload refuses what is not a small CSV text file, naming the row,
and changes nothing (SECURITY.md; DESIGN §7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from settlement import imports
from settlement.models import ImportBatch, SettlementAccount

pytestmark = pytest.mark.django_db

HEADER = "reference,balance,as_of\n"


@pytest.fixture
def accounts(demo):
    return list(
        SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").order_by("pk")[:2]
    )


def upload(client, demo, content: bytes, *, name="balances.csv", content_type="text/csv"):
    client.force_login(demo["supervisor"])
    return client.post(
        reverse("settlement:balance-import"),
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
    )


def file_errors(response) -> list[str]:
    form = response.context["form"]
    errors = list(form.errors.get("file", []))
    check = response.context.get("check")
    if check is not None:
        errors += [str(e) for e in check.errors]
    return errors


def unchanged(accounts) -> bool:
    return (
        all(SettlementAccount.objects.get(pk=a.pk).balance == a.balance for a in accounts)
        and not ImportBatch.objects.exists()
    )


def good_rows(accounts) -> str:
    """New balances as of a minute ago (newer than the demo's, not in the future)."""
    moment = f"{timezone.localtime() - dt.timedelta(minutes=1):%Y-%m-%d %H:%M}"
    return "".join(f"{a.reference},{a.balance + 1},{moment}\n" for a in accounts)


def test_a_good_file_is_previewed(client, demo, accounts):
    response = upload(client, demo, (HEADER + good_rows(accounts)).encode())
    assert response.status_code == 200
    assert ImportBatch.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        ("balances.xlsx", "text/csv", "Upload a .csv file"),
        ("balances.exe", "application/octet-stream", "Upload a .csv file"),
        ("balances.csv", "application/pdf", "was sent as application/pdf"),
        ("balances.csv", "image/png", "was sent as image/png"),
    ],
)
def test_other_names_and_types_are_refused(client, demo, accounts, name, content_type, message):
    content = (HEADER + good_rows(accounts)).encode()
    response = upload(client, demo, content, name=name, content_type=content_type)
    assert response.status_code == 400
    assert any(message in e for e in file_errors(response))
    assert unchanged(accounts)


def test_a_workbook_renamed_csv_is_refused(client, demo, accounts):
    response = upload(client, demo, b"PK\x03\x04" + b"\x00" * 100)
    assert response.status_code == 400
    assert any("not CSV text" in e for e in file_errors(response))
    assert unchanged(accounts)


def test_a_nul_byte_is_refused_naming_the_row(client, demo, accounts):
    rows = good_rows(accounts).splitlines(keepends=True)
    content = HEADER + rows[0] + rows[1].replace(",", "\x00,", 1)
    response = upload(client, demo, content.encode())
    assert response.status_code == 400
    assert file_errors(response) == ["Row 3 contains a NUL character: the file is not CSV text."]
    assert unchanged(accounts)


def test_a_huge_row_is_a_row_error_and_nothing_changes(client, demo, accounts):
    rows = good_rows(accounts).splitlines(keepends=True)
    huge = f"{accounts[1].reference},1.00,2026-01-01 {' ' * imports.MAX_ROW_CHARS}\n"
    response = upload(client, demo, (HEADER + rows[0] + huge).encode())
    assert response.status_code == 400
    assert file_errors(response) == [
        f"Row 3: the row is longer than {imports.MAX_ROW_CHARS} characters."
    ]
    assert unchanged(accounts)


def test_a_field_beyond_the_csv_limit_is_refused(client, demo, accounts, settings):
    settings.SETTLEMENT_IMPORT_MAX_BYTES = 1_000_000
    content = HEADER + f'{accounts[0].reference},"{"1" * 200_000}",2030-01-02\n'
    response = upload(client, demo, content.encode())
    assert response.status_code == 400
    assert any("line 2" in e for e in file_errors(response))
    assert unchanged(accounts)


def test_over_the_size_limit_is_refused(client, demo, accounts, settings):
    content = (HEADER + good_rows(accounts)).encode()
    settings.SETTLEMENT_IMPORT_MAX_BYTES = len(content) - 1
    response = upload(client, demo, content)
    assert response.status_code == 400
    assert any("too large" in e for e in file_errors(response))
    assert unchanged(accounts)


def test_one_bad_row_rejects_the_whole_file_naming_it(client, demo, accounts):
    content = HEADER + good_rows(accounts) + "NO-SUCH-REF,12.00,2030-01-02\n"
    response = upload(client, demo, content.encode())
    assert response.status_code == 400
    assert [e for e in file_errors(response) if e.startswith("Row 4")]
    assert unchanged(accounts)


def test_bad_utf8_names_the_row(client, demo, accounts):
    content = (HEADER + good_rows(accounts)).encode() + "x,1,2030-01-02\n".encode("gbk") + b"\xff"
    response = upload(client, demo, content)
    assert response.status_code == 400
    assert any("not UTF-8" in e and "row 5" in e for e in file_errors(response))
    assert unchanged(accounts)
