"""Keyset ("cursor") pagination with a client-chosen, bounded page size.

Every list endpoint pages the same way::

    GET /api/v1/retailers/?page_size=100
    {"next": "https://…/api/v1/retailers/?cursor=…&page_size=100", "previous": null,
     "results": [...]}

Follow ``next`` until it is ``null``. The cursor holds the ordering values of the last row seen
(signed, so it cannot be forged or mistyped into a 500), and the next page is a
``WHERE (a, b, id) > (…)`` query: no ``OFFSET``, no ``COUNT(*)``, the same cost on page 1 and on
page 5,000, and rows changed or added between requests are neither skipped nor repeated within
one ordering. The ordering comes from the view's ``ordering`` or the query's ``order_by`` (for
example set by an ``OrderingFilter``); the primary key is appended as the final tie-breaker, and
``NULL`` sorts last in both directions.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, Model, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_SALT = "config.api.pagination.cursor"
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class OrderKey:
    """One ``ORDER BY`` term: a field path, its direction, and whether it may be ``NULL``."""

    path: str
    descending: bool
    field: Field

    @property
    def nullable(self) -> bool:
        return self.field.null

    def expression(self, *, reverse: bool):
        descending = self.descending != reverse
        # NULL sorts last going forward, so first when walking backwards.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        if not self.nullable:
            return f"-{self.path}" if descending else self.path
        return F(self.path).desc(**nulls) if descending else F(self.path).asc(**nulls)

    def after(self, value: Any, *, reverse: bool) -> Q | None:
        """Rows strictly after ``value`` in this term's order; ``None`` when there are none."""
        descending = self.descending != reverse
        if value is None:
            # NULLs are last going forward (nothing after them) and first backwards.
            return Q(**{f"{self.path}__isnull": False}) if reverse else None
        condition = Q(**{f"{self.path}__{'lt' if descending else 'gt'}": value})
        if self.nullable and not reverse:
            condition |= Q(**{f"{self.path}__isnull": True})
        return condition

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


def _resolve(model: type[Model], path: str) -> tuple[str, Field]:
    """The model field at the end of ``path`` (``route__code``); a relation means its column."""
    parts = path.split("__")
    current: type[Model] = model
    field: Field = model._meta.pk
    for index, part in enumerate(parts):
        try:
            field = current._meta.pk if part == "pk" else current._meta.get_field(part)
            parts[index] = field.name
        except FieldDoesNotExist as exc:
            raise ImproperlyConfigured(f"Cannot page {model.__name__} by {path!r}.") from exc
        if index < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                raise ImproperlyConfigured(f"Cannot page {model.__name__} by {path!r}.")
            current = field.related_model
    if field.is_relation:
        if not field.concrete:
            raise ImproperlyConfigured(f"Cannot page {model.__name__} by {path!r}.")
        parts[-1] = field.attname
        field = field.target_field
    return "__".join(parts), field


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # full precision: a millisecond loss would skip rows
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def _read(row: Any, path: str) -> Any:
    if isinstance(row, dict):
        return row[path]
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
        if value is None:
            return None
    return value


