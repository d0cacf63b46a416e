"""Query parameters of the e-settlement API lists (strict: malformed values are 400s)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from config.api.filters import (
    BooleanFilter,
    ChoiceFilter,
    DateFilter,
    DateTimeFilter,
    IntegerFilter,
    TextFilter,
)
from settlement.models import (
    BalanceReminder,
    Debit,
    DebitStatus,
    Order,
    OrderChannel,
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
