"""``/api/v1/trainings/`` and ``/api/v1/programs/``: read-only, scoped like the pages.

A training session is listed to whoever may see its route (or, for a district-wide session,
a route of its district), with the attendance of the retailers they may see; a program
membership to whoever may see its retailer (``visits.programs.selectors``).
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView

from config.api.filters import MAX_ID, ChoiceFilter, DateFilter, IntegerFilter
from retailers.selectors import visible_retailers
from visits.models import (
    MembershipStatus,
    ProgramKind,
    ProgramMembership,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
)
from visits.programs import selectors

# --- Trainings --------------------------------------------------------------------------------


class AttendanceSerializer(serializers.ModelSerializer):
    retailer_licence_number = serializers.CharField(source="retailer.licence_number")

    class Meta:
        model = TrainingAttendance
        fields = ["retailer", "retailer_licence_number", "status", "recorded_at"]
        read_only_fields = fields


class TrainingSerializer(serializers.ModelSerializer):
    district_code = serializers.CharField(source="district.code")
    route_code = serializers.CharField(source="route.code", allow_null=True, default=None)
    attended = serializers.SerializerMethodField()
    absent = serializers.SerializerMethodField()
    attendance = AttendanceSerializer(many=True, source="visible_attendance")

    class Meta:
        model = TrainingSession
        fields = [
            "id",
            "topic",
            "held_on",
            "place",
            "trainer",
            "district",
            "district_code",
            "route",
            "route_code",
            "notes",
            "attended",
            "absent",
            "attendance",
        ]
        read_only_fields = fields

    def get_attended(self, session: TrainingSession) -> int:
        return sum(1 for a in session.visible_attendance if a.status == "attended")

    def get_absent(self, session: TrainingSession) -> int:
        return sum(1 for a in session.visible_attendance if a.status == "absent")


class TrainingFilter(django_filters.FilterSet):
    topic = ChoiceFilter(choices=TrainingTopic.choices, label=_("Training topic."))
    district = IntegerFilter(field_name="district_id", label=_("District id."))
    route = IntegerFilter(field_name="route_id", label=_("Route id (district-wide: none)."))
    held_since = DateFilter(field_name="held_on", lookup_expr="gte", label=_("Held on or after."))
    held_until = DateFilter(field_name="held_on", lookup_expr="lte", label=_("Held on or before."))
    retailer = IntegerFilter(method="filter_retailer", label=_("Sessions this retailer attended."))

    class Meta:
        model = TrainingSession
        fields: list[str] = []

    def filter_retailer(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(attendance__retailer_id=value, attendance__status="attended")


def _trainings(request) -> QuerySet[TrainingSession]:
    attendance = (
        TrainingAttendance.objects.filter(retailer__in=visible_retailers(request.user).values("pk"))
        .select_related("retailer")
        .order_by("retailer_id")
    )
    return (
        selectors.visible_sessions(request.user)
        .select_related("district", "route")
        .prefetch_related(Prefetch("attendance", queryset=attendance, to_attr="visible_attendance"))
    )


@extend_schema_view(get=extend_schema(summary=_("Retailer training sessions you may see")))
class TrainingListApi(ListAPIView):
    serializer_class = TrainingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = TrainingFilter
    ordering = ("-held_on",)

    def get_queryset(self):
        return _trainings(self.request)


@extend_schema_view(get=extend_schema(summary=_("One training session")))
class TrainingDetailApi(RetrieveAPIView):
    serializer_class = TrainingSerializer

    def get_queryset(self):
        return _trainings(self.request)

    def get_object(self) -> TrainingSession:
        if not 1 <= self.kwargs["pk"] <= MAX_ID:
            raise NotFound
        return super().get_object()


# --- Programs ---------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    retailer_licence_number = serializers.CharField(source="retailer.licence_number")
    retailer_name = serializers.CharField(source="retailer.name")
    route = serializers.IntegerField(source="retailer.route_id")
    route_code = serializers.CharField(source="retailer.route.code")
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    last_criteria_met = serializers.IntegerField(source="last_met", allow_null=True)
    last_criteria_total = serializers.IntegerField(source="last_total", allow_null=True)

    class Meta:
        model = ProgramMembership
        fields = [
            "id",
            "retailer",
            "retailer_licence_number",
            "retailer_name",
            "route",
            "route_code",
            "kind",
            "status",
            "since",
            "until",
            "last_reviewed_at",
            "last_criteria_met",
            "last_criteria_total",
        ]
        read_only_fields = fields


class MembershipFilter(django_filters.FilterSet):
    kind = ChoiceFilter(choices=ProgramKind.choices, label=_("Program."))
    status = ChoiceFilter(choices=MembershipStatus.choices, label=_("Membership status."))
    route = IntegerFilter(field_name="retailer__route_id", label=_("Route id."))
    retailer = IntegerFilter(field_name="retailer_id", label=_("Retailer id."))

    class Meta:
        model = ProgramMembership
        fields: list[str] = []


def _memberships(request) -> QuerySet[ProgramMembership]:
    return selectors.with_last_review(
        selectors.visible_memberships(request.user).select_related("retailer__route")
    )


@extend_schema_view(
    get=extend_schema(summary=_("Terminal program members you may see, with their last review"))
)
class ProgramListApi(ListAPIView):
    serializer_class = MembershipSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = MembershipFilter
    ordering = ("id",)

    def get_queryset(self):
        return _memberships(self.request)


@extend_schema_view(get=extend_schema(summary=_("One program membership")))
class ProgramDetailApi(RetrieveAPIView):
    serializer_class = MembershipSerializer

    def get_queryset(self):
        return _memberships(self.request)

    def get_object(self) -> ProgramMembership:
        if not 1 <= self.kwargs["pk"] <= MAX_ID:
            raise NotFound
        return super().get_object()


urlpatterns = [
    path("trainings/", TrainingListApi.as_view(), name="training-list"),
    path("trainings/<int:pk>/", TrainingDetailApi.as_view(), name="training-detail"),
    path("programs/", ProgramListApi.as_view(), name="program-list"),
    path("programs/<int:pk>/", ProgramDetailApi.as_view(), name="program-detail"),
]
