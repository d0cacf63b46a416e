"""``/api/v1/retailers/``: list, detail and bulk export, scoped like the pages.

Visibility is ``selectors.visible_retailers(user)``: another route's retailer answers 404.
Settlement data (bank, masked account number) is shown only to roles allowed to see it
(``accounts.permissions.can_view_settlement_data``); for others it is ``null``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from json.encoder import encode_basestring
from types import SimpleNamespace
from typing import Any

import django_filters.conf
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, router
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView, ListAPIView, RetrieveAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import GradeEvaluation, User
from accounts.permissions import can_view_settlement_data
from accounts.serializers import UserSummarySerializer
from config import prepared
from config.api.filters import apply_filters, clean_filters
from config.api.pagination import CursorPagination, OrderKey, in_page_order
from config.api.schema import error_response
from config.api.throttling import DEFAULT_THROTTLES, ScopedRateThrottle
from config.prepared import PreparedQueries, Unpreparable
from retailers import export, selectors
from retailers.filters import RetailerExportFilter, RetailerFilter
from retailers.models import PaymentMethod, RatingProposal, Retailer
from retailers.selectors import UNRATED

#: Rows fetched from the server-side cursor at a time.
FETCH_SIZE = 2000


class SettlementSummarySerializer(serializers.Serializer):
    bank_name = serializers.CharField()
    account_number_masked = serializers.CharField(
        help_text=_("Only the last 4 digits: **** **** 1234.")
    )


class RetailerSerializer(serializers.ModelSerializer):
    route_code = serializers.CharField(source="route.code", read_only=True)
    district = serializers.IntegerField(source="route.district_id", read_only=True)
    district_code = serializers.CharField(source="route.district.code", read_only=True)
    e_settlement = serializers.BooleanField(source="is_e_settlement", read_only=True)
    settlement_account = serializers.SerializerMethodField(
        help_text=_("Null when there is none, or when your role may not see settlement data.")
    )

    class Meta:
        model = Retailer
        fields = [
            "id",
            "licence_number",
            "name",
            "owner_name",
            "phone",
            "address",
            "route",
            "route_code",
            "district",
            "district_code",
            "stop_order",
            "star",
            "business_type",
            "integrity_level",
            "status",
            "ordering_channel",
            "payment_method",
            "e_settlement",
            "needs_assistance",
            "is_standard_store",
            "is_demonstration_store",
            "latitude",
            "longitude",
            "opened_on",
            "created_at",
            "updated_at",
            "settlement_account",
        ]
        read_only_fields = fields

    @extend_schema_field(SettlementSummarySerializer(allow_null=True))
    def get_settlement_account(self, retailer: Retailer) -> dict[str, str] | None:
        if not self.context.get("with_settlement"):
            return None
        bank = getattr(retailer, "settlement_bank", None)
        if bank is None:  # no account (``selectors.retailer_api_list`` looked it up)
            return None
        last4 = retailer.settlement_last4
        return {
            "bank_name": bank,
            "account_number_masked": f"{export.MASK_PREFIX}{last4}" if last4 else "",
        }


class RetailerScopeMixin:
    """The visible retailers, with settlement data joined only for roles that may see it."""

    request: Request

    def with_settlement(self) -> bool:
        return can_view_settlement_data(self.request.user)

    def get_queryset(self) -> QuerySet[Retailer]:
        return selectors.retailer_api_list(
            user=self.request.user, with_settlement=self.with_settlement()
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "with_settlement": self.with_settlement()}


class RenderedPage(bytes):
    """A page's body, already JSON (``page_json``)."""


class PageRenderer(JSONRenderer):
    """DRF's JSON renderer, which passes a ``RenderedPage`` through as it is."""

    @classmethod
    def writes(cls, request: Request) -> bool:
        """Whether ``page_json`` writes what this renderer would: compact JSON, not the
        indented JSON a client may ask for (``Accept: application/json; indent=4``)."""
        renderer = getattr(request, "accepted_renderer", None)
        return (
            isinstance(renderer, cls)
            and renderer.compact
            and not renderer.ensure_ascii
            and renderer.get_indent(request.accepted_media_type, {}) is None
        )

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, RenderedPage):
            return bytes(data)
        return super().render(data, accepted_media_type, renderer_context)


