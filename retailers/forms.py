from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from retailers.models import BusinessType, RetailerStatus
from retailers.selectors import UNRATED
from territory.selectors import visible_districts, visible_routes

EARLIEST_AS_OF = dt.date(2000, 1, 1)


def star_choices(*, blank: str) -> list[tuple[str, str]]:
    return [
        ("", blank),
        *[(str(s), "★" * s) for s in (5, 4, 3, 2, 1)],
        (UNRATED, _("Unrated")),
    ]


class RetailerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or licence"), max_length=100, required=False)
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    star = forms.ChoiceField(label=_("Star"), choices=(), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *RetailerStatus.choices],
        required=False,
    )
    business_type = forms.ChoiceField(
        label=_("Business type"),
        choices=[("", _("Any type")), *BusinessType.choices],
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        routes = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].queryset = routes
        self.fields["route"].empty_label = _("All routes")
        self.fields["route"].label_from_instance = lambda r: f"{r.district.name} · {r.code}"
        self.fields["star"].choices = star_choices(blank=_("Any star"))

    def clean_star(self) -> int | str | None:
        value = self.cleaned_data["star"]
        if value in ("", None):
            return None
        return UNRATED if value == UNRATED else int(value)

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


class DistrictSummaryForm(forms.Form):
    district = forms.ModelChoiceField(label=_("District"), queryset=None, required=False)
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = visible_districts(user).order_by("code")
        self.fields["district"].empty_label = None

    def clean_as_of(self) -> dt.date:
        day = self.cleaned_data["as_of"] or timezone.localdate()
        if day < EARLIEST_AS_OF:
            raise forms.ValidationError(_("Choose a date from 2000 on."))
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day

    def clean_district(self):
        district = self.cleaned_data["district"]
        if district is None:
            district = self.fields["district"].queryset.first()
        if district is None:
            raise forms.ValidationError(_("You have no district to look at."))
        return district
