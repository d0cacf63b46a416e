from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalog.models import Brand
from retailers.selectors import visible_retailers
from settlement.forms import ChannelFilterForm
from territory.models import Cycle
from territory.selectors import visible_districts, visible_routes
from visits.models import (
    MAX_CARTONS,
    MAX_EMERGENCY_CARTONS,
    MAX_FOLLOW_UPS,
    MAX_SALES_CARTONS,
    FocusActivity,
    FollowUp,
    ServicePolicy,
)
from visits.services import StockInput, price_bounds


def brand_choices():
    return Brand.objects.filter(is_active=True).order_by("-is_key", "price_class", "code")


class CheckInForm(forms.Form):
    """Optional position from the browser's Geolocation API; check-in works without it."""

    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=9,
        decimal_places=6,
        widget=forms.HiddenInput,
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=9,
        decimal_places=6,
        widget=forms.HiddenInput,
    )

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data


class CheckOutForm(forms.Form):
    activities = forms.MultipleChoiceField(
        label=_("Focus activities done"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    feedback = forms.CharField(
        label=_("Retailer feedback and suggestions"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_ups = forms.CharField(
        label=_("Follow-ups for the next visit"),
        help_text=_("One per line, at most %(n)s.") % {"n": MAX_FOLLOW_UPS},
        required=False,
        max_length=1200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    left_at = forms.TimeField(
        label=_("Left at"),
        help_text=_("Only if you forgot to check out when you left; otherwise now."),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def __init__(
        self, *args, policy: ServicePolicy | None, open_follow_ups: list[FollowUp], **kwargs
    ):
        super().__init__(*args, **kwargs)
        checklist = policy.activities if policy else []
        self.fields["activities"].choices = [(a, FocusActivity(a).label) for a in checklist]
        self.follow_up_fields = []
        for follow_up in open_follow_ups:
            done, outcome = f"done_{follow_up.pk}", f"outcome_{follow_up.pk}"
            self.fields[done] = forms.BooleanField(label=follow_up.text, required=False)
            self.fields[outcome] = forms.CharField(
                label=_("Outcome"), required=False, max_length=200
            )
            self.follow_up_fields.append((follow_up, self[done], self[outcome]))

    def clean_follow_ups(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["follow_ups"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_FOLLOW_UPS:
            raise forms.ValidationError(_("At most %(n)s follow-ups.") % {"n": MAX_FOLLOW_UPS})
        for number, line in enumerate(lines, start=1):
            if len(line) > 200:
                raise forms.ValidationError(
                    _("Line %(n)s: at most 200 characters.") % {"n": number}
                )
        return lines

    def done_follow_ups(self) -> dict[int, str]:
        return {
            follow_up.pk: self.cleaned_data.get(f"outcome_{follow_up.pk}", "")
            for follow_up, _done, _outcome in self.follow_up_fields
            if self.cleaned_data.get(f"done_{follow_up.pk}")
        }

    def left_at_datetime(self, checked_in_at: dt.datetime) -> dt.datetime | None:
        left = self.cleaned_data.get("left_at")
        if left is None:
            return None
        day = timezone.localdate(checked_in_at)
        return timezone.make_aware(dt.datetime.combine(day, left))


class StockForm(forms.Form):
    """One brand's volume, price and stock (量、价、存) seen at the counter."""

    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.none())
    cartons_on_hand = forms.IntegerField(
        label=_("Stock (cartons)"), min_value=0, max_value=MAX_CARTONS
    )
    retail_price = forms.DecimalField(
        label=_("Price per carton"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
    )
    sales_last_cycle = forms.IntegerField(
        label=_("Sold last cycle"),
        required=False,
        min_value=0,
        max_value=MAX_SALES_CARTONS,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brand_choices()
        self.fields["brand"].empty_label = _("Brand…")

    def clean(self):
        data = super().clean()
        brand, price = data.get("brand"), data.get("retail_price")
        if brand is not None and price is not None:
            low, high = price_bounds(brand)
            if not low <= price <= high:
                self.add_error(
                    "retail_price",
                    _("For %(brand)s a retail price per carton is between %(low)s and %(high)s.")
                    % {"brand": brand.name, "low": low, "high": high},
                )
        return data


class BaseStockFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            brand = form.cleaned_data.get("brand") if form.has_changed() else None
            if brand is None:
                continue
            if brand.pk in seen:
                raise forms.ValidationError(_("%(brand)s is listed twice.") % {"brand": brand.name})
            seen.add(brand.pk)

    def stock_inputs(self) -> list[StockInput]:
        return [
            StockInput(
                brand=form.cleaned_data["brand"],
                cartons_on_hand=form.cleaned_data["cartons_on_hand"],
                retail_price=form.cleaned_data.get("retail_price"),
                sales_last_cycle=form.cleaned_data.get("sales_last_cycle"),
            )
            for form in self.forms
            if form.has_changed() and form.cleaned_data.get("brand") is not None
        ]


StockFormSet = forms.formset_factory(
    StockForm, formset=BaseStockFormSet, extra=3, max_num=10, validate_max=True, absolute_max=10
)


class EmergencyRequestForm(forms.Form):
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.none())
    cartons = forms.IntegerField(label=_("Cartons"), min_value=1, max_value=MAX_EMERGENCY_CARTONS)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brand_choices()


class PolicyForm(forms.Form):
    visits = forms.IntegerField(label=_("Visits"), min_value=1, max_value=5)
    period_cycles = forms.IntegerField(
        label=_("Every … cycles"),
        min_value=1,
        max_value=4,
        help_text=_("1: the visits are every cycle; 2: every other cycle, and so on."),
    )
    min_stay_minutes = forms.IntegerField(
        label=_("Minimum stay (minutes)"), min_value=1, max_value=240
    )
    activities = forms.MultipleChoiceField(
        label=_("Focus activities"),
        choices=FocusActivity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    emergency_delivery = forms.BooleanField(
        label=_("Emergency delivery"),
        required=False,
        help_text=_("For retailers of this star with integrity level A."),
    )


class CycleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Cycle) -> str:
        return f"{obj.code} ({obj.start_date:%m-%d} – {obj.end_date:%m-%d})"


class PlanFilterForm(forms.Form):
    cycle = CycleChoiceField(label=_("Cycle"), queryset=Cycle.objects.none(), to_field_name="code")
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    day = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = Cycle.objects.order_by("-start_date")
        self.fields["cycle"].empty_label = None
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].empty_label = _("All routes")
        self.fields["route"].label_from_instance = lambda r: f"{r.district.name} · {r.code}"


class PlanRunForm(forms.Form):
    cycle = CycleChoiceField(label=_("Cycle"), queryset=Cycle.objects.none(), to_field_name="code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = Cycle.objects.order_by("-start_date")


class PlanMoveForm(forms.Form):
    day = forms.DateField(label=_("New day"), widget=forms.DateInput(attrs={"type": "date"}))


class PlanAddForm(forms.Form):
    licence_number = forms.CharField(label=_("Retailer licence number"), max_length=20)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        number = data.get("licence_number", "").strip()
        if number:
            data["retailer"] = (
                visible_retailers(self.user)
                .select_related("route__district")
                .filter(licence_number=number)
                .first()
            )
            if data["retailer"] is None:
                self.add_error("licence_number", _("No retailer of yours has this licence number."))
        return data


class ComplianceForm(forms.Form):
    cycle = CycleChoiceField(
        label=_("Cycle"), queryset=Cycle.objects.none(), to_field_name="code", required=False
    )
    district = forms.ModelChoiceField(label=_("District"), queryset=None, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = Cycle.objects.order_by("-start_date")
        self.fields["cycle"].empty_label = None
        self.fields["district"].queryset = visible_districts(user).order_by("code")
        self.fields["district"].empty_label = _("All my districts")

    def clean_cycle(self):
        cycle = self.cleaned_data["cycle"]
        if cycle is None:
            today = timezone.localdate()
            cycles = self.fields["cycle"].queryset
            cycle = cycles.filter(start_date__lte=today).first() or cycles.last()
        if cycle is None:
            raise forms.ValidationError(_("There is no cycle to report on."))
        return cycle


class RetailerSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or licence"), max_length=100, required=False)

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


class StockFilterForm(ChannelFilterForm):
    """The volume, price and stock page: per month or cycle, up to a month, an area, a brand."""

    brand = forms.ModelChoiceField(label=_("Brand"), queryset=None, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = Brand.objects.order_by("price_class", "code")
        self.fields["brand"].empty_label = _("The most observed")
