"""Reading uploaded tables (CSV or Excel .xlsx) defensively, and writing templates.

Shared by the apps' imports (DESIGN §7, issue 8): a file is refused as a whole — before any
row is looked at — when it is too large, has the wrong extension or content type, is not what
its extension says, is a zip bomb, or has too many rows. Rows come back as text with their
spreadsheet row numbers (the header is row 1); formula cells are reported as row errors, never
evaluated; NUL bytes are removed. The apps check the values and apply.

``.xlsx`` files are read with openpyxl in read-only mode; openpyxl parses their XML with
defusedxml when it is installed (it is a dependency), which refuses entity expansion attacks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _

from config.errors import ApplicationError

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"},
    XLSX: {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
}
#: Browsers that do not know the type send one of these for either kind.
ANY_TYPE = {"", "application/octet-stream"}
MAX_COLUMNS = 60
#: How much bigger than the upload an .xlsx may unpack to (zip bombs).
MAX_UNPACK_RATIO = 40
#: A cell starting like this would run as a formula in a spreadsheet (formula injection).
FORMULA = re.compile(r"^(?:[=@]|[+-](?![\d\s.]))")


@dataclass
class RowError:
    """A problem with one row (``row`` as a spreadsheet numbers it), maybe one field."""

    row: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        if self.field:
            return _("Row %(row)s, %(field)s: %(message)s") % {
                "row": self.row,
                "field": self.field,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class Table:
    file_format: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def file_format(*, file_name: str, content_type: str, data: bytes) -> str:
    """``csv`` or ``xlsx`` by the name's extension, checked against the content type and the
    bytes themselves; anything else is refused."""
    name = file_name.lower()
    kind = XLSX if name.endswith(".xlsx") else CSV if name.endswith(".csv") else None
    if kind is None:
        raise ApplicationError(_("Upload a .csv or .xlsx file."))
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES[kind] | ANY_TYPE:
        raise ApplicationError(
            _("The file's type (%(type)s) does not match its extension.") % {"type": content_type}
        )
    is_zip = data[:4] == b"PK\x03\x04"
    if (kind == XLSX) != is_zip:
        raise ApplicationError(_("The file's content does not match its extension."))
    return kind


def read_table(
    data: bytes,
    *,
    file_name: str,
    content_type: str = "",
    max_bytes: int,
    max_rows: int,
) -> Table:
    """The header (lower-cased, trimmed) and the non-empty rows of an uploaded table."""
    if len(data) > max_bytes:
        raise ApplicationError(
            _("The file is too large (%(size)s bytes; the limit is %(limit)s).")
            % {"size": len(data), "limit": max_bytes}
        )
    if not data.strip():
        raise ApplicationError(_("The file is empty."))
    kind = file_format(file_name=file_name, content_type=content_type, data=data)
    raw = _xlsx_rows(data, max_bytes=max_bytes) if kind == XLSX else _csv_rows(data)
    table: Table | None = None
    for number, cells in raw:
        if table is None:
            header = [c.strip().lower() for c, _formula in cells]
            while header and not header[-1]:
                header.pop()
            if len(header) > MAX_COLUMNS:
                raise ApplicationError(_("The file has too many columns."))
            table = Table(file_format=kind, header=header)
            continue
        values = [c.replace("\x00", "").strip() for c, _formula in cells]
        if not any(values):
            continue
        if len(table.rows) >= max_rows:
            raise ApplicationError(
                _("The file has more than %(n)s rows; split it.") % {"n": max_rows}
            )
        width = len(table.header)
        extra = [v for v in values[width:] if v]
        if extra:
            table.errors.append(
                RowError(number, _("the row has values beyond the last column of the header."))
            )
        for index, (value, formula) in enumerate(cells[:width]):
            if formula or FORMULA.match(value.strip()):
                table.errors.append(
                    RowError(
                        number,
                        _("formulas are not accepted; enter the value itself."),
                        table.header[index],
                    )
                )
        table.rows.append((number, (values + [""] * width)[:width]))
    if table is None or not table.header:
        raise ApplicationError(_("The file has no header row."))
    if not table.rows:
        raise ApplicationError(_("The file has a header but no rows."))
    return table


def _csv_rows(data: bytes):
    data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Chinese Windows saves "CSV" in GB18030 (GBK).
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ApplicationError(_("The file is neither UTF-8 nor GB18030 text.")) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for values in reader:
            yield reader.line_num, [(v, False) for v in values]
    except csv.Error as exc:
        raise ApplicationError(
            _("The file is not a valid CSV file (line %(line)s: %(error)s).")
            % {"line": reader.line_num, "error": exc}
        ) from exc


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kinds):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xlsx_rows(data: bytes, *, max_bytes: int):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            unpacked = sum(m.file_size for m in members)
    except zipfile.BadZipFile as exc:
        raise ApplicationError(_("The file is not a valid .xlsx workbook.")) from exc
    if len(members) > 1000 or unpacked > MAX_UNPACK_RATIO * max_bytes:
        raise ApplicationError(_("The workbook unpacks to too much data."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (DefusedXmlException, ParseError) as exc:
        raise ApplicationError(_("The workbook's XML was refused as unsafe.")) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        # openpyxl wraps a parser's refusal in a ValueError: say which it was.
        if _caused_by(exc, (DefusedXmlException,)):
            raise ApplicationError(_("The workbook's XML was refused as unsafe.")) from exc
        raise ApplicationError(_("The file is not a valid .xlsx workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets are parsed while iterating: the XML checks apply here too.
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = []
            for cell in row[: MAX_COLUMNS + 1]:
                value = getattr(cell, "value", None)
                formula = getattr(cell, "data_type", None) == "f"
                cells.append((_cell_text(value), formula))
            yield number, cells
    except (DefusedXmlException, ParseError) as exc:
        raise ApplicationError(_("The workbook's XML was refused as unsafe.")) from exc
    except (KeyError, ValueError, IndexError) as exc:
        raise ApplicationError(_("The file is not a valid .xlsx workbook.")) from exc
    finally:
        workbook.close()


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """A CSV file (UTF-8 with a byte-order mark, so that Excel reads Chinese text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: list[str], rows: list[list[str]], *, title: str = "Sheet1") -> bytes:
    """A one-sheet .xlsx workbook; every cell is text (no formulas)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
