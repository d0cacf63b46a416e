"""``/api/v1/routes/``, ``/districts/`` (scoped to the caller) and ``/cycles/`` (branch-wide)."""

from __future__ import annotations

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from accounts.serializers import UserSummarySerializer
from territory.filters import CycleFilter, RouteFilter
from territory.models import Branch, Cycle, District, Route
from territory.selectors import cycle_list, visible_districts, visible_routes


class RouteSerializer(serializers.ModelSerializer):
    district_code = serializers.CharField(source="district.code", read_only=True)
    account_manager = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Route
        fields = [
            "id",
            "code",
            "name",
            "district",
            "district_code",
            "visit_weekday",
            "delivery_weekday",
            "account_manager",
            "updated_at",
        ]
        read_only_fields = fields


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name"]
        read_only_fields = fields


class DistrictSerializer(serializers.ModelSerializer):
    branch = BranchSerializer(read_only=True)
    supervisor = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = District
        fields = ["id", "code", "name", "branch", "supervisor"]
        read_only_fields = fields


class CycleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cycle
        fields = ["id", "code", "start_date", "end_date", "status"]
        read_only_fields = fields


class RouteListApi(ListAPIView):
    """The routes you may see: your own (account manager), your districts' (supervisor), all."""

    serializer_class = RouteSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RouteFilter
    ordering = ("district__code", "code")

    def get_queryset(self):
        return visible_routes(self.request.user)


class DistrictListApi(ListAPIView):
    """The districts with at least one route you may see."""

    serializer_class = DistrictSerializer
    ordering = ("code",)

    def get_queryset(self):
        return visible_districts(self.request.user)


class CycleListApi(ListAPIView):
    """Ordering and visit cycles, the same for everyone."""

    serializer_class = CycleSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CycleFilter
    ordering = ("start_date",)

    def get_queryset(self):
        return cycle_list()


urlpatterns = [
    path("districts/", DistrictListApi.as_view(), name="district-list"),
    path("routes/", RouteListApi.as_view(), name="route-list"),
    path("cycles/", CycleListApi.as_view(), name="cycle-list"),
]
