from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from settlement import services
from settlement.models import (
    BalanceReminder,
    CultivationTarget,
    Debit,
    Order,
    OrderLine,
    Rebate,
    SettlementAccount,
    account_number_validator,
)


class SettlementAccountForm(forms.ModelForm):
    """The account number is write-only here: the form never renders the stored number."""

    new_account_number = forms.CharField(
        label=_("account number"),
        required=False,
        validators=[account_number_validator],
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current number."),
    )

    class Meta:
        model = SettlementAccount
        fields = (
            "retailer",
            "reference",
            "bank_name",
            "account_holder",
            "status",
            "balance",
            "balance_as_of",
            "opened_on",
        )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("new_account_number"):
            self.add_error("new_account_number", _("An account number is required."))
        return cleaned

    def save(self, commit: bool = True):
        # The admin saves through the service (save_model), which sets the number.
        return super().save(commit=False)


@admin.register(SettlementAccount)
class SettlementAccountAdmin(admin.ModelAdmin):
    form = SettlementAccountForm
    list_display = (
        "reference",
        "retailer",
        "bank_name",
        "masked_account_number",
        "balance",
        "balance_as_of",
        "status",
    )
    list_filter = ("status", "bank_name")
    search_fields = ("reference", "retailer__name", "retailer__licence_number", "account_last4")
    list_select_related = ("retailer",)
    raw_id_fields = ("retailer",)
    readonly_fields = ("masked_account_number", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        """Through the service, so that every change is in the audit history."""
        services.settlement_account_save(
            account=obj, by=request.user, new_number=form.cleaned_data.get("new_account_number")
        )

    @admin.display(description=_("account number"))
    def masked_account_number(self, obj: SettlementAccount) -> str:
        return obj.masked_account_number


class ReadOnlyAdmin(admin.ModelAdmin):
    """Orders, debits, reminders and rebates change only through the services (pages, jobs,
    API): the admin shows them and never edits them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ("brand", "cartons", "unit_price", "wholesale_price")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "retailer",
        "cycle",
        "channel",
        "status",
        "e_settlement",
        "total_amount",
        "ordered_at",
    )
    list_filter = ("status", "channel", "e_settlement", "cycle")
    search_fields = ("retailer__name", "retailer__licence_number", "external_ref")
    list_select_related = ("retailer", "cycle")
    raw_id_fields = ("retailer", "entered_by", "rebate")
    inlines = [OrderLineInline]


@admin.register(Debit)
class DebitAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "order", "attempt", "status", "amount", "created_at")
    list_filter = ("status", "attempt")
    search_fields = ("idempotency_key", "order__retailer__name", "bank_reference")
    list_select_related = ("order",)
    raw_id_fields = ("order", "account", "requested_by")


@admin.register(BalanceReminder)
class BalanceReminderAdmin(ReadOnlyAdmin):
    list_display = (
        "retailer",
        "cycle",
        "order_date",
        "expected_amount",
        "balance",
        "large",
        "help_deposit",
        "sent_at",
    )
    list_filter = ("large", "help_deposit", "cycle")
    search_fields = ("retailer__name", "retailer__licence_number")
    list_select_related = ("retailer", "cycle")
    raw_id_fields = ("retailer", "helped_by")


@admin.register(Rebate)
class RebateAdmin(ReadOnlyAdmin):
    list_display = ("retailer", "month", "amount", "orders_count")
    list_filter = ("month",)
    search_fields = ("retailer__name", "retailer__licence_number")
    list_select_related = ("retailer",)
    raw_id_fields = ("retailer",)


@admin.register(CultivationTarget)
class CultivationTargetAdmin(ReadOnlyAdmin):
    """Set and changed on the targets page (``settlement:targets``), where the rules apply."""

    list_display = (
        "account_manager",
        "brand",
        "brand_group",
        "start_date",
        "end_date",
        "target_retailers",
        "target_cartons",
    )
    list_filter = ("brand_group", "end_date")
    list_select_related = ("account_manager", "brand")
