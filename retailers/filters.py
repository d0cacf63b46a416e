"""Query parameters of ``GET /api/v1/retailers/`` and its export (the same filters)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from config.api.filters import (
    BooleanFilter,
    ChoiceFilter,
    DateTimeFilter,
    IntegerFilter,
    OrderingFilter,
    TextFilter,
)
from retailers.models import (
    BusinessType,
    IntegrityLevel,
    OrderingChannel,
    PaymentMethod,
    Retailer,
    RetailerStatus,
)
from retailers.selectors import UNRATED, search_retailers

STAR_CHOICES = [*((str(star), "★" * star) for star in (1, 2, 3, 4, 5)), (UNRATED, _("Unrated"))]


class RetailerFilter(django_filters.FilterSet):
    route = IntegerFilter(field_name="route", label=_("Route id."))
    district = IntegerFilter(field_name="route__district", label=_("District id."))
    star = ChoiceFilter(
        choices=STAR_CHOICES, method="filter_star", label=_("Star 1 to 5, or unrated.")
    )
    star_min = IntegerFilter(
        field_name="star", lookup_expr="gte", min_value=1, max_value=5, label=_("Lowest star.")
    )
    star_max = IntegerFilter(
        field_name="star", lookup_expr="lte", min_value=1, max_value=5, label=_("Highest star.")
    )
    status = ChoiceFilter(
        choices=RetailerStatus.choices, label=_("Status; every status when left out.")
    )
    business_type = ChoiceFilter(choices=BusinessType.choices, label=_("Business type."))
    integrity_level = ChoiceFilter(choices=IntegrityLevel.choices, label=_("Integrity level."))
    ordering_channel = ChoiceFilter(choices=OrderingChannel.choices, label=_("Ordering channel."))
    e_settlement = BooleanFilter(
        method="filter_e_settlement", label=_("Pays by e-settlement (true) or not (false).")
    )
    updated_since = DateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("Changed at or after this time (for incremental sync)."),
    )
    search = TextFilter(
        method="filter_search", label=_("Part of the name, or the licence number's start.")
    )
    ordering = OrderingFilter(
        fields=(
            ("id", "id"),
            ("licence_number", "licence_number"),
            ("name", "name"),
            ("star", "star"),
            ("updated_at", "updated_at"),
            ("stop_order", "route"),
        ),
        expand={"route": ("route__district__code", "route__code", "stop_order")},
        label=_("Sort order, e.g. `-star,name`; unrated retailers come last. Default: id."),
    )

    class Meta:
        model = Retailer
        fields: list[str] = []

    def filter_star(self, queryset: QuerySet[Retailer], name: str, value: str):
        if value == UNRATED:
            return queryset.filter(star__isnull=True)
        return queryset.filter(star=int(value))

    def filter_e_settlement(self, queryset: QuerySet[Retailer], name: str, value: bool):
        if value:
            return queryset.filter(payment_method=PaymentMethod.E_SETTLEMENT)
        return queryset.exclude(payment_method=PaymentMethod.E_SETTLEMENT)

    def filter_search(self, queryset: QuerySet[Retailer], name: str, value: str):
        value = value.strip()
        return search_retailers(queryset, value) if value else queryset


class RetailerExportFilter(RetailerFilter):
    format = ChoiceFilter(
        choices=[("csv", "CSV"), ("ndjson", "NDJSON")],
        method="choose_format",
        label=_("csv (default) or ndjson (one JSON object per line)."),
    )

    def choose_format(self, queryset: QuerySet[Retailer], name: str, value: str):
        return queryset  # read by the view; it filters nothing
