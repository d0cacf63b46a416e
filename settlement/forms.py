from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalog.models import Brand
from retailers.models import RetailerStatus
from retailers.selectors import visible_retailers
from settlement.models import OrderChannel, OrderStatus
from settlement.services import MAX_CARTONS_PER_LINE
from territory.models import Cycle, CycleStatus
from territory.selectors import visible_districts, visible_routes


def _cycle_label(cycle: Cycle) -> str:
    return f"{cycle.code} ({cycle.start_date:%m-%d}–{cycle.end_date:%m-%d})"


class OrderForm(forms.Form):
    retailer = forms.ModelChoiceField(label=_("Retailer"), queryset=None)
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None)
    channel = forms.ChoiceField(label=_("Channel"), choices=OrderChannel.choices)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        retailers = (
            visible_retailers(user)
            .filter(status=RetailerStatus.ACTIVE)
            .select_related("route")
            .order_by("route__code", "stop_order", "pk")
        )
        self.fields["retailer"].queryset = retailers
        self.fields["retailer"].label_from_instance = lambda r: (
            f"{r.route.code}-{r.stop_order} {r.name} ({r.licence_number})"
        )
        self.fields["cycle"].queryset = Cycle.objects.exclude(status=CycleStatus.CLOSED).order_by(
            "start_date"
        )
        self.fields["cycle"].label_from_instance = _cycle_label


class OrderLineForm(forms.Form):
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=None, required=False)
    cartons = forms.IntegerField(
        label=_("Cartons"),
        required=False,
        min_value=1,
        max_value=MAX_CARTONS_PER_LINE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, brands=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands
        self.fields["brand"].label_from_instance = lambda b: f"{b.name} · {b.code}"

    def clean(self):
        cleaned = super().clean()
        brand, cartons = cleaned.get("brand"), cleaned.get("cartons")
        if brand and cartons is None and "cartons" not in self.errors:
            self.add_error("cartons", _("Enter the number of cartons."))
        if cartons is not None and brand is None and "brand" not in self.errors:
            self.add_error("brand", _("Choose a brand."))
        return cleaned


class BaseOrderLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs) -> None:
        self.brands = Brand.objects.filter(is_active=True).order_by("price_class", "name")
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "brands": self.brands}

    def clean(self):
        if any(self.errors):
            return
        brands = [f.cleaned_data["brand"] for f in self.forms if f.cleaned_data.get("brand")]
        if not brands:
            raise forms.ValidationError(_("Enter at least one line."))
        if len(set(brands)) != len(brands):
            raise forms.ValidationError(_("Each brand may appear on one line only."))

    def lines(self) -> list[tuple[Brand, int]]:
        return [
            (f.cleaned_data["brand"], f.cleaned_data["cartons"])
            for f in self.forms
            if f.cleaned_data.get("brand")
        ]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm,
    formset=BaseOrderLineFormSet,
    extra=4,
    max_num=30,
    validate_max=True,
    absolute_max=30,
)


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Retailer or reference"), max_length=100, required=False)
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None, required=False)
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any channel")), *OrderChannel.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *OrderStatus.choices], required=False
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = Cycle.objects.order_by("-start_date")
        self.fields["cycle"].empty_label = _("All cycles")
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].empty_label = _("All routes")
        self.fields["route"].label_from_instance = lambda r: f"{r.district.name} · {r.code}"

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.SETTLEMENT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s bytes; the limit is %(limit)s).")
                % {"size": upload.size, "limit": limit}
            )
        return upload


class CycleForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None, required=False)
    district = forms.ModelChoiceField(label=_("District"), queryset=None, required=False)

    def __init__(self, *args, user: User, cycles, with_district: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles
        self.fields["cycle"].empty_label = None
        self.fields["cycle"].label_from_instance = _cycle_label
        if with_district:
            self.fields["district"].queryset = visible_districts(user).order_by("code")
            self.fields["district"].empty_label = _("All districts")
        else:
            del self.fields["district"]


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )

    def clean_month(self) -> dt.date | None:
        month = self.cleaned_data["month"]
        return month.replace(day=1) if month else None
