"""Query parameters of the e-settlement API lists (strict: malformed values are 400s)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from config.api.filters import (
    BLANK,
    BooleanFilter,
    ChoiceFilter,
    DateFilter,
    DateTimeFilter,
    IntegerFilter,
    TextFilter,
)
from settlement import analytics
from settlement.models import (
    BalanceReminder,
    Debit,
    DebitStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    SettlementAccount,
    SettlementAccountStatus,
)


class OrderFilter(django_filters.FilterSet):
    cycle = IntegerFilter(field_name="cycle_id", label=_("Cycle id."))
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))
    route = IntegerFilter(field_name="retailer__route_id", label=_("Route id."))
    channel = ChoiceFilter(choices=OrderChannel.choices, label=_("Ordering channel."))
    status = ChoiceFilter(choices=OrderStatus.choices, label=_("Order status."))
    external_ref = TextFilter(max_length=64, label=_("The ordering platform's reference."))
    ordered_since = DateTimeFilter(
        field_name="ordered_at", lookup_expr="gte", label=_("Ordered at or after this time.")
    )
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after this time.")
    )

    class Meta:
        model = Order
        fields: list[str] = []


class AccountFilter(django_filters.FilterSet):
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))
    reference = TextFilter(max_length=30, label=_("The account reference."))
    status = ChoiceFilter(choices=SettlementAccountStatus.choices, label=_("Account status."))
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after this time.")
    )

    class Meta:
        model = SettlementAccount
        fields: list[str] = []


class DebitFilter(django_filters.FilterSet):
    order = IntegerFilter(field_name="order_id", label=_("Order id."))
    retailer = IntegerFilter(field_name="order__retailer_id", label=_("Retailer id."))
    cycle = IntegerFilter(field_name="order__cycle_id", label=_("Cycle id of the order."))
    status = ChoiceFilter(choices=DebitStatus.choices, label=_("Result of the attempt."))
    created_since = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Requested at or after this time.")
    )

    class Meta:
        model = Debit
        fields: list[str] = []


class ReminderFilter(django_filters.FilterSet):
    cycle = IntegerFilter(field_name="cycle_id", label=_("Cycle id."))
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))
    order_date = DateFilter(label=_("The order day reminded of (YYYY-MM-DD)."))
    large = BooleanFilter(label=_("Large busy retailers, reminded before the order call."))
    help_deposit = BooleanFilter(label=_("Retailers to help deposit."))
    sent = BooleanFilter(method="filter_sent", label=_("Already sent."))

    class Meta:
        model = BalanceReminder
        fields: list[str] = []

    def filter_sent(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(sent_at__isnull=not value)


# --- The half-year report (settlement.analytics) ------------------------------------------------

#: ``YYYY-MM`` or ``YYYY-H1``/``YYYY-H2``, years 2000 to 2100 (``analytics.Period``).
PERIOD_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2]|H[12])$"
#: ``level:id`` of a branch, district, route or account manager.
AREA_PATTERN = r"^(branch|district|route|manager):[1-9][0-9]{0,17}$"


class _PatternField(forms.CharField):
    def __init__(self, *args, pattern: str, message, **kwargs) -> None:
        super().__init__(*args, strip=False, **kwargs)
        self.validators.append(RegexValidator(pattern, message))

    def to_python(self, value):
        if value == "":  # present but empty: a mistake, like the other strict filters
            raise forms.ValidationError(BLANK, code="blank")
        return super().to_python(value)


class PatternFilter(django_filters.Filter):
    """A string matching ``pattern`` (documented as such); anything else is a 400."""

    field_class = _PatternField

    def __init__(self, *args, pattern: str, message, **kwargs) -> None:
        super().__init__(*args, pattern=pattern, message=message, **kwargs)
        label = self._label
        schema = {"type": "string", "pattern": pattern}
        extend_schema_field({**schema, "description": label} if label else schema)(self)

    def filter(self, qs, value):
        return qs  # read by the view


class SalesSummaryFilter(django_filters.FilterSet):
    """The sales summary's parameters; the view reads them (nothing is filtered here)."""

    period = PatternFilter(
        pattern=PERIOD_PATTERN,
        message=_("Give a month (2026-10) or a half-year (2026-H2)."),
        label=_(
            "Month (YYYY-MM) or half-year (YYYY-H1, YYYY-H2); the last full month if left out."
        ),
    )
    level = ChoiceFilter(
        choices=analytics.Level.CHOICES,
        method="keep",
        label=_("What the rows are: branch, district, route (default) or account manager."),
    )
    area = PatternFilter(
        pattern=AREA_PATTERN,
        message=_("Give an area as level:id, such as route:12."),
        label=_("Only this branch, district, route or account manager (level:id)."),
    )
    brand = IntegerFilter(method="keep", label=_("Brand id."))
    price_class = IntegerFilter(
        min_value=1, max_value=5, method="keep", label=_("Price class, 1 to 5.")
    )

    class Meta:
        model = OrderLine
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset
