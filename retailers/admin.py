from django.contrib import admin
from django.utils import timezone

from retailers import services
from retailers.models import Retailer, StarChange, StatusChange, Violation


class StarChangeInline(admin.TabularInline):
    model = StarChange
    extra = 0
    can_delete = False
    fields = ("effective_from", "star", "reason", "changed_by", "created_at")
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
    readonly_fields = ("created_at", "updated_at")
    inlines = (StarChangeInline, StatusChangeInline, ViolationInline)
    list_per_page = 50

    def save_model(self, request, obj, form, change) -> None:
        # Star and status carry dated history: route them through the services that keep it.
        if not change:
            super().save_model(request, obj, form, change)
            services.retailer_record_initial_history(retailer=obj, by=request.user)
            return
        previous = Retailer.objects.get(pk=obj.pk)
        new_star, new_status = obj.star, obj.status
        obj.star, obj.status = previous.star, previous.status
        super().save_model(request, obj, form, change)
        today = timezone.localdate()
        if new_star != previous.star:
            services.retailer_change_star(
                retailer=obj,
                star=new_star,
                effective_from=today,
                by=request.user,
                reason="admin",
            )
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
