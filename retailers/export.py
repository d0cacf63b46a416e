"""Retailer rows to CSV or NDJSON, for ``GET /api/v1/retailers/export/`` (DESIGN §3).

Built for hundreds of thousands of rows: the rows are ``values_list`` tuples from a
server-side cursor, each is converted with as little per-row work as possible (only the
columns that need it), and the text is yielded in chunks of ``ROWS_PER_CHUNK`` rows, so memory
stays constant whatever the count. NDJSON lines are the same objects as the JSON list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from json.encoder import encode_basestring

from django.db import connections, models, transaction
from django.db.models.functions import Cast
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
    """Rows as the JSON list shows them: local ISO 8601 times, decimals as fixed-point
    strings (as DRF's ``DecimalField`` writes them: ``0.000000``, never ``0E-6``)."""
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
                values[index] = format(value, "f")
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
    """The bank and the masked number, as the serializer shows them (``None`` without an
    account; an empty mask if the account has no digits on record)."""
    if len(values) > _WIDTH:
        bank, last4 = values[_WIDTH], values[_WIDTH + 1]
        if bank is not None:
            return bank, MASK_PREFIX + last4 if last4 else ""
    return None, None


#: The API object's keys in the serializer's order (``e_settlement`` after the payment method).
RECORD_NAMES = [*NAMES[: _PAYMENT + 1], "e_settlement", *NAMES[_PAYMENT + 1 :]]


def records(rows: Iterable[tuple]) -> Iterator[dict]:
    """Each row (``paths()`` order) as the API's retailer object: the list's, the detail's
    and the NDJSON line's, without a serializer or a model instance per row."""
    names, payment, width, e_settlement = RECORD_NAMES, _PAYMENT, _WIDTH, _E_SETTLEMENT
    for values in _plain_rows(rows):
        record = dict(
            zip(
                names,
                [
                    *values[: payment + 1],
                    values[payment] == e_settlement,
                    *values[payment + 1 : width],
                ],
                strict=True,
            )
        )
        bank, masked = _settlement(values)
        record["settlement_account"] = (
            None if bank is None else {"bank_name": bank, "account_number_masked": masked}
        )
        yield record


#: One NDJSON line; ``%s`` take already-encoded JSON values, in ``RECORD_NAMES`` order.
#: Times are quoted by the template: digits and signs, nothing to escape.
_LINE = (
    "{"
    + ",".join(
        f'"{name}":"%s"' if name in ("created_at", "updated_at") else f'"{name}":%s'
        for name in (*RECORD_NAMES, "settlement_account")
    )
    + "}"
)
_JSON_BOOL = {True: "true", False: "false"}


def ndjson_paths(*, with_settlement: bool, as_text: bool) -> list:
    """What ``ndjson_chunks`` reads: ``paths()``, with (``as_text``: PostgreSQL only, in the
    current time zone, see ``server_side_rows``) the decimals and the times as the
    database's text, which costs less than building a ``Decimal`` or an aware ``datetime``
    and converting it back (half the export's time at 500,000 rows)."""
    kinds = _kinds()
    texts = set(kinds["decimal"]) | set(kinds["datetime"]) if as_text else set()
    return [
        Cast(path, output_field=models.TextField()) if index in texts else path
        for index, path in enumerate(paths(with_settlement=with_settlement))
    ]


def _iso_time(value) -> str:
    """An aware time as the API writes it (``datetime.isoformat()`` in the current zone),
    from a ``datetime`` or from PostgreSQL's ISO text of a ``timestamptz`` in that zone:
    ``2026-10-09 18:15:31.9691+08`` becomes ``2026-10-09T18:15:31.969100+08:00``."""
    if not isinstance(value, str):
        return value.astimezone(timezone.get_current_timezone()).isoformat()
    if value[-3] in "+-":  # a whole-hour offset, ``+08``
        body, offset = value[:-3], value[-3:] + ":00"
    else:
        cut = max(value.rfind("+"), value.rfind("-"))
        body, offset = value[:cut], value[cut:]
    if len(body) > 19:  # PostgreSQL drops the fraction's trailing zeros, Python keeps six
        body = body.ljust(26, "0")
    return body[:10] + "T" + body[11:] + offset


def _decimal_text(value) -> str:
    """A decimal as the API writes it: PostgreSQL's text of a ``numeric`` as it is, a
    ``Decimal`` (other databases) in fixed point, as DRF's ``DecimalField`` writes it."""
    return value if isinstance(value, str) else format(value, "f")


def server_side_rows(queryset: models.QuerySet, *, chunk_size: int) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset from a server-side cursor, as the driver gives
    them, one batch fetched ahead: Django's per-row iterator layers cost more than the rows
    at this scale, and no converter applies to these columns on PostgreSQL (other databases:
    the ORM's iterator).
    On PostgreSQL the session's time zone is the current one for the query, so that times
    cast to text read as local times (``ndjson_paths(as_text=True)``)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with (
        transaction.atomic(using=queryset.db, savepoint=False),
        connection.chunked_cursor() as cursor,
    ):
        with connection.cursor() as setting:
            setting.execute(
                "SELECT set_config('TimeZone', %s, true)", [timezone.get_current_timezone_name()]
            )
        cursor.execute(sql, params)
        # The next batch is fetched while this one is written out: the driver waits for
        # PostgreSQL without the GIL, so the database and Python work at the same time.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-fetch") as fetcher:
            pending = fetcher.submit(cursor.fetchmany, chunk_size)
            while rows := pending.result():
                pending = fetcher.submit(cursor.fetchmany, chunk_size)
                yield from rows


def ndjson_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """One JSON object per line, ``"\\n"``-terminated, UTF-8: the objects ``records`` makes,
    written straight into a line template (no dict, no encoder walk per row; about 4 times
    faster at 500,000 rows). ``rows`` are ``ndjson_paths()`` tuples."""
    string, iso, decimal = encode_basestring, _iso_time, _decimal_text  # string: C, UTF-8 kept
    line, boolean, e_settlement, mask = _LINE, _JSON_BOOL, _E_SETTLEMENT, MASK_PREFIX
    batch: list[str] = []
    for row in rows:
        (
            pk,
            licence,
            name,
            owner,
            phone,
            address,
            route,
            route_code,
            district,
            district_code,
            stop_order,
            star,
            business_type,
            integrity,
            status,
            channel,
            payment,
            assistance,
            standard,
            demonstration,
            latitude,
            longitude,
            opened_on,
            created_at,
            updated_at,
            *settlement,
        ) = row
        account = "null"
        if settlement and settlement[0] is not None:
            bank, last4 = settlement
            masked = string(mask + last4 if last4 else "")
            account = f'{{"bank_name":{string(bank)},"account_number_masked":{masked}}}'
        batch.append(
            line
            % (
                pk,
                string(licence),
                string(name),
                string(owner),
                string(phone),
                string(address),
                route,
                string(route_code),
                district,
                string(district_code),
                stop_order,
                "null" if star is None else star,
                string(business_type),
                string(integrity),
                string(status),
                string(channel),
                string(payment),
                boolean[payment == e_settlement],
                boolean[assistance],
                boolean[standard],
                boolean[demonstration],
                "null" if latitude is None else string(decimal(latitude)),
                "null" if longitude is None else string(decimal(longitude)),
                "null" if opened_on is None else string(opened_on.isoformat()),
                iso(created_at),
                iso(updated_at),
                account,
            )
        )
        if len(batch) == ROWS_PER_CHUNK:
            batch.append("")
            yield "\n".join(batch).encode()
            batch = []
    if batch:
        batch.append("")
        yield "\n".join(batch).encode()


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
