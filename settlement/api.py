"""``/api/v1/``: orders (create and read), settlement accounts (masked), balances pushed by the
bank, debits and balance reminders (read), all scoped like the pages (``selectors``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Prefetch
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView, RetrieveAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Brand
from config.api.exceptions import error_body
from config.api.filters import MAX_ID
from config.api.permissions import DEFAULT, CanViewSettlementData
from config.api.schema import NO_NUL_PATTERN, error_response
from config.errors import ApplicationError
from retailers.selectors import visible_retailers
from settlement import analytics, selectors, services, tasks
from settlement.filters import (
    AccountFilter,
    DebitFilter,
    OrderFilter,
    ReminderFilter,
    SalesSummaryFilter,
)
from settlement.models import (
    BalanceReminder,
    Debit,
    Order,
    OrderChannel,
    OrderLine,
    SettlementAccount,
)
from settlement.services import MAX_CARTONS_PER_LINE
from territory.models import Cycle

no_nul = RegexValidator(NO_NUL_PATTERN, _("Null characters are not allowed."))
MAX_LINES = 30
MAX_BALANCES = 5000


def refused(exc: ApplicationError) -> Response:
    """A business rule refused well-formed input: 409, in the one error shape, with fields.

    Malformed input (types, bounds) is a 400 from the serializers; input that is well formed
    but breaks a rule of the domain (a closed cycle, a retailer not active, a brand not on
    sale, an unknown account reference) conflicts with the current state of the data.
    """
    fields = {key: [str(m) for m in messages] for key, messages in exc.extra.items()}
    body = error_body(status=409, code="conflict", message=str(exc.message), fields=fields)
    return Response(body, status=status.HTTP_409_CONFLICT)


def _lookup(queryset, pk: int, message):
    """An object by id in the visible set, or a 404 naming what was not found."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise exceptions.NotFound(message % {"id": pk})
    return found


# --- Orders ---------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    brand_code = serializers.CharField(source="brand.code", read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["brand", "brand_code", "cartons", "unit_price", "wholesale_price", "amount"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    retailer_licence = serializers.CharField(source="retailer.licence_number", read_only=True)
    cycle_code = serializers.CharField(source="cycle.code", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "retailer",
            "retailer_licence",
            "cycle",
            "cycle_code",
            "channel",
            "status",
            "e_settlement",
            "ordered_at",
            "external_ref",
            "total_amount",
            "rebate_amount",
            "rebate",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderLineInputSerializer(serializers.Serializer):
    brand = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Brand id."))
    cartons = serializers.IntegerField(min_value=1, max_value=MAX_CARTONS_PER_LINE)

    def validate_brand(self, value: int) -> Brand:
        return _lookup(Brand.objects.all(), value, _("No brand has the id %(id)s."))


class OrderCreateSerializer(serializers.Serializer):
    retailer = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Retailer id."))
    cycle = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text=_("Cycle id; the current cycle when left out."),
    )
    channel = serializers.ChoiceField(choices=OrderChannel.choices)
    external_ref = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        validators=[no_nul],
        help_text=_(
            "The ordering platform's id of the order: posting it again returns the first order."
        ),
    )
    lines = serializers.ListField(
        child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )

    def validate_retailer(self, value: int):
        visible = visible_retailers(self.context["request"].user)
        return _lookup(visible, value, _("No retailer with the id %(id)s is on your routes."))

    def validate_cycle(self, value: int) -> Cycle:
        return _lookup(Cycle.objects.all(), value, _("No cycle has the id %(id)s."))

    def validate(self, data):
        if "cycle" not in data:
            cycle = selectors.current_cycle(timezone.localdate())
            if cycle is None:
                raise serializers.ValidationError({"cycle": [_("No cycle is current: give one.")]})
            data["cycle"] = cycle
        return data


def _order_queryset(user):
    return (
        selectors.visible_orders(user)
        .select_related("retailer", "cycle")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("brand").order_by("pk"))
        )
    )


@extend_schema_view(
    get=extend_schema(summary=_("Orders on your routes")),
    post=extend_schema(
        summary=_("Record an order (priced by its channel)"),
        request=OrderCreateSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(
                OrderSerializer, description=_("An order with this external reference existed.")
            ),
            404: error_response(_("The retailer (on your routes), cycle or a brand is unknown.")),
            409: error_response(
                _(
                    "A rule refused the order: closed cycle, retailer not active, brand not on "
                    "sale or twice, external reference used by another user."
                )
            ),
        },
    ),
)
class OrderListCreateApi(ListAPIView):
    """Orders newest first. POST records one: online orders at the wholesale price, others at
    the list price with the difference accrued for the month-end rebate (DESIGN §2.4)."""

    serializer_class = OrderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    ordering = ("-ordered_at",)
    parser_classes = [JSONParser]

    def get_queryset(self):
        return _order_queryset(self.request.user)

    def post(self, request: Request) -> Response:
        form = OrderCreateSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            order = services.order_create(
                retailer=data["retailer"],
                cycle=data["cycle"],
                channel=data["channel"],
                lines=[
                    services.LineInput(brand=line["brand"], cartons=line["cartons"])
                    for line in data["lines"]
                ],
                by=request.user,
                external_ref=data.get("external_ref"),
            )
        except services.DuplicateOrder as exc:
            existing = _order_queryset(request.user).filter(pk=exc.order.pk).first()
            if existing is None:  # someone else's order: say only that the reference is taken
                return refused(exc)
            return Response(OrderSerializer(existing).data, status=status.HTTP_200_OK)
        except ApplicationError as exc:
            return refused(exc)
        order = _order_queryset(request.user).get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


