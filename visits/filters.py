"""Query parameters of ``GET /api/v1/visits/``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from config.api.filters import BooleanFilter, DateTimeFilter, IntegerFilter, TextFilter
from visits.models import Visit


class VisitFilter(django_filters.FilterSet):
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))
    account_manager = IntegerFilter(field_name="account_manager_id", label=_("Account manager id."))
    route = IntegerFilter(field_name="route_id", label=_("Route id (at the visit)."))
    cycle = TextFilter(
        field_name="cycle__code", max_length=20, label=_("Cycle code, e.g. 2026-W48.")
    )
    is_open = BooleanFilter(method="filter_open", label=_("Checked in but not checked out yet."))
    checked_in_since = DateTimeFilter(
        field_name="checked_in_at", lookup_expr="gte", label=_("Checked in at or after this time.")
    )
    checked_in_before = DateTimeFilter(
        field_name="checked_in_at", lookup_expr="lt", label=_("Checked in before this time.")
    )
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after this time.")
    )

    class Meta:
        model = Visit
        fields: list[str] = []

    def filter_open(self, queryset: QuerySet[Visit], name: str, value: bool) -> QuerySet[Visit]:
        if value is None:
            return queryset
        return queryset.filter(checked_out_at__isnull=value)
