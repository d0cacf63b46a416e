from django.contrib import admin

from visits.models import (
    EmergencyRequest,
    FollowUp,
    ProgramMembership,
    ProgramReview,
    ServicePolicy,
    ServicePolicyChange,
    StockObservation,
    TrainingSession,
    Visit,
    VisitPlan,
)


class ServicePolicyChangeInline(admin.TabularInline):
    model = ServicePolicyChange
    extra = 0
    can_delete = False
    fields = ("changed_at", "changed_by", "before", "after")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServicePolicy)
class ServicePolicyAdmin(admin.ModelAdmin):
    """Read-only here: policies are changed on the policy page, which keeps their history."""

    list_display = (
        "star",
        "visits",
        "period_cycles",
        "min_stay_minutes",
        "emergency_delivery",
        "updated_by",
        "updated_at",
    )
    inlines = (ServicePolicyChangeInline,)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(VisitPlan)
class VisitPlanAdmin(admin.ModelAdmin):
    list_display = ("day", "retailer", "route", "account_manager", "sequence", "star", "source")
    list_filter = ("cycle", "source", "route__district", "day")
    list_select_related = ("retailer", "route", "account_manager")
    search_fields = ("retailer__licence_number", "retailer__name")
    raw_id_fields = ("retailer", "route", "account_manager", "cycle", "moved_by")
    readonly_fields = ("created_at", "moved_at", "moved_by")


class StockObservationInline(admin.TabularInline):
    model = StockObservation
    extra = 0
    raw_id_fields = ("brand",)


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    fk_name = "created_in"
    extra = 0
    fields = ("text", "done_in", "outcome", "done_at")
    raw_id_fields = ("done_in",)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = (
        "checked_in_at",
        "retailer",
        "account_manager",
        "stay_minutes",
        "required_stay_minutes",
        "plan",
    )
    list_filter = ("cycle", "route__district", "star")
    list_select_related = ("retailer", "account_manager")
    search_fields = ("retailer__licence_number", "retailer__name", "notes", "feedback")
    raw_id_fields = ("retailer", "account_manager", "plan", "cycle", "route")
    readonly_fields = ("stay_minutes", "created_at", "updated_at")
    inlines = (StockObservationInline, FollowUpInline)
    date_hierarchy = "checked_in_at"


@admin.register(EmergencyRequest)
class EmergencyRequestAdmin(admin.ModelAdmin):
    list_display = ("requested_at", "retailer", "brand", "cartons", "requested_by")
    list_select_related = ("retailer", "brand", "requested_by")
    raw_id_fields = ("retailer", "visit", "brand", "requested_by")
    search_fields = ("retailer__licence_number", "retailer__name")


# --- Training and terminal programs: read-only, the pages go through the services -------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdmin):
    list_display = ("held_on", "topic", "district", "route", "place", "trainer")
    list_filter = ("topic", "district")
    list_select_related = ("district", "route")


@admin.register(ProgramMembership)
class ProgramMembershipAdmin(ReadOnlyAdmin):
    list_display = ("retailer", "kind", "status", "since", "until")
    list_filter = ("kind", "status", "retailer__route__district")
    list_select_related = ("retailer",)
    search_fields = ("retailer__licence_number", "retailer__name")


@admin.register(ProgramReview)
class ProgramReviewAdmin(ReadOnlyAdmin):
    list_display = ("membership", "reviewed_at", "reviewed_by", "criteria_met", "criteria_total")
    list_select_related = ("membership__retailer", "reviewed_by")