class RetailerListApi(RetailerScopeMixin, ListAPIView):
    """Visible retailers of every status (closures included, so sync clients learn of them)."""

    serializer_class = RetailerSerializer  # the schema; pages are built from values
    filter_backends = [DjangoFilterBackend]  # the schema; ``list`` filters with the same set
    filterset_class = RetailerFilter
    ordering = ("id",)
    renderer_classes = [PageRenderer]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page from one query's rows: no model instance and no serializer call per row.

        The query (``retailer_api_page``) is the filter set's filters and the keyset page,
        compiled once per shape of request (``config.prepared``); the filters are validated
        by the filter set's form without copying it (``clean_filters``), and the body is
        written straight from the rows (``page_json``: the bytes DRF's renderer would write
        for ``export.records``' objects; those are still used for indented JSON).
        Measured at province scale: about 11 ms of CPU per request before, 3–4 ms after."""
        with_settlement = self.with_settlement()
        columns = export.paths(with_settlement=False)
        if with_settlement:
            columns += list(selectors.API_SETTLEMENT_ANNOTATIONS)
        filters = clean_filters(RetailerFilter, request.query_params)  # 400 as django-filter
        paginator = self.paginator
        keys = page_keys(tuple(filters.get("ordering") or ()), self.ordering)
        cursor = paginator.start(request, keys)
        rows = retailer_api_page(
            user=request.user,
            with_settlement=with_settlement,
            columns=columns,
            filters=filters,
            paginator=paginator,
            keys=keys,
            cursor=cursor,
        )
        index = {path: position for position, path in enumerate(columns)}
        page = paginator.finish(rows, keys, cursor, read=lambda row, path: row[index[path]])
        if PageRenderer.writes(request):
            body = page_json(page, next_link=paginator.next_link, previous=paginator.previous_link)
            return Response(RenderedPage(body))
        return paginator.get_paginated_response(list(export.records(page)))


_LOCAL_TIME = object()


def _writer(path: str) -> Callable[[Any], str] | object:
    """How ``JSONRenderer`` writes a value of the column ``path`` as ``export.records``
    gives it (``None`` is handled by the caller)."""
    model: Any = Retailer
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    field = model._meta.get_field(last)
    if isinstance(field, models.DateTimeField):
        return _LOCAL_TIME  # in the current time zone: chosen per page
    if isinstance(field, models.DateField):
        return lambda value: f'"{value.isoformat()}"'
    if isinstance(field, models.DecimalField):
        return lambda value: encode_basestring(format(value, "f"))
    if isinstance(field, models.BooleanField):
        return lambda value: "true" if value else "false"
    if isinstance(field, models.IntegerField | models.ForeignKey | models.AutoField):
        return int.__repr__
    if isinstance(field, models.CharField | models.TextField):
        return encode_basestring
    raise ImproperlyConfigured(f"page_json cannot write {path}")


@functools.cache
def _row_writers() -> tuple[str, tuple, int]:
    """The object template (``%s`` per value) and the writer of each ``paths()`` column."""
    names = [*export.RECORD_NAMES, "settlement_account"]
    template = "{" + ",".join(f"{encode_basestring(name)}:%s" for name in names) + "}"
    columns = export.paths(with_settlement=False)
    return template, tuple(_writer(path) for path in columns), columns.index("payment_method")


def page_json(rows: list[tuple], *, next_link: str | None, previous: str | None) -> bytes:
    """What ``JSONRenderer`` writes for ``{"next", "previous", "results": records(rows)}``,
    byte for byte, written straight from the rows (``export.paths()`` columns, then the
    settlement bank and last digits if any): about a fifth of building the objects and
    encoding them."""
    template, writers, payment = _row_writers()
    zone = timezone.get_current_timezone()

    def local_time(value: dt.datetime) -> str:  # ISO 8601: nothing to escape
        return f'"{value.astimezone(zone).isoformat()}"'

    writers = [local_time if w is _LOCAL_TIME else w for w in writers]
    width, mask = len(writers), export.MASK_PREFIX
    e_settlement = PaymentMethod.E_SETTLEMENT.value
    objects = []
    for row in rows:
        values = ["null" if v is None else w(v) for w, v in zip(writers, row[:width], strict=True)]
        values.insert(payment + 1, "true" if row[payment] == e_settlement else "false")
        account = "null"
        if len(row) > width and row[width] is not None:
            bank, last4 = row[width], row[width + 1]
            masked = encode_basestring(mask + last4 if last4 else "")
            account = f'{{"bank_name":{encode_basestring(bank)},"account_number_masked":{masked}}}'
        values.append(account)
        objects.append(template % tuple(values))
    links = ["null" if link is None else encode_basestring(link) for link in (next_link, previous)]
    body = f'{{"next":{links[0]},"previous":{links[1]},"results":[{",".join(objects)}]}}'
    # JSONRenderer's escapes: JavaScript cannot have these two in a string literal.
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


@functools.lru_cache(maxsize=64)
def page_keys(ordering: tuple[str, ...], default: tuple[str, ...]) -> list[OrderKey]:
    """The list's order keys for an ``?ordering=`` value (the primary key last)."""
    queryset = apply_filters(RetailerFilter, Retailer.objects.all(), {"ordering": ordering})
    return CursorPagination().get_ordering(queryset, SimpleNamespace(ordering=default))


#: Statements of the list's pages, by shape of request.
LIST_STATEMENTS = PreparedQueries()


def retailer_api_page(
    *,
    user: User,
    with_settlement: bool,
    columns: list[str],
    filters: dict[str, Any],
    paginator: CursorPagination,
    keys: list[OrderKey],
    cursor: tuple | None,
) -> list[tuple]:
    """The rows (``columns``) of one page of the list and the one after it: the visible
    retailers (``selectors.retailer_api_list``) filtered by ``filters`` (``RetailerFilter``'s
    cleaned data), in ``keys`` order after ``cursor`` (``CursorPagination.page_queryset``).

    The SQL is prepared once per shape (``config.prepared``): the user and their role, which
    filters are given (and the values that change the SQL: unrated, true/false, the
    ordering), the page size and the cursor's direction and ``NULL`` values; the other values
    are bound as parameters. A shape that cannot be prepared runs the ORM."""
    reverse, inclusive, position = cursor if cursor is not None else (False, False, None)

    def build(values: dict[str, Any]) -> QuerySet:
        cleaned = {**filters, **{name[2:]: v for name, v in values.items() if name[:2] == "f:"}}
        at = None
        if position is not None:
            at = [values.get(f"c:{i}", value) for i, value in enumerate(position)]
        queryset = selectors.retailer_api_list(user=user, with_settlement=with_settlement)
        queryset = apply_filters(RetailerFilter, queryset, cleaned)
        page = paginator.page_queryset(
            queryset, keys, None if at is None else (reverse, inclusive, at)
        )
        return page.values_list(*columns)

    try:
        shape, kinds, values = _page_shape(filters, keys, position)
    except Unpreparable:
        return list(build({}))
    shape = (
        user.pk,
        user.role,
        user.is_superuser,
        user.is_active,
        with_settlement,
        tuple(columns),
        paginator.page_size,
        reverse,
        inclusive,
        shape,
    )
    using = router.db_for_read(Retailer)
    statement = LIST_STATEMENTS.statement(shape, build, kinds, using=using)
    if statement is None:
        return list(build(values))
    return LIST_STATEMENTS.rows(statement, values, using=using)


_INTEGER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


def _page_shape(
    filters: dict[str, Any], keys: list[OrderKey], position: list | None
) -> tuple[tuple, dict[str, str], dict[str, Any]]:
    """``(shape, slot kinds, slot values)`` of a page request: what changes the SQL goes
    into the shape, the other values into slots (``config.prepared``)."""
    shape: list = []
    kinds: dict[str, str] = {}
    values: dict[str, Any] = {}

    def slot(name: str, kind: str, value: Any) -> None:
        shape.append((name, kind))
        kinds[name], values[name] = kind, value

    for name, value in filters.items():
        if value in EMPTY_VALUES:
            continue
        if name == "ordering":
            shape.append((name, tuple(value)))
        elif isinstance(value, bool):  # e_settlement: filter or exclude
            shape.append((name, value))
        elif name == "star":  # unrated is IS NULL, a star a parameter
            if value == UNRATED:
                shape.append((name, UNRATED))
            else:
                slot(f"f:{name}", prepared.DIGITS, value)
        elif name == "search":  # blank searches nothing
            if value.strip():
                slot(f"f:{name}", prepared.TEXT, value)
        elif isinstance(value, int):
            slot(f"f:{name}", prepared.INT, value)
        elif isinstance(value, dt.datetime):
            slot(f"f:{name}", prepared.DATETIME, value)
        elif isinstance(value, str) and value != django_filters.conf.settings.NULL_CHOICE_VALUE:
            slot(f"f:{name}", prepared.TEXT, value)
        else:
            raise Unpreparable(name)
    for index, (key, value) in enumerate(zip(keys, position or (), strict=False)):
        if value is None:
            shape.append((f"c:{index}", None))
            continue
        kind = key.field.get_internal_type()
        if kind in _INTEGER_FIELDS and type(value) is int:
            slot(f"c:{index}", prepared.INT, value)
        elif kind in ("CharField", "TextField") and isinstance(value, str):
            slot(f"c:{index}", prepared.TEXT, value)
        elif kind == "DateTimeField" and isinstance(value, dt.datetime):
            slot(f"c:{index}", prepared.DATETIME, value)
        else:
            raise Unpreparable(key.path)
    return tuple(shape), kinds, values


class RetailerDetailApi(RetailerScopeMixin, RetrieveAPIView):
    serializer_class = RetailerSerializer

    @extend_schema(
        responses={
            200: RetailerSerializer,
            404: error_response(_("No such retailer on your routes.")),
        }
    )
    def get(self, request: Request, *args: Any, **kwargs: Any):
        return super().get(request, *args, **kwargs)


# --- export ---------------------------------------------------------------------------------
class RetailerExportApi(RetailerScopeMixin, GenericAPIView):
    """Every visible retailer matching the filters, streamed in constant memory.

    Same filters and ordering as the list, no pagination: one request syncs the whole set.
    """

    filter_backends = [DjangoFilterBackend]
    filterset_class = RetailerExportFilter
    ordering = ("id",)
    pagination_class = None
    throttle_classes = [*DEFAULT_THROTTLES, ScopedRateThrottle]
    throttle_scope = "export"

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
        },
        summary=_("Export retailers as CSV or NDJSON"),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        with_settlement = self.with_settlement()
        filterset = RetailerExportFilter(
            request.query_params,
            queryset=selectors.visible_retailers(request.user),
            request=request,
        )
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        queryset = in_page_order(filterset.qs, self)  # the list's order, end to end
        export_format = filterset.form.cleaned_data.get("format") or "csv"
        if export_format == "ndjson":
            columns = export.ndjson_paths(
                with_settlement=with_settlement, as_text=connection.vendor == "postgresql"
            )
            rows = export.server_side_rows(queryset.values_list(*columns), chunk_size=FETCH_SIZE)
            chunks = export.ndjson_chunks(rows)
            content_type = "application/x-ndjson; charset=utf-8"
        else:
            columns = export.paths(with_settlement=with_settlement)
            rows = queryset.values_list(*columns).iterator(chunk_size=FETCH_SIZE)
            chunks = export.csv_chunks(rows)
            content_type = "text/csv; charset=utf-8"
        if request.method == "HEAD":
            chunks = iter(())  # the headers only: no query runs
        response = StreamingHttpResponse(chunks, content_type=content_type)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="retailers-{stamp}.{export_format}"'
        )
        response["Cache-Control"] = "no-store"
        return response


