"""Tables of the analytics pages as CSV or Excel (openpyxl) downloads.

Text cells can never run as formulas (``config.spreadsheet``, the rule of every export): they
get a leading ``'`` when they start like a formula, and in Excel they are also typed as text.
Numbers stay numbers (a negative change is ``-4.0``, not text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from config.spreadsheet import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")

Cell = str | int | Decimal | None


@dataclass
class Sheet:
    """A titled table: one CSV block or one Excel worksheet."""

    title: str
    header: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)


def _csv_cell(value: Cell) -> str:
    return str(safe_cell(value))


def csv_text(sheets: Sequence[Sheet]) -> str:
    """Each sheet as a block: its title, its header, its rows, then an empty line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for sheet in sheets:
        writer.writerow([_csv_cell(sheet.title)])
        writer.writerow([_csv_cell(str(h)) for h in sheet.header])
        writer.writerows([_csv_cell(v) for v in row] for row in sheet.rows)
        writer.writerow([])
    return buffer.getvalue()


def csv_response(*, filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheet programs read the Chinese as UTF-8
    response.write(csv_text(sheets))
    return response


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for sheet in sheets:
        title = _SHEET_TITLE.sub(" ", sheet.title)[:28] or "Sheet"
        while title in used:
            title += "_"
        used.add(title)
        worksheet = workbook.create_sheet(title=title)

        def cell(value: Cell, *, header: bool = False, ws=worksheet) -> WriteOnlyCell:
            item = WriteOnlyCell(ws, value=safe_cell(value) if value is not None else None)
            if isinstance(value, str):
                item.data_type = "s"  # text, even when it starts with "="
            if header:
                item.font = bold
            return item

        worksheet.append([cell(str(h), header=True) for h in sheet.header])
        for row in sheet.rows:
            worksheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(*, filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
