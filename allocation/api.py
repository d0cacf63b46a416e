"""``/api/v1/allocation/``: allocation runs and their lines, scoped like the pages.

Account managers read the published runs of their branches and the lines of their own
retailers; supervisors (and administrators) also read drafts and every other status.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from allocation import selectors
from allocation.explain import exact, explain, line_quota
from allocation.filters import LineFilter, RunFilter
from allocation.models import AllocationLine, AllocationRun, IneligibleReason


class RunSerializer(serializers.ModelSerializer):
    branch = serializers.CharField(source="supply.branch.code")
    cycle = serializers.IntegerField(source="supply.cycle_id")
    cycle_code = serializers.CharField(source="supply.cycle.code")
    brand = serializers.IntegerField(source="supply.brand_id")
    brand_code = serializers.CharField(source="supply.brand.code")
    brand_name = serializers.CharField(source="supply.brand.name")
    points_cycle_code = serializers.CharField(source="points_cycle.code")
    caps = serializers.SerializerMethodField()
    units_per_point = serializers.CharField(
        help_text=_(
            "The main pass's water level s/P as an exact fraction; empty if every cap was covered."
        )
    )

    class Meta:
        model = AllocationRun
        fields = [
            "id",
            "supply",
            "number",
            "status",
            "branch",
            "cycle",
            "cycle_code",
            "brand",
            "brand_code",
            "brand_name",
            "points_cycle_code",
            "quantity",
            "unit",
            "minimum",
            "min_star",
            "caps",
            "violation_cycles",
            "reason",
            "supersedes",
            "superseded_by",
            "inputs_hash",
            "progress",
            "retailers",
            "eligible",
            "total_points",
            "allocated",
            "unallocated",
            "minimum_allocated",
            "units_per_point",
            "requested_at",
            "finished_at",
            "approved_at",
            "published_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "description": _("Cap in cartons per star (1 to 5); null where none was set."),
            "additionalProperties": {"type": "integer", "nullable": True},
        }
    )
    def get_caps(self, run: AllocationRun) -> dict[str, int | None]:
        return {str(star): cap for star, cap in sorted(run.caps_by_star.items())}


class LineSerializer(serializers.ModelSerializer):
    licence_number = serializers.CharField(source="retailer.licence_number")
    retailer_name = serializers.CharField(source="retailer.name")
    route = serializers.CharField(source="route.code")
    quota = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()
    # Empty for an eligible line: documented as such (schemathesis, tests/test_api_live.py).
    reason = serializers.ChoiceField(
        choices=IneligibleReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = AllocationLine
        fields = [
            "id",
            "run",
            "retailer",
            "licence_number",
            "retailer_name",
            "route",
            "star",
            "points",
            "cap",
            "requested",
            "eligible",
            "reason",
            "minimum_units",
            "quota",
            "floor_units",
            "remainder_rank",
            "capped",
            "award",
            "explanation",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "description": _("The main pass's exact quota in cartons: a decimal or a fraction."),
        }
    )
    def get_quota(self, line: AllocationLine) -> str:
        run = self.context["run"]
        return exact(line_quota(line, run) * run.unit) if line.eligible else "0"

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_explanation(self, line: AllocationLine) -> list[str]:
        return explain(line, self.context["run"])


class RunListApi(ListAPIView):
    """Runs you may see, newest first: published ones, and for supervisors every status."""

    serializer_class = RunSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilter
    ordering = ("-id",)

    def get_queryset(self):
        return selectors.visible_runs(self.request.user)


class RunDetailApi(RetrieveAPIView):
    serializer_class = RunSerializer

    def get_queryset(self):
        return selectors.visible_runs(self.request.user)


class RunLineListApi(ListAPIView):
    """The run's lines for the retailers you may see, in retailer id order."""

    serializer_class = LineSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LineFilter
    ordering = ("retailer_id",)

    def run(self) -> AllocationRun:
        if not hasattr(self, "_run"):
            self._run = get_object_or_404(
                selectors.visible_runs(self.request.user), pk=self.kwargs["pk"]
            )
        return self._run

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no run
            return AllocationLine.objects.none()
        return selectors.run_lines(user=self.request.user, run=self.run()).select_related(
            "retailer", "route"
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "run": self.run()}


urlpatterns = [
    path("allocation/runs/", RunListApi.as_view(), name="allocation-run-list"),
    path("allocation/runs/<int:pk>/", RunDetailApi.as_view(), name="allocation-run-detail"),
    path(
        "allocation/runs/<int:pk>/lines/",
        RunLineListApi.as_view(),
        name="allocation-run-line-list",
    ),
]