class CursorPagination(BasePagination):
    """Keyset pagination; the view's ``ordering`` (default: primary key) sets the order.

    ``page_size`` defaults to ``settings.API_PAGE_SIZE`` and may be chosen by the client from
    1 to ``settings.API_MAX_PAGE_SIZE``; anything else is a 400 naming ``page_size``, as is a
    cursor that was not issued by this server for this ordering.
    """

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    # --- settings, read when used (never at import time) ---------------------------------
    @staticmethod
    def default_page_size() -> int:
        return settings.API_PAGE_SIZE

    @staticmethod
    def max_page_size() -> int:
        return settings.API_MAX_PAGE_SIZE

    # --- parsing ------------------------------------------------------------------------
    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.default_page_size()
        maximum = self.max_page_size()
        if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
            message = gettext("Choose a page size from 1 to %(max)d.") % {"max": maximum}
            raise ValidationError({self.page_size_query_param: [message]}, code="invalid")
        return int(raw)

    def get_ordering(self, queryset: QuerySet, view: Any) -> list[OrderKey]:
        terms = list(queryset.query.order_by) or list(getattr(view, "ordering", None) or ["pk"])
        keys: list[OrderKey] = []
        for term in terms:
            if not isinstance(term, str):
                raise ImproperlyConfigured("Cursor pagination orders by field names only.")
            path, field = _resolve(queryset.model, term.lstrip("-"))
            keys.append(OrderKey(path=path, descending=term.startswith("-"), field=field))
        pk_path, pk_field = _resolve(queryset.model, "pk")
        if not any(key.field is pk_field and "__" not in key.path for key in keys):
            descending = keys[-1].descending if keys else False
            keys.append(OrderKey(path=pk_path, descending=descending, field=pk_field))
        return keys

    def _signature(self, keys: list[OrderKey]) -> list[str]:
        return [("-" if key.descending else "") + key.path for key in keys]

    def decode_cursor(
        self, request: Request, keys: list[OrderKey]
    ) -> tuple[bool, bool, list] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None or raw == "":
            return None
        invalid = ValidationError(
            {
                self.cursor_query_param: [
                    gettext("This cursor is not valid; start again without it.")
                ]
            },
            code="invalid",
        )
        try:
            data = signing.loads(raw, salt=CURSOR_SALT)
        except (signing.BadSignature, ValueError, UnicodeError) as exc:
            raise invalid from exc
        if not isinstance(data, dict) or data.get("o") != self._signature(keys):
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        gettext("This cursor belongs to another ordering; start again without it.")
                    ]
                },
                code="invalid",
            )
        values = data.get("v")
        if not isinstance(values, list) or len(values) != len(keys):
            raise invalid
        try:
            parsed = [
                None if value is None else key.field.to_python(value)
                for key, value in zip(keys, values, strict=True)
            ]
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise invalid from exc
        return bool(data.get("r")), bool(data.get("i")), parsed

    def encode_cursor(self, keys: list[OrderKey], row: Any, *, reverse: bool, read=_read) -> str:
        values = [_encode(read(row, key.path)) for key in keys]
        token = signing.dumps(
            {"o": self._signature(keys), "r": reverse, "v": values}, salt=CURSOR_SALT
        )
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    # --- paging -------------------------------------------------------------------------
    def _after(
        self, keys: list[OrderKey], values: list, *, reverse: bool, inclusive: bool = False
    ) -> Q:
        """Rows after ``values``: ``a > x OR (a = x AND b > y) OR …`` for the whole key
        (and the row at ``values`` itself when ``inclusive``)."""
        condition = Q(pk__in=[])
        equal = Q()
        for key, value in zip(keys, values, strict=True):
            after = key.after(value, reverse=reverse)
            if after is not None:
                condition |= equal & after
            equal &= key.equal(value)
        if inclusive:
            condition |= equal
        first, first_value = keys[0], values[0]
        if not first.nullable and first_value is not None:
            # A plain range on the leading column lets PostgreSQL walk its index.
            descending = first.descending != reverse
            bound = Q(**{f"{first.path}__{'lte' if descending else 'gte'}": first_value})
            condition = bound & condition
        return condition

    def start(self, request: Request, keys: list[OrderKey]) -> tuple | None:
        """Reads the page size and the cursor of ``request`` for the order ``keys`` (400s for
        bad ones); the cursor, decoded, is for ``page_queryset`` and ``finish``."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = remove_query_param(request.build_absolute_uri(), self.cursor_query_param)
        return self.decode_cursor(request, keys)

    def page_queryset(
        self, queryset: QuerySet, keys: list[OrderKey], cursor: tuple | None
    ) -> QuerySet:
        """``queryset`` in the keys' order, after the cursor, one row more than a page (the
        extra row says whether there is a next page)."""
        reverse, inclusive, position = cursor if cursor is not None else (False, False, None)
        queryset = queryset.order_by(*(key.expression(reverse=reverse) for key in keys))
        if position is not None:
            queryset = queryset.filter(
                self._after(keys, position, reverse=reverse, inclusive=inclusive)
            )
        return queryset[: self.page_size + 1]

    def finish(
        self, rows: list[Any], keys: list[OrderKey], cursor: tuple | None, read=None
    ) -> list[Any]:
        """The page from ``page_queryset``'s rows, in order, with its links set; ``read(row,
        path)`` reads an order key's value from a row (default: a dict's item or an
        attribute)."""
        read = read or _read
        reverse, inclusive, position = cursor if cursor is not None else (False, False, None)
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()

        self.next_link = self.previous_link = None
        if rows:
            first, last = rows[0], rows[-1]
            if (has_more and not reverse) or reverse:
                self.next_link = self.encode_cursor(keys, last, reverse=False, read=read)
            if (has_more and reverse) or (not reverse and position is not None):
                self.previous_link = self.encode_cursor(keys, first, reverse=True, read=read)
        elif position is not None:
            # Nothing past the cursor (rows were deleted): offer the way back from where it
            # pointed, including the row it pointed at.
            token = signing.dumps(
                {
                    "o": self._signature(keys),
                    "r": not reverse,
                    "i": not inclusive,
                    "v": [_encode(v) for v in position],
                },
                salt=CURSOR_SALT,
            )
            link = replace_query_param(self.base_url, self.cursor_query_param, token)
            if reverse:
                self.next_link = link
            else:
                self.previous_link = link
        return rows

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        keys = self.get_ordering(queryset, view)
        cursor = self.start(request, keys)
        rows = list(self.page_queryset(queryset, keys, cursor))
        return self.finish(rows, keys, cursor)

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            OrderedDict(
                [("next", self.next_link), ("previous", self.previous_link), ("results", data)]
            )
        )

    # --- schema -------------------------------------------------------------------------
    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null on the last page."},
                "previous": {**link, "description": "The previous page, or null on the first."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("Where to continue: copy it from the `next` or `previous` link.")
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(_("Results per page.")),
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size(),
                    "default": self.default_page_size(),
                },
            },
        ]


def in_page_order(queryset: QuerySet, view: Any = None) -> QuerySet:
    """``queryset`` in exactly the order its pages would have (for streams such as exports)."""
    keys = CursorPagination().get_ordering(queryset, view)
    return queryset.order_by(*(key.expression(reverse=False) for key in keys))
