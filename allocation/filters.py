"""Query parameters of the allocation API (strict: malformed values are 400s)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from allocation.models import AllocationLine, AllocationRun, RunStatus
from config.api.filters import BooleanFilter, ChoiceFilter, IntegerFilter


class RunFilter(django_filters.FilterSet):
    cycle = IntegerFilter(field_name="supply__cycle_id", label=_("Cycle id."))
    brand = IntegerFilter(field_name="supply__brand_id", label=_("Brand id."))
    supply = IntegerFilter(field_name="supply_id", label=_("Supply id."))
    status = ChoiceFilter(choices=RunStatus.choices, label=_("Run status."))

    class Meta:
        model = AllocationRun
        fields: list[str] = []


class LineFilter(django_filters.FilterSet):
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))
    eligible = BooleanFilter(label=_("Eligible for this supply."))
    awarded = BooleanFilter(method="filter_awarded", label=_("Awarded at least one carton."))

    class Meta:
        model = AllocationLine
        fields: list[str] = []

    def filter_awarded(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(award__gt=0) if value else queryset.filter(award=0)
