from django.contrib import admin

from config.models import AuditEntry, DeadLetter, Heartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the workers only: operators look, and may delete what they have dealt with."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "task_name", "task_id", "retries", "deliveries", "hostname")
    list_filter = ("task_name",)
    search_fields = ("task_id", "task_name")
    date_hierarchy = "recorded_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "at", "hostname")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit history is never edited, nor deleted here."""

    list_display = ("at", "actor_name", "action", "target_label", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_label", "target_id", "reason")
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
