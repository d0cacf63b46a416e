"""``/api/v1/brands/``: the cigarette catalogue, readable by every signed-in user."""

from __future__ import annotations

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from catalog.filters import BrandFilter
from catalog.models import Brand
from catalog.selectors import brand_list


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = [
            "id",
            "code",
            "name",
            "manufacturer",
            "price_class",
            "wholesale_price",
            "list_price",
            "cartons_per_case",
            "is_low_tar",
            "is_new",
            "is_key",
            "is_scarce",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields


class BrandListApi(ListAPIView):
    """Brands by price class and code; `updated_since` gives what changed since a sync."""

    serializer_class = BrandSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = BrandFilter
    ordering = ("price_class", "code")

    def get_queryset(self):
        return brand_list()


urlpatterns = [
    path("brands/", BrandListApi.as_view(), name="brand-list"),
]
