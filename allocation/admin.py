from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from allocation import selectors, services
from allocation.models import (
    AllocationRun,
    PointsComputation,
    PointsRule,
    RunEvent,
    ScarceSupply,
    SupplyRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by the services (points job, run lifecycle): the admin just shows it."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PointsRule)
class PointsRuleAdmin(admin.ModelAdmin):
    list_display = (
        "effective_from",
        "weight_class_1",
        "weight_class_2",
        "weight_class_3",
        "weight_class_4",
        "weight_class_5",
        "bonus_per_cycle_ordered",
        "bonus_per_online_carton",
        "bonus_per_new_brand_carton",
    )
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PointsComputation)
class PointsComputationAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "weights", "retailers", "total_points", "computed_at", "computed_by")


@admin.register(ScarceSupply)
class ScarceSupplyAdmin(ReadOnlyAdmin):
    list_display = ("cycle", "brand", "branch", "quantity", "unit", "min_star", "minimum")
    list_filter = ("cycle", "branch")
    list_select_related = ("cycle", "brand", "branch")


class SupplyRequestForm(forms.ModelForm):
    class Meta:
        model = SupplyRequest
        fields = ("supply", "retailer", "cartons")

    def clean(self):
        data = super().clean()
        supply, retailer = data.get("supply"), data.get("retailer")
        if supply and retailer and not selectors.is_branch_retailer(retailer, supply.branch):
            raise forms.ValidationError(_("This retailer is not in the supply's branch."))
        return data


@admin.register(SupplyRequest)
class SupplyRequestAdmin(admin.ModelAdmin):
    """Requested quantities (DESIGN §4: the cap is lowered to them), recorded by the service."""

    form = SupplyRequestForm
    list_display = ("supply", "retailer", "cartons", "recorded_by", "recorded_at")
    list_select_related = ("supply__cycle", "supply__brand", "retailer")
    autocomplete_fields = ("retailer",)

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = services.supply_request_record(
            supply=obj.supply, retailer=obj.retailer, cartons=obj.cartons, by=request.user
        ).pk


class RunEventInline(admin.TabularInline):
    model = RunEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "by", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "supply",
        "number",
        "status",
        "allocated",
        "unallocated",
        "requested_at",
        "approved_by",
        "published_by",
    )
    list_filter = ("status", "supply__cycle")
    list_select_related = ("supply__cycle", "supply__brand", "approved_by", "published_by")
    inlines = [RunEventInline]
    exclude = ("caps",)
    readonly_fields = ("caps_display",)

    @admin.display(description=_("caps by star"))
    def caps_display(self, obj) -> str:
        return ", ".join(f"{s}★ {c}" for s, c in obj.caps_by_star.items() if c is not None)
