from django.contrib import admin

from territory.models import Branch, Cycle, District, Route


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "branch", "supervisor")
    list_filter = ("branch",)
    search_fields = ("code", "name", "supervisor__username", "supervisor__full_name")
    list_select_related = ("branch", "supervisor")


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "district",
        "visit_weekday",
        "delivery_weekday",
        "account_manager",
    )
    list_filter = ("district", "visit_weekday", "account_manager")
    search_fields = ("code", "name", "district__name", "account_manager__username")
    list_select_related = ("district", "account_manager")


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ("code", "start_date", "end_date", "status")
    list_filter = ("status",)
    search_fields = ("code",)
    date_hierarchy = "start_date"
