from django.contrib import admin
from django.utils import timezone

from retailers import services
from retailers.models import (
    RatingProposal,
    RatingThreshold,
    Retailer,
    StarChange,
    StatusChange,
    Violation,
)


class StarChangeInline(admin.TabularInline):
    model = StarChange
    extra = 0
    can_delete = False
    fields = ("effective_from", "star", "source", "reason", "changed_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StatusChangeInline(StarChangeInline):
    model = StatusChange
    fields = ("effective_from", "status", "reason", "changed_by", "created_at")
    readonly_fields = fields


class ViolationInline(admin.TabularInline):
    model = Violation
    extra = 0
    fields = ("occurred_on", "kind", "description", "recorded_by")
    readonly_fields = ("recorded_by",)


@admin.register(Retailer)
class RetailerAdmin(admin.ModelAdmin):
    list_display = (
        "licence_number",
        "name",
        "route",
        "stop_order",
        "star",
        "status",
        "business_type",
        "integrity_level",
        "payment_method",
        "ordering_channel",
        "needs_assistance",
    )
    list_filter = (
        "status",
        "star",
        "business_type",
        "integrity_level",
        "payment_method",
        "ordering_channel",
        "needs_assistance",
        "is_standard_store",
        "is_demonstration_store",
        "route__district",
    )
    search_fields = ("licence_number", "name", "owner_name", "phone", "address")
    list_select_related = ("route", "route__district")
    raw_id_fields = ("route",)
    inlines = (StarChangeInline, StatusChangeInline, ViolationInline)
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        # Stars are locked between re-ratings (DESIGN §2.6): a new retailer gets its first
        # star here; later ones come from a re-rating or the supervisor's override page.
        if obj is None:
            return ("created_at", "updated_at")
        return ("star", "created_at", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        # Star and status carry dated history: route them through the services that keep it.
        if not change:
            super().save_model(request, obj, form, change)
            services.retailer_record_initial_history(retailer=obj, by=request.user)
            return
        previous = Retailer.objects.get(pk=obj.pk)
        new_status = obj.status
        obj.star, obj.status = previous.star, previous.status
        super().save_model(request, obj, form, change)
        today = timezone.localdate()
        if new_status != previous.status:
            services.retailer_change_status(
                retailer=obj,
                status=new_status,
                effective_from=today,
                by=request.user,
                reason="admin",
            )

    def save_formset(self, request, form, formset, change) -> None:
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, Violation) and instance.recorded_by_id is None:
                instance.recorded_by = request.user
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


@admin.register(RatingProposal)
class RatingProposalAdmin(admin.ModelAdmin):
    """Proposals are made by the job and decided on the supervisor's page; here only read."""

    list_display = (
        "district",
        "quarter_start",
        "status",
        "retailers",
        "moving_up",
        "moving_down",
        "decided_by",
    )
    list_filter = ("status", "quarter_start")
    list_select_related = ("district", "decided_by")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RatingThreshold)
class RatingThresholdAdmin(RatingProposalAdmin):
    list_display = ("district", "star", "min_points", "min_cartons", "updated_by", "updated_at")
    list_filter = ("star",)
    list_select_related = ("district", "updated_by")