@extend_schema(summary=_("One order with its lines"))
class OrderDetailApi(RetrieveAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return _order_queryset(self.request.user)


# --- Settlement accounts and balances -------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    account_number_masked = serializers.CharField(source="masked_account_number", read_only=True)

    class Meta:
        model = SettlementAccount
        fields = [
            "id",
            "retailer",
            "reference",
            "bank_name",
            "account_number_masked",
            "status",
            "balance",
            "balance_as_of",
            "opened_on",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema(summary=_("Settlement accounts (masked numbers; supervisors and administrators)"))
class AccountListApi(ListAPIView):
    serializer_class = AccountSerializer
    permission_classes = [*DEFAULT, CanViewSettlementData]
    filter_backends = [DjangoFilterBackend]
    filterset_class = AccountFilter
    ordering = ("reference",)

    def get_queryset(self):
        return selectors.visible_accounts(self.request.user)


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$",
        "example": "2350.00",
    }
)
class AmountField(serializers.DecimalField):
    """A non-negative amount in yuan with at most 2 decimals, sent as a string."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            max_digits=12,
            decimal_places=2,
            min_value=Decimal("0"),
            max_value=Decimal("9999999999.99"),
            **kwargs,
        )


class BalanceInputSerializer(serializers.Serializer):
    reference = serializers.CharField(
        min_length=1, max_length=30, trim_whitespace=False, validators=[no_nul]
    )
    balance = AmountField()
    as_of = serializers.DateTimeField()


class BalancesInputSerializer(serializers.Serializer):
    balances = serializers.ListField(
        child=BalanceInputSerializer(), min_length=1, max_length=MAX_BALANCES
    )


class BalancesResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text=_("Balances recorded."))
    stale = serializers.IntegerField(help_text=_("Balances older than the known one, ignored."))


@extend_schema(
    summary=_("Push bank balances (all or nothing)"),
    request=BalancesInputSerializer,
    responses={
        200: BalancesResultSerializer,
        409: error_response(
            _("Refused, nothing recorded: an unknown reference, one twice, or a future time.")
        ),
    },
)
class BalancePushApi(APIView):
    """The bank's balances: an unknown reference or a bad item rejects them all, naming the
    item ("Row N" is the N-th item); a balance older than the known one is ignored. Failed
    debits that the new balances cover are then retried."""

    permission_classes = [*DEFAULT, CanViewSettlementData]
    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        form = BalancesInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        entries = [
            services.BalanceEntry(item["reference"], item["balance"], item["as_of"])
            for item in form.validated_data["balances"]
        ]
        try:
            result = services.balances_update(entries=entries, by=request.user, field="balances")
        except ApplicationError as exc:
            return refused(exc)
        transaction.on_commit(tasks.retry_covered_debits.delay)
        return Response(BalancesResultSerializer(result).data)


class TextField(serializers.CharField):
    """Text only: a number or a boolean is refused, not turned into text (as documented)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RevealInputSerializer(serializers.Serializer):
    reason = TextField(
        max_length=200,
        required=False,
        allow_blank=True,
        validators=[no_nul],
        help_text=_("Why the full number is needed (kept in the audit history)."),
    )


class RevealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    account_number = serializers.CharField(help_text=_("The full number: shown once, audited."))


@extend_schema(
    summary=_("Reveal a full account number (supervisors and administrators; audited)"),
    request=RevealInputSerializer,
    responses={200: RevealSerializer},
)
class AccountRevealApi(GenericAPIView):
    """Every call is recorded in the audit history (who, when, which account, from where);
    another district's account answers 404. The answer is never cached."""

    permission_classes = [*DEFAULT, CanViewSettlementData]
    serializer_class = RevealInputSerializer

    def get_queryset(self):
        return selectors.visible_accounts(self.request.user)

    def post(self, request: Request, pk: int) -> Response:
        account = self.get_object()
        form = RevealInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        number = services.account_number_reveal(
            account=account, by=request.user, reason=form.validated_data.get("reason", "")
        )
        body = {"id": account.pk, "reference": account.reference, "account_number": number}
        return Response(body, headers={"Cache-Control": "no-store"})


# --- Debits and reminders -------------------------------------------------------------------


