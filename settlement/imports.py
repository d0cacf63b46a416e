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


def decode(data: bytes, *, max_bytes: int) -> str:
    """The text of an uploaded file: UTF-8 (with or without a byte-order mark), size-checked."""
    if len(data) > max_bytes:
        raise ApplicationError(
            _("The file is too large (%(size)s bytes; the limit is %(limit)s).")
            % {"size": len(data), "limit": max_bytes}
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(_("The file is not UTF-8 text.")) from exc


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