# --- Re-rating proposals and grade evaluations (read-only, DESIGN §2.6) ----------------------


class RatingProposalSerializer(serializers.ModelSerializer):
    district_code = serializers.CharField(source="district.code", read_only=True)
    thresholds = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        read_only=True,
        help_text=_("Per star: [minimum points, minimum cartons] over the quarter."),
    )
    decided_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = RatingProposal
        fields = [
            "id",
            "district",
            "district_code",
            "quarter_start",
            "quarter_end",
            "status",
            "thresholds",
            "retailers",
            "moving_up",
            "moving_down",
            "proposed_at",
            "decided_at",
            "decided_by",
            "effective_from",
        ]
        read_only_fields = fields


class RatingProposalListApi(ListAPIView):
    """Re-rating proposals of the districts you supervise (administrators: all); none for
    account managers."""

    serializer_class = RatingProposalSerializer
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[RatingProposal]:
        return selectors.visible_proposals(self.request.user)


class GradeEvaluationSerializer(serializers.ModelSerializer):
    manager = UserSummarySerializer(read_only=True)
    evaluated_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = GradeEvaluation
        fields = [
            "id",
            "manager",
            "evaluated_by",
            "period_start",
            "period_end",
            "score",
            "notes",
            "previous_grade",
            "grade",
            "created_at",
        ]
        read_only_fields = fields


class GradeEvaluationListApi(ListAPIView):
    """Evaluations of the account managers on your routes (supervisors), your own (account
    managers), or all (administrators)."""

    serializer_class = GradeEvaluationSerializer
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[GradeEvaluation]:
        return selectors.visible_evaluations(self.request.user)


urlpatterns = [
    path("rerating-proposals/", RatingProposalListApi.as_view(), name="rerating-proposal-list"),
    path("grade-evaluations/", GradeEvaluationListApi.as_view(), name="grade-evaluation-list"),
    path("retailers/", RetailerListApi.as_view(), name="retailer-list"),
    path("retailers/export/", RetailerExportApi.as_view(), name="retailer-export"),
    path("retailers/<int:pk>/", RetailerDetailApi.as_view(), name="retailer-detail"),
]
