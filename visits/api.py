"""``/api/v1/visits/``: visits for clients to read, and whole visits posted by mobile clients.

Scoped like the pages: a user sees the visits to the retailers they may see
(``visits.selectors.visible_visits``); only the retailer's account manager may log a visit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Brand
from config.api.filters import MAX_ID
from config.api.permissions import DEFAULT
from config.api.schema import NO_NUL_PATTERN
from retailers.selectors import visible_retailers
from visits import selectors, services
from visits.filters import VisitFilter
from visits.models import (
    MAX_CARTONS,
    MAX_FOLLOW_UPS,
    MAX_SALES_CARTONS,
    FocusActivity,
    FollowUp,
    StockObservation,
    Visit,
)
from visits.programs import api as programs_api

no_nul = RegexValidator(NO_NUL_PATTERN, _("Null characters are not allowed."))


# --- Output -----------------------------------------------------------------------------------


class StockObservationSerializer(serializers.ModelSerializer):
    brand_name = serializers.CharField(source="brand.name", read_only=True)

    class Meta:
        model = StockObservation
        fields = ["brand", "brand_name", "cartons_on_hand", "retail_price", "sales_last_cycle"]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    done = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = ["id", "text", "done", "done_in", "done_at", "outcome"]
        read_only_fields = fields

    def get_done(self, follow_up: FollowUp) -> bool:
        return follow_up.done_in_id is not None


class VisitSerializer(serializers.ModelSerializer):
    retailer_licence_number = serializers.CharField(source="retailer.licence_number")
    retailer_name = serializers.CharField(source="retailer.name")
    account_manager_name = serializers.CharField(source="account_manager.__str__")
    planned = serializers.SerializerMethodField()
    cycle = serializers.SlugRelatedField(slug_field="code", read_only=True)
    route = serializers.SlugRelatedField(slug_field="code", read_only=True)
    stock = StockObservationSerializer(many=True, read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True, source="follow_ups_created")
    follow_ups_done = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "retailer",
            "retailer_licence_number",
            "retailer_name",
            "account_manager",
            "account_manager_name",
            "planned",
            "plan",
            "cycle",
            "route",
            "star",
            "required_stay_minutes",
            "checked_in_at",
            "checked_out_at",
            "stay_minutes",
            "latitude",
            "longitude",
            "activities",
            "notes",
            "feedback",
            "stock",
            "follow_ups",
            "follow_ups_done",
            "updated_at",
        ]
        read_only_fields = fields

    def get_planned(self, visit: Visit) -> bool:
        return visit.plan_id is not None


# --- Input ------------------------------------------------------------------------------------


class StockInputSerializer(serializers.Serializer):
    brand = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Brand id."))
    cartons_on_hand = serializers.IntegerField(min_value=0, max_value=MAX_CARTONS)
    retail_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Per carton; within half and three times the brand's list price."),
    )
    sales_last_cycle = serializers.IntegerField(
        min_value=0, max_value=MAX_SALES_CARTONS, required=False, allow_null=True, default=None
    )

    def validate_brand(self, value: int) -> Brand:
        brand = Brand.objects.filter(pk=value, is_active=True).first()
        if brand is None:
            raise serializers.ValidationError(_("No brand with this id is supplied."))
        return brand


class DoneFollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    outcome = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, validators=[no_nul]
    )


class VisitLogSerializer(serializers.Serializer):
    """A whole visit: check-in and check-out times and what was done."""

    retailer = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Id of a retailer on your routes.")
    )
    checked_in_at = serializers.DateTimeField(help_text=_("At most 30 days ago."))
    checked_out_at = serializers.DateTimeField(
        help_text=_("After the check-in, at most 12 hours later, not in the future.")
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )
    activities = serializers.ListField(
        child=serializers.ChoiceField(choices=FocusActivity.choices),
        max_length=len(FocusActivity.choices),
        required=False,
        default=list,
        help_text=_("From the checklist of the retailer's star."),
    )
    notes = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True, validators=[no_nul]
    )
    feedback = serializers.CharField(
        max_length=2000,
        required=False,
        default="",
        allow_blank=True,
        validators=[no_nul],
        help_text=_("The retailer's feedback and suggestions."),
    )
    stock = StockInputSerializer(many=True, required=False, default=list, max_length=10)
    follow_ups = serializers.ListField(
        child=serializers.CharField(max_length=200, validators=[no_nul]),
        max_length=MAX_FOLLOW_UPS,
        required=False,
        default=list,
        help_text=_("Actions for the next visit."),
    )
    done_follow_ups = DoneFollowUpSerializer(
        many=True,
        required=False,
        default=list,
        max_length=20,
        help_text=_("Open follow-ups of this retailer evaluated at this visit."),
    )

    def validate_retailer(self, value: int):
        retailer = visible_retailers(self.context["request"].user).filter(pk=value).first()
        if retailer is None:
            raise serializers.ValidationError(_("No retailer of yours has this id."))
        return retailer

    def to_service(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data["stock"] = [services.StockInput(**row) for row in data["stock"]]
        data["done_follow_ups"] = {row["id"]: row["outcome"] for row in data["done_follow_ups"]}
        return data


# --- Views ------------------------------------------------------------------------------------


class LogsVisits(BasePermission):
    """Only account managers log visits (reading is for everyone signed in)."""

    message = _("Only account managers log visits.")
    code = "role"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "POST":
            return bool(getattr(request.user, "is_account_manager", False))
        return True


@extend_schema_view(
    get=extend_schema(summary=_("Visits you may see, newest first")),
    post=extend_schema(
        summary=_("Log a whole visit"),
        request=VisitLogSerializer,
        responses={201: VisitSerializer},
    ),
)
class VisitListApi(ListAPIView):
    serializer_class = VisitSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = VisitFilter
    ordering = ("-checked_in_at",)
    permission_classes = [*DEFAULT, LogsVisits]
    parser_classes = [JSONParser]  # a visit has nested lists: JSON only

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user)

    def post(self, request: Request) -> Response:
        form = VisitLogSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        visit = services.visit_log(by=request.user, **form.to_service())
        visit = selectors.visit_list(user=request.user).get(pk=visit.pk)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary=_("One visit")))
class VisitDetailApi(RetrieveAPIView):
    serializer_class = VisitSerializer

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user)

    def get_object(self) -> Visit:
        if not 1 <= self.kwargs["pk"] <= MAX_ID:  # beyond any id: not a database error
            raise NotFound
        return super().get_object()


urlpatterns = [
    path("visits/", VisitListApi.as_view(), name="visit-list"),
    path("visits/<int:pk>/", VisitDetailApi.as_view(), name="visit-detail"),
    *programs_api.urlpatterns,
]
