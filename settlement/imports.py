"""Parsing of the CSV files this app imports: rows in, row-numbered errors out.

Pure parsing: checks the shape of each row (fields present, numbers, dates) and nothing in the
database; ``services`` checks the rest and applies. Row numbers are the file's line numbers,
the header being row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from config.errors import ApplicationError

MAX_ROWS = 100_000
#: A longer line is refused (a row of these files is well under 200 characters); a single huge
#: field is refused by the csv module itself, naming the line.
MAX_ROW_CHARS = 4_000
#: What an uploaded import may be called, and say it is (browsers send ``text/csv``,
#: ``text/plain``, or with Excel installed ``application/vnd.ms-excel`` for a ``.csv``).
EXTENSIONS = (".csv", ".txt")
CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "text/comma-separated-values",
        "application/vnd.ms-excel",
    }
)
#: The first bytes of files that are not text whatever they are called: a zip (an .xlsx),
#: an old Excel or Word file, a PDF, a gzip.
BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x1f\x8b")


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


@dataclass
class Parsed:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def not_text_message() -> str:
    return _(
        "The file is a spreadsheet or another binary file, not CSV text: save it as CSV UTF-8."
    )


def check_upload(*, name: str, content_type: str, head: bytes) -> None:
    """Refuse an upload that is not a CSV text file by its name, its declared type or its
    first bytes (an Excel workbook renamed ``.csv``, say). The content is checked again in
    full by :func:`decode` and :func:`read_rows`; the declared type alone proves nothing."""
    if not name.lower().endswith(EXTENSIONS):
        raise ApplicationError(
            _("Upload a .csv file (UTF-8 text); %(name)s is not one.") % {"name": name[-100:]}
        )
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared not in CONTENT_TYPES:
        raise ApplicationError(
            _("The file was sent as %(type)s; upload a CSV text file.") % {"type": declared or "—"}
        )
    if head.startswith(BINARY_SIGNATURES):
        raise ApplicationError(not_text_message())


def decode(data: bytes, *, max_bytes: int) -> str:
    """The text of an uploaded file: UTF-8 (with or without a byte-order mark), size-checked,
    without NUL characters (a binary file, or a trick to cut a field short somewhere)."""
    if len(data) > max_bytes:
        raise ApplicationError(
            _("The file is too large (%(size)s bytes; the limit is %(limit)s).")
            % {"size": len(data), "limit": max_bytes}
        )
    if data.startswith(BINARY_SIGNATURES):
        raise ApplicationError(not_text_message())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ApplicationError(
            _("The file is not UTF-8 text (row %(row)s).") % {"row": line}
        ) from exc
    nul = text.find("\x00")
    if nul >= 0:
        raise ApplicationError(
            _("Row %(row)s contains a NUL character: the file is not CSV text.")
            % {"row": text.count("\n", 0, nul) + 1}
        )
    return text


def read_rows(text: str, *, columns: tuple[str, ...], required: tuple[str, ...]) -> Parsed:
    """Rows of a CSV file with a header naming ``columns`` (any order; extra columns refused)."""
    if not text.strip():
        raise ApplicationError(_("The file is empty."))
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise ApplicationError(_("The file is not a CSV file: %(error)s") % {"error": exc}) from exc
    missing = [name for name in columns if name not in header]
    unknown = [name for name in header if name not in columns]
    if missing or unknown or len(set(header)) != len(header):
        raise ApplicationError(
            _("The header must name the columns %(expected)s; it names %(found)s.")
            % {"expected": ",".join(columns), "found": ",".join(header) or "—"}
        )
    parsed = Parsed()
    try:
        for values in reader:
            number = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise ApplicationError(_("The file has more than %(n)s rows.") % {"n": MAX_ROWS})
            if sum(len(v) for v in values) > MAX_ROW_CHARS:
                parsed.errors.append(
                    RowError(
                        number,
                        _("the row is longer than %(n)s characters.") % {"n": MAX_ROW_CHARS},
                    )
                )
                continue
            if len(values) != len(header):
                parsed.errors.append(
                    RowError(
                        number,
                        _("expected %(expected)s fields, found %(found)s.")
                        % {"expected": len(header), "found": len(values)},
                    )
                )
                continue
            row = {name: value.strip() for name, value in zip(header, values, strict=True)}
            empty = [name for name in required if not row[name]]
            if empty:
                parsed.errors.append(
                    RowError(
                        number, _("%(fields)s must not be empty.") % {"fields": ", ".join(empty)}
                    )
                )
                continue
            parsed.rows.append((number, row))
    except csv.Error as exc:
        raise ApplicationError(
            _("The file is not a valid CSV file (line %(line)s: %(error)s).")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    if not parsed.rows and not parsed.errors:
        raise ApplicationError(_("The file has a header but no rows."))
    return parsed


def parse_amount(value: str) -> Decimal | None:
    """A non-negative amount with at most two decimals, or ``None``."""
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        return None
    if amount >= Decimal("10000000000"):
        return None
    return amount.quantize(Decimal("0.01"))


def parse_positive_int(value: str, *, maximum: int) -> int | None:
    if not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= maximum else None


def parse_moment(value: str) -> dt.datetime | None:
    """An ISO date-time (local time when it names no offset) or a date (end of that day)."""
    try:
        moment = parse_datetime(value.replace("/", "-"))
        if moment is None:
            day = parse_date(value.replace("/", "-"))
            if day is None:
                return None
            moment = dt.datetime.combine(day, dt.time(23, 59, 59))
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
