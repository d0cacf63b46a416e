"""Query parameters of the territory endpoints."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from config.api.filters import ChoiceFilter, DateFilter, DateTimeFilter, IntegerFilter
from territory.models import Cycle, CycleStatus, Route


class RouteFilter(django_filters.FilterSet):
    district = IntegerFilter(field_name="district", label=_("District id."))
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after this time.")
    )

    class Meta:
        model = Route
        fields: list[str] = []


class CycleFilter(django_filters.FilterSet):
    status = ChoiceFilter(choices=CycleStatus.choices, label=_("Cycle status."))
    date = DateFilter(method="filter_date", label=_("The cycle that contains this day."))

    class Meta:
        model = Cycle
        fields: list[str] = []

    def filter_date(self, queryset: QuerySet[Cycle], name: str, value) -> QuerySet[Cycle]:
        return queryset.filter(start_date__lte=value, end_date__gte=value)
