"""Query parameters of ``GET /api/v1/brands/``."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import Brand
from config.api.filters import BooleanFilter, DateTimeFilter, IntegerFilter, TextFilter


class BrandFilter(django_filters.FilterSet):
    price_class = IntegerFilter(min_value=1, max_value=5, label=_("Price class, 1 to 5."))
    is_active = BooleanFilter(label=_("Still sold."))
    is_scarce = BooleanFilter(label=_("Scarce, allocated by points."))
    is_key = BooleanFilter(label=_("Key brand."))
    is_new = BooleanFilter(label=_("New brand."))
    is_low_tar = BooleanFilter(label=_("Low tar."))
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after this time.")
    )
    search = TextFilter(method="filter_search", label=_("Part of the name, or the code's start."))

    class Meta:
        model = Brand
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Brand], name: str, value: str) -> QuerySet[Brand]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__istartswith=value))
