"""Retailer rows to CSV or NDJSON, for ``GET /api/v1/retailers/export/`` (DESIGN §3).

Built for hundreds of thousands of rows: the rows are ``values_list`` tuples from a
server-side cursor, each is converted with as little per-row work as possible (only the
columns that need it), and the text is yielded in chunks of ``ROWS_PER_CHUNK`` rows, so memory
stays constant whatever the count. NDJSON lines are the same objects as the JSON list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from functools import cache

from django.db import models
from django.utils import timezone

from config.spreadsheet import safe_text
from retailers.models import PaymentMethod, Retailer

#: (name, ORM path) of every exported column, in the order of the API's retailer fields.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("licence_number", "licence_number"),
    ("name", "name"),
    ("owner_name", "owner_name"),
    ("phone", "phone"),
    ("address", "address"),
    ("route", "route_id"),
    ("route_code", "route__code"),
    ("district", "route__district_id"),
    ("district_code", "route__district__code"),
    ("stop_order", "stop_order"),
    ("star", "star"),
    ("business_type", "business_type"),
    ("integrity_level", "integrity_level"),
    ("status", "status"),
    ("ordering_channel", "ordering_channel"),
    ("payment_method", "payment_method"),
    ("needs_assistance", "needs_assistance"),
    ("is_standard_store", "is_standard_store"),
    ("is_demonstration_store", "is_demonstration_store"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("opened_on", "opened_on"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
#: Read through the reverse one-to-one; retailers may not import settlement (DESIGN §3).
SETTLEMENT_PATHS = ("settlement_account__bank_name", "settlement_account__account_last4")
#: How ``settlement.models.mask_account_number`` shows an account number (pinned by a test).
MASK_PREFIX = "**** **** "
#: Free-text columns a spreadsheet could take for a formula.
TEXT_COLUMNS = frozenset(
    {"licence_number", "name", "owner_name", "phone", "address", "route_code", "district_code"}
)
ROWS_PER_CHUNK = 1000
NAMES = [name for name, _ in COLUMNS]
_E_SETTLEMENT = PaymentMethod.E_SETTLEMENT.value
_PAYMENT = NAMES.index("payment_method")
_WIDTH = len(COLUMNS)


def paths(*, with_settlement: bool) -> list[str]:
    """What to ask ``values_list`` for."""
    return [orm for _, orm in COLUMNS] + (list(SETTLEMENT_PATHS) if with_settlement else [])


def _field(path: str) -> models.Field:
    model: type[models.Model] = Retailer
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(last)


@cache
def _kinds() -> dict[str, list[int]]:
    """Column positions by the conversion they need; the others are passed through."""
    kinds: dict[str, list[int]] = {"datetime": [], "date": [], "decimal": [], "bool": []}
    for index, (_name, path) in enumerate(COLUMNS):
        field = _field(path)
        if isinstance(field, models.DateTimeField):
            kinds["datetime"].append(index)
        elif isinstance(field, models.DateField):
            kinds["date"].append(index)
        elif isinstance(field, models.DecimalField):
            kinds["decimal"].append(index)
        elif isinstance(field, models.BooleanField):
            kinds["bool"].append(index)
    return kinds


def _plain_rows(rows: Iterable[tuple]) -> Iterator[list]:
    """Rows as the JSON list shows them: local ISO 8601 times, decimals as strings."""
    kinds = _kinds()
    datetimes, dates, decimals = kinds["datetime"], kinds["date"], kinds["decimal"]
    zone = timezone.get_current_timezone()
    for row in rows:
        values = list(row)
        for index in datetimes:
            value = values[index]
            if value is not None:
                values[index] = value.astimezone(zone).isoformat()
        for index in dates:
            value = values[index]
            if value is not None:
                values[index] = value.isoformat()
        for index in decimals:
            value = values[index]
            if value is not None:
                values[index] = str(value)
        yield values


def _batches(rows: Iterable[list]) -> Iterator[list[list]]:
    batch: list[list] = []
    for row in rows:
        batch.append(row)
        if len(batch) == ROWS_PER_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _settlement(values: list) -> tuple[str | None, str | None]:
    if len(values) > _WIDTH:
        bank, last4 = values[_WIDTH], values[_WIDTH + 1]
        if bank is not None and last4:
            return bank, MASK_PREFIX + last4
    return None, None


def ndjson_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """One JSON object per line, ``"\\n"``-terminated, UTF-8."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for batch in _batches(_plain_rows(rows)):
        lines = []
        for values in batch:
            record = dict(zip(NAMES, values[:_WIDTH], strict=True))
            record["e_settlement"] = values[_PAYMENT] == _E_SETTLEMENT
            bank, masked = _settlement(values)
            record["settlement_account"] = (
                {"bank_name": bank, "account_number_masked": masked} if bank else None
            )
            lines.append(encode(record))
        lines.append("")
        yield "\n".join(lines).encode()


HEADER = [*NAMES, "e_settlement", "settlement_bank", "settlement_account_number_masked"]


def csv_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """A header, then one line per retailer (RFC 4180, CRLF); booleans ``true``/``false``,
    empty cells for nulls; free-text cells cannot start a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    text = [NAMES.index(name) for name in NAMES if name in TEXT_COLUMNS]
    booleans = _kinds()["bool"]
    for batch in _batches(_plain_rows(rows)):
        for values in batch:
            bank, masked = _settlement(values)
            values[_WIDTH:] = [
                values[_PAYMENT] == _E_SETTLEMENT,
                "" if bank is None else safe_text(bank),
                masked or "",
            ]
            for index in text:
                value = values[index]
                if value:
                    values[index] = safe_text(value)
            for index in (*booleans, _WIDTH):
                values[index] = "true" if values[index] else "false"
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue().encode()
