from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Grade, User
from retailers.models import RATED_STARS, BusinessType, RetailerStatus
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


# --- Re-rating, override, grades -------------------------------------------------------------


class ThresholdsForm(forms.Form):
    """Minimum points and cartons over the last quarter for 5★ to 2★ (below 2★: 1★)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for star in RATED_STARS:
            self.fields[f"points_{star}"] = forms.IntegerField(
                label=_("%(star)s★ minimum points") % {"star": star},
                min_value=0,
                max_value=2_000_000_000,
            )
            self.fields[f"cartons_{star}"] = forms.IntegerField(
                label=_("%(star)s★ minimum cartons") % {"star": star},
                min_value=0,
                max_value=2_000_000_000,
            )

    @property
    def thresholds(self) -> dict[int, tuple[int, int]]:
        data = self.cleaned_data
        return {s: (data[f"points_{s}"], data[f"cartons_{s}"]) for s in RATED_STARS}

    def rows(self):
        return [(s, self[f"points_{s}"], self[f"cartons_{s}"]) for s in RATED_STARS]


class ProposalFilterForm(forms.Form):
    movement = forms.ChoiceField(
        label=_("Movement"),
        required=False,
        choices=[
            ("", _("Everyone")),
            ("up", _("Moving up")),
            ("down", _("Moving down")),
            ("same", _("Unchanged")),
        ],
    )
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    q = forms.CharField(label=_("Name or licence"), max_length=100, required=False)

    def __init__(self, *args, district, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = district.routes.order_by("code")
        self.fields["route"].empty_label = _("All routes")

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


class StarOverrideForm(forms.Form):
    star = forms.ChoiceField(label=_("New star"), choices=())
    reason = forms.CharField(
        label=_("Reason (required, kept in the star history)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["star"].choices = star_choices(blank=_("Choose"))[1:]

    def clean_star(self) -> int | None:
        value = self.cleaned_data["star"]
        return None if value == UNRATED else int(value)


class EvaluationForm(forms.Form):
    period_start = forms.DateField(
        label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Period to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    score = forms.IntegerField(label=_("Score (0–100)"), min_value=0, max_value=100)
    grade = forms.ChoiceField(label=_("Resulting grade"), choices=Grade.choices)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