class DebitSerializer(serializers.ModelSerializer):
    retailer = serializers.IntegerField(source="order.retailer_id", read_only=True)
    cycle = serializers.IntegerField(source="order.cycle_id", read_only=True)

    class Meta:
        model = Debit
        fields = [
            "id",
            "order",
            "retailer",
            "cycle",
            "attempt",
            "idempotency_key",
            "amount",
            "status",
            "bank_reference",
            "message",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


@extend_schema(summary=_("Debit attempts (supervisors and administrators)"))
class DebitListApi(ListAPIView):
    serializer_class = DebitSerializer
    permission_classes = [*DEFAULT, CanViewSettlementData]
    filter_backends = [DjangoFilterBackend]
    filterset_class = DebitFilter
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.visible_debits(self.request.user)


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = BalanceReminder
        fields = [
            "id",
            "retailer",
            "cycle",
            "order_date",
            "expected_amount",
            "balance",
            "balance_as_of",
            "large",
            "help_deposit",
            "send_after",
            "sent_at",
            "helped_at",
        ]
        read_only_fields = fields


@extend_schema(summary=_("Balance reminders of your retailers"))
class ReminderListApi(ListAPIView):
    serializer_class = ReminderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReminderFilter
    ordering = ("-order_date",)

    def get_queryset(self):
        return selectors.visible_reminders(self.request.user)


urlpatterns = [
    path("orders/", OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("settlement-accounts/", AccountListApi.as_view(), name="settlement-account-list"),
    path("settlement-accounts/balances/", BalancePushApi.as_view(), name="balance-push"),
    path(
        "settlement-accounts/<int:pk>/reveal/",
        AccountRevealApi.as_view(),
        name="settlement-account-reveal",
    ),
    path("debits/", DebitListApi.as_view(), name="debit-list"),
    path("balance-reminders/", ReminderListApi.as_view(), name="balance-reminder-list"),
]


# --- The half-year report: sales summary (read-only) -----------------------------------------


class MeasuresSerializer(serializers.Serializer):
    cartons = serializers.IntegerField()
    cases = serializers.DecimalField(max_digits=16, decimal_places=2)
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class ChangeField(serializers.DecimalField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_digits=12, decimal_places=1, allow_null=True, **kwargs)


class SalesRowSerializer(serializers.Serializer):
    id = serializers.SerializerMethodField()
    label = serializers.CharField()
    current = MeasuresSerializer()
    year_before = MeasuresSerializer()
    previous = MeasuresSerializer()
    cartons_yoy = ChangeField()
    cartons_pop = ChangeField()
    cases_yoy = ChangeField()
    cases_pop = ChangeField()
    revenue_yoy = ChangeField()
    revenue_pop = ChangeField()
    share = ChangeField(help_text=_("Per cent of this period's cartons."))

    def get_id(self, row) -> int | None:
        """The branch, district, route, account manager or brand id; the class for a class."""
        return row.key.pk if isinstance(row.key, Brand) else row.key


class DateRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class SalesSummarySerializer(serializers.Serializer):
    period = serializers.CharField(source="comparison.period.code")
    partial = serializers.BooleanField(
        source="comparison.partial",
        help_text=_("The period has not ended: it is counted to date, against the same days."),
    )
    current = DateRangeSerializer(source="comparison.current")
    year_before = DateRangeSerializer(source="comparison.year_before")
    previous = DateRangeSerializer(source="comparison.previous")
    level = serializers.CharField()
    total = SalesRowSerializer()
    rows = SalesRowSerializer(source="by_unit", many=True)
    price_classes = SalesRowSerializer(source="by_class", many=True)
    brands = SalesRowSerializer(source="by_brand", many=True)
    key_brands = SalesRowSerializer()
    low_tar_brands = SalesRowSerializer(source="low_tar")


class SalesSummaryApi(GenericAPIView):
    """Sales of a month or half-year for the retailers you may see, with year-on-year and
    period-on-period change, by branch, district, route or account manager, price class and
    brand (DESIGN §2.6). Revenue is the amount charged (price per carton × cartons)."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = SalesSummaryFilter
    pagination_class = None
    serializer_class = SalesSummarySerializer

    def get_queryset(self):
        return OrderLine.objects.none()  # the parameters only; the figures come from analytics

    @extend_schema(summary=_("Sales summary"), responses={200: SalesSummarySerializer})
    def get(self, request: Request) -> Response:
        filterset = SalesSummaryFilter(request.query_params, queryset=self.get_queryset())
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        params = filterset.form.cleaned_data
        today = timezone.localdate()
        period = (
            analytics.Period.parse(params["period"])
            if params.get("period")
            else analytics.last_complete(analytics.MONTH, today)
        )
        area = None
        if params.get("area"):
            level, _sep, pk = params["area"].partition(":")
            area = analytics.Area(level, int(pk), "")  # scoped like everything: unseen is empty
        brand = None
        if params.get("brand") is not None:
            brand = Brand.objects.filter(pk=params["brand"]).first() or Brand(pk=params["brand"])
        data = analytics.sales_dashboard(
            user=request.user,
            period=period,
            today=today,
            level=params.get("level") or analytics.Level.ROUTE,
            area=area,
            brand=brand,
            price_class=params.get("price_class"),
        )
        return Response(SalesSummarySerializer(data).data)


urlpatterns += [
    path("sales/summary/", SalesSummaryApi.as_view(), name="sales-summary"),
]
