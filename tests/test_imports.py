"""config.imports: what refuses a hostile upload before any row is read (issue 8)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from config import imports
from config.errors import ApplicationError


def workbook(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(data: bytes, name: str, change) -> bytes:
    """The workbook with one member's bytes changed."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item, change(body) if item.filename == name else body)
    return out.getvalue()


def read(data: bytes, name: str = "t.xlsx", **kwargs):
    return imports.read_table(
        data, file_name=name, max_bytes=kwargs.get("max_bytes", 10**6), max_rows=100
    )


def test_entity_expansion_in_a_workbook_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    data = rewrite(
        workbook([["a"], ["b"]]),
        "xl/worksheets/sheet1.xml",
        lambda body: bomb + body,
    )
    with pytest.raises(ApplicationError, match="unsafe"):
        read(data)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    data = rewrite(
        workbook([["a"], ["b"]]), "docProps/app.xml", lambda body: body + b" " * 5_000_000
    )
    assert len(data) < 100_000
    with pytest.raises(ApplicationError, match="unpacks to too much"):
        read(data, max_bytes=100_000)


def test_formula_cells_and_formula_like_text_are_row_errors():
    book = Workbook()
    book.active.append(["name", "phone"])
    book.active.append(["x", "+86 138 0000 0000"])
    book.active.append(["=1+2", "-2"])
    book.active.append(["@SUM(A1)", "+cmd|calc"])
    out = io.BytesIO()
    book.save(out)
    table = read(out.getvalue())
    assert [(e.row, e.field) for e in table.errors] == [(3, "name"), (4, "name"), (4, "phone")]
    csv_table = read(b"name\n=HYPERLINK(1)\nok\n", name="t.csv")
    assert [(e.row, e.field) for e in csv_table.errors] == [(2, "name")]


def test_nul_bytes_are_removed_and_blank_rows_skipped():
    table = read(b"name,phone\nab\x00c,1\n,\n\nd,2\n", name="t.csv")
    assert table.rows == [(2, ["abc", "1"]), (5, ["d", "2"])]
