from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from catalog.models import Brand
from config.errors import ApplicationError
from retailers.models import RetailerStatus
from retailers.selectors import visible_retailers
from settlement import analytics, imports, services
from settlement.models import BrandGroup, CultivationTarget, OrderChannel, OrderStatus
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
        try:
            imports.check_upload(
                name=upload.name or "",
                content_type=getattr(upload, "content_type", "") or "",
                head=upload.read(8),
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        finally:
            upload.seek(0)
        return upload


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full number?"),
        max_length=200,
        required=False,
    )


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


# --- Analytics (settlement.analytics) ---------------------------------------------------------


class PeriodField(forms.CharField):
    """A month (``2026-10``) or a half-year (``2026-H2``), chosen from a list."""

    default_error_messages = {
        "invalid": _("Choose a month (such as 2026-10) or a half-year (such as 2026-H2).")
    }

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return analytics.Period.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


def area_choices(units: analytics.Units, *, everything) -> list:
    groups: dict[str, list] = {}
    for area in units.areas():
        groups.setdefault(area.level, []).append((area.code, area.label))
    labels = dict(analytics.Level.CHOICES)
    return [("", everything)] + [
        (labels[level], groups[level])
        for level, _label in analytics.Level.CHOICES
        if level in groups
    ]


class AreaField(forms.ChoiceField):
    def __init__(self, *args, units: analytics.Units | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.units = units

    def clean(self, value):
        value = super().clean(value)
        return self.units.area(value) if value else None


class SalesFilterForm(forms.Form):
    period = PeriodField(label=_("Period"), widget=forms.Select)
    level = forms.ChoiceField(label=_("Break down by"), choices=analytics.Level.CHOICES)
    area = AreaField(label=_("Area"), required=False)
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=None, required=False)
    price_class = forms.TypedChoiceField(
        label=_("Price class"),
        choices=[("", _("All classes")), *[(n, str(n)) for n in analytics.PRICE_CLASSES]],
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, units: analytics.Units, today: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        months = analytics.recent_periods(analytics.MONTH, today, 24)
        halves = analytics.recent_periods(analytics.HALF, today, 4)
        period_choices = [
            (_("Half-years"), [(p.code, p.label) for p in halves]),
            (_("Months"), [(p.code, p.label) for p in months]),
        ]
        asked = self.data.get(self.add_prefix("period"), "")
        try:
            extra = analytics.Period.parse(asked) if asked else None
        except ValueError:
            extra = None
        if extra is not None and extra not in (*months, *halves):
            period_choices.insert(0, (_("Chosen"), [(extra.code, extra.label)]))
        self.fields["period"].widget.choices = period_choices
        self.fields["area"].units = units
        self.fields["area"].choices = area_choices(units, everything=_("All I can see"))
        self.fields["brand"].queryset = Brand.objects.order_by("price_class", "code")
        self.fields["brand"].empty_label = _("All brands")
        self.fields["brand"].label_from_instance = lambda b: f"{b.name} · {b.price_class}"


class ChannelFilterForm(forms.Form):
    by = forms.ChoiceField(
        label=_("Per"),
        choices=[(analytics.MONTHS, _("Month")), (analytics.CYCLES, _("Cycle"))],
    )
    end = forms.DateField(
        label=_("Up to"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        error_messages={"invalid": _("Enter a month such as 2026-10.")},
    )
    area = AreaField(label=_("Area"), required=False)

    def __init__(self, *args, units: analytics.Units, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].units = units
        self.fields["area"].choices = area_choices(units, everything=_("All I can see"))

    def clean_end(self) -> dt.date:
        end = self.cleaned_data["end"]
        if not analytics.MIN_YEAR <= end.year <= analytics.MAX_YEAR:
            raise forms.ValidationError(_("Enter a month such as 2026-10."))
        # The series end with the whole month.
        return analytics.add_months(end.replace(day=1), 1) - dt.timedelta(days=1)


class TargetFilterForm(forms.Form):
    manager = forms.ModelChoiceField(label=_("Account manager"), queryset=None, required=False)
    show = forms.ChoiceField(
        label=_("Show"),
        choices=[("current", _("Running today")), ("all", _("All targets"))],
        required=False,
    )

    def __init__(self, *args, managers, with_manager: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if with_manager:
            self.fields["manager"].queryset = managers
            self.fields["manager"].empty_label = _("All account managers")
        else:
            del self.fields["manager"]


def _subject_choices() -> list:
    groups = [(f"group:{value}", label) for value, label in BrandGroup.choices]
    brands = [
        (f"brand:{b.pk}", f"{b.name} · {b.code}")
        for b in Brand.objects.filter(is_active=True).order_by("price_class", "code")
    ]
    return [("", "---------"), (_("Brand groups"), groups), (_("Brands"), brands)]


class TargetForm(forms.Form):
    account_manager = forms.ModelChoiceField(label=_("Account manager"), queryset=None)
    subject = forms.ChoiceField(label=_("Brand or group"))
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    target_retailers = forms.IntegerField(
        label=_("Retailers carrying"),
        required=False,
        min_value=1,
        max_value=services.MAX_TARGET_RETAILERS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    target_cartons = forms.IntegerField(
        label=_("Cartons"),
        required=False,
        min_value=1,
        max_value=services.MAX_TARGET_CARTONS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, managers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = managers
        self.fields["subject"].choices = _subject_choices()

    @staticmethod
    def initial_for(target: CultivationTarget) -> dict:
        subject = f"brand:{target.brand_id}" if target.brand_id else f"group:{target.brand_group}"
        return {
            "account_manager": target.account_manager_id,
            "subject": subject,
            "start_date": target.start_date,
            "end_date": target.end_date,
            "target_retailers": target.target_retailers,
            "target_cartons": target.target_cartons,
        }

    def target_input(self) -> services.TargetInput:
        data = self.cleaned_data
        kind, _sep, value = data["subject"].partition(":")
        brand = Brand.objects.get(pk=int(value)) if kind == "brand" else None
        return services.TargetInput(
            account_manager=data["account_manager"],
            brand=brand,
            brand_group=value if kind == "group" else "",
            start_date=data["start_date"],
            end_date=data["end_date"],
            target_retailers=data["target_retailers"],
            target_cartons=data["target_cartons"],
        )
