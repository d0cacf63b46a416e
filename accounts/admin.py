from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, GradeEvaluation, User
from accounts.services import api_token_revoke


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role", "grade", "is_active", "last_login")
    list_filter = ("role", "grade", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email", "phone")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Role"), {"fields": ("full_name", "role", "grade", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Role"), {"fields": ("full_name", "role")}),
    )
    # A grade changes only by an evaluation (accounts.services.grade_evaluation_record).
    readonly_fields = ("grade",)


@admin.register(GradeEvaluation)
class GradeEvaluationAdmin(admin.ModelAdmin):
    """Evaluations are recorded by supervisors on their page; here they are only read."""

    list_display = ("manager", "period_start", "period_end", "score", "grade", "evaluated_by")
    list_filter = ("grade",)
    search_fields = ("manager__username", "manager__full_name")
    list_select_related = ("manager", "evaluated_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their users (POST /api/v1/auth/token/); here they are revoked."""

    list_display = (
        "key_id",
        "user",
        "name",
        "read_only",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("read_only", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("key_id", "name", "user__username", "user__full_name")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "key_id",
        "name",
        "read_only",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    fields = readonly_fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, _("Tokens revoked: %(count)d.") % {"count": len(queryset)})
