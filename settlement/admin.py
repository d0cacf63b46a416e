from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from settlement.models import SettlementAccount, account_number_validator


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
        number = self.cleaned_data.get("new_account_number")
        if number:
            self.instance.account_number = number
            self.instance.account_last4 = number[-4:]
        return super().save(commit=commit)


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

    @admin.display(description=_("account number"))
    def masked_account_number(self, obj: SettlementAccount) -> str:
        return obj.masked_account_number
