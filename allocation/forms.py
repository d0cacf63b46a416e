from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from allocation import selectors
from allocation.models import STARS
from allocation.services import SupplyParams
from catalog.models import Brand
from config.errors import ApplicationError
from retailers.forms import star_choices
from retailers.selectors import UNRATED
from territory.models import CycleStatus
from territory.selectors import cycle_list, visible_routes

MAX_CARTONS = 10_000_000


def apply_errors(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's field messages on the form's fields, the rest above the form."""
    if not exc.extra:
        form.add_error(None, exc.message)
    for name, messages in exc.extra.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def _cartons(label, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=label, max_value=MAX_CARTONS, **kwargs)


class SupplyForm(forms.Form):
    """A supply's parameters; the rules that relate them are the service's (DESIGN §4)."""

    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None)
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None)
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=None)
    quantity = _cartons(_("Quantity (cartons)"))
    unit = _cartons(_("Allocation unit (cartons)"), initial=1)
    min_star = forms.TypedChoiceField(
        label=_("Minimum star"), coerce=int, choices=[(s, f"{s}★") for s in STARS], initial=1
    )
    cap_star_5 = _cartons(_("Cap for 5★"), required=False)
    cap_star_4 = _cartons(_("Cap for 4★"), required=False)
    cap_star_3 = _cartons(_("Cap for 3★"), required=False)
    cap_star_2 = _cartons(_("Cap for 2★"), required=False)
    cap_star_1 = _cartons(_("Cap for 1★"), required=False)
    minimum = _cartons(_("Guaranteed minimum (cartons)"), initial=0)
    violation_cycles = forms.IntegerField(
        label=_("Cycles a violation excludes"), initial=3, max_value=52
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user: User, supply=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.supply = supply
        if supply is not None:
            # Branch, cycle and brand say which supply this is; they do not change.
            for name in ("branch", "cycle", "brand"):
                del self.fields[name]
            return
        branches = selectors.manageable_branches(user).order_by("code")
        self.fields["branch"].queryset = branches
        self.fields["branch"].empty_label = None
        if len(branches) == 1:
            self.fields["branch"].widget = forms.HiddenInput()
            self.fields["branch"].initial = branches[0].pk
        self.fields["cycle"].queryset = (
            cycle_list().exclude(status=CycleStatus.CLOSED).order_by("start_date")
        )
        self.fields["cycle"].empty_label = None
        brands = Brand.objects.filter(is_active=True).order_by("-is_scarce", "price_class", "code")
        self.fields["brand"].queryset = brands
        self.fields["brand"].empty_label = None
        self.fields["brand"].label_from_instance = lambda b: (
            f"{b.name} · {_('scarce')}" if b.is_scarce else b.name
        )

    def params(self) -> SupplyParams:
        data = self.cleaned_data
        return SupplyParams(
            quantity=data["quantity"],
            unit=data["unit"],
            min_star=data["min_star"],
            caps={star: data[f"cap_star_{star}"] for star in STARS},
            minimum=data["minimum"],
            violation_cycles=data["violation_cycles"],
        )


class RunRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to supersede an approved or published run."),
    )


class CycleForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycle_list().order_by("-start_date")
        self.fields["cycle"].empty_label = None


SHOW_CHOICES = [
    ("", _("All lines")),
    ("awarded", _("Awarded")),
    ("eligible", _("Eligible")),
    ("capped", _("Capped")),
    ("ineligible", _("Not eligible")),
]


class LineFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or licence"), max_length=100, required=False)
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    star = forms.ChoiceField(label=_("Star"), required=False)
    show = forms.ChoiceField(label=_("Show"), choices=SHOW_CHOICES, required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].empty_label = _("All routes")
        self.fields["route"].label_from_instance = lambda r: f"{r.district.name} · {r.code}"
        self.fields["star"].choices = star_choices(blank=_("Any star"))

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def clean_star(self):
        value = self.cleaned_data["star"]
        if value in ("", None):
            return None
        return UNRATED if value == UNRATED else int(value)
