"""Retailer rows to CSV or NDJSON, for ``GET /api/v1/retailers/export/`` (DESIGN §3).

Built for hundreds of thousands of rows: the rows are ``values_list`` tuples from a
server-side cursor, each is converted with as little per-row work as possible (only the
columns that need it), and the text is yielded in chunks of ``ROWS_PER_CHUNK`` rows, so memory
stays constant whatever the count. NDJSON lines are the same objects as the JSON list.

On PostgreSQL the NDJSON lines are built by the database itself (``ndjson_sql``): Python only
joins the finished lines, so a province's 500,000 retailers stream at close to the speed of a
plain ``COPY`` (issue 7) instead of ~35 µs of Python per row. The SQL writes exactly the bytes
``ndjson_chunks`` writes (a test compares them on awkward values).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from functools import cache

from django.db import connection, models
from django.db.models import F, QuerySet
from django.utils import timezone

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
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def _safe(text: str) -> str:
    """A leading ``'`` keeps a spreadsheet from running a cell as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


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
                "" if bank is None else _safe(bank),
                masked or "",
            ]
            for index in text:
                value = values[index]
                if value and value.startswith(FORMULA_STARTS):
                    values[index] = "'" + value
            for index in (*booleans, _WIDTH):
                values[index] = "true" if values[index] else "false"
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue().encode()


# --- NDJSON built by PostgreSQL ----------------------------------------------------------------


def _json_sql(kind: str, column: str) -> tuple[str, int]:
    """SQL for one value exactly as ``ndjson_chunks`` writes it, and how many time-zone
    parameters it takes (``%s``, each the current zone's name)."""
    if kind == "text":
        return f"COALESCE(to_json({column})::text, 'null')", 0
    if kind == "number":
        return f"COALESCE({column}::text, 'null')", 0
    if kind == "bool":
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' ELSE 'null' END", 0
    if kind == "decimal":  # str(Decimal) of a fixed-scale numeric is its text
        return f"COALESCE('\"' || {column}::text || '\"', 'null')", 0
    if kind == "date":
        return f"COALESCE('\"' || to_char({column}, 'YYYY-MM-DD') || '\"', 'null')", 0
    # datetime.isoformat() in the current zone: microseconds only when there are any, and
    # the zone's offset then as ±HH:MM (±HH:MM:SS for the odd historical offset).
    local = f"({column} AT TIME ZONE %s)"
    offset = f"(EXTRACT(EPOCH FROM {local} - ({column} AT TIME ZONE 'UTC'))::integer)"
    sql = (
        f"COALESCE('\"' || to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN EXTRACT(MICROSECONDS FROM {column})::bigint %% 1000000 = 0 THEN ''"
        f"   ELSE to_char({column}, '.US') END"
        f" || CASE WHEN {offset} < 0 THEN '-' ELSE '+' END"
        f" || lpad((abs({offset}) / 3600)::text, 2, '0') || ':'"
        f" || lpad((abs({offset}) %% 3600 / 60)::text, 2, '0')"
        f" || CASE WHEN abs({offset}) %% 60 = 0 THEN ''"
        f"   ELSE ':' || lpad((abs({offset}) %% 60)::text, 2, '0') END"
        " || '\"', 'null')"
    )
    return sql, 6


@cache
def _json_kinds() -> tuple[str, ...]:
    kinds = []
    for _name, path in COLUMNS:
        field = _field(path)
        if isinstance(field, models.DateTimeField):
            kinds.append("datetime")
        elif isinstance(field, models.DateField):
            kinds.append("date")
        elif isinstance(field, models.DecimalField):
            kinds.append("decimal")
        elif isinstance(field, models.BooleanField):
            kinds.append("bool")
        elif isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
            kinds.append("number")
        else:
            kinds.append("text")
    return tuple(kinds)


def ndjson_sql(queryset: QuerySet, *, with_settlement: bool) -> tuple[str, list]:
    """One query whose rows are the finished NDJSON lines of ``queryset``, in its order.

    The filtered, scoped and ordered query selects the plain columns; the outer query only
    formats them (a sorted subquery is not flattened, so its order is the output's).
    """
    columns = paths(with_settlement=with_settlement)
    inner = queryset.values(**{f"c{i}": F(path) for i, path in enumerate(columns)})
    inner_sql, inner_params = inner.query.sql_with_params()
    zone = timezone.get_current_timezone_name()
    pieces, params = [], []
    for index, ((name, _path), kind) in enumerate(zip(COLUMNS, _json_kinds(), strict=True)):
        sql, zones = _json_sql(kind, f"t.c{index}")
        pieces.append(f"'{',' if index else '{'}\"{name}\":' || {sql}")
        params += [zone] * zones
    pieces.append(
        f"',\"e_settlement\":' || CASE WHEN t.c{_PAYMENT} = '{_E_SETTLEMENT}'"
        " THEN 'true' ELSE 'false' END"
    )
    if with_settlement:
        bank, last4 = f"t.c{_WIDTH}", f"t.c{_WIDTH + 1}"
        settlement = (
            f"CASE WHEN {bank} <> '' AND {last4} <> ''"
            f" THEN '{{\"bank_name\":' || to_json({bank})::text"
            f" || ',\"account_number_masked\":' || to_json('{MASK_PREFIX}' || {last4})::text"
            " || '}' ELSE 'null' END"
        )
    else:
        settlement = "'null'"
    pieces.append(f"',\"settlement_account\":' || {settlement} || '}}'")
    # Only our own column names and constants go into the text; values are parameters.
    sql = f"SELECT {' || '.join(pieces)} FROM ({inner_sql}) t"  # noqa: S608
    return sql, [*params, *inner_params]


def ndjson_sql_chunks(sql: str, params: list, *, fetch_size: int) -> Iterator[bytes]:
    """Stream the lines of ``ndjson_sql`` from a server-side cursor inside a transaction of
    its own (no ``WITH HOLD``, so PostgreSQL hands rows over as it makes them instead of
    storing the whole result first); closing the stream early rolls it back."""
    from django.db import transaction

    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(fetch_size):
            yield ("\n".join([row[0] for row in rows]) + "\n").encode()
