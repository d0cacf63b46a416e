"""Forms of the training and program pages: parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from retailers.selectors import visible_retailers
from territory.selectors import visible_districts, visible_routes
from visits.models import MembershipStatus, ProgramKind, TrainingTopic
from visits.programs.selectors import DEFAULT_STALE_DAYS

DATE = forms.DateInput(attrs={"type": "date"})


class SessionForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=TrainingTopic.choices)
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    place = forms.CharField(label=_("Place"), max_length=100)
    trainer = forms.CharField(label=_("Trainer"), max_length=60)
    district = forms.ModelChoiceField(label=_("District"), queryset=None, required=False)
    route = forms.ModelChoiceField(
        label=_("Route"),
        queryset=None,
        required=False,
        help_text=_("Leave empty for a training of the whole district."),
    )
    notes = forms.CharField(
        label=_("Remarks"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = visible_districts(user).order_by("code")
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].label_from_instance = lambda r: f"{r.district.code} {r.code}"
        if user.is_account_manager and not (user.is_supervisor or user.is_administrator):
            # An account manager trains the retailers of one of their routes.
            del self.fields["district"]
            self.fields["route"].required = True
            self.fields["route"].help_text = ""


class SessionFilterForm(forms.Form):
    topic = forms.ChoiceField(
        label=_("Topic"), choices=[("", _("All topics")), *TrainingTopic.choices], required=False
    )
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].empty_label = _("All routes")


class PeriodForm(forms.Form):
    since = forms.DateField(label=_("From"), widget=DATE, required=False)
    until = forms.DateField(label=_("To"), widget=DATE, required=False)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end is before the start."))
        return data


class ProgramFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Program"), choices=[("", _("All programs")), *ProgramKind.choices], required=False
    )
    route = forms.ModelChoiceField(label=_("Route"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *MembershipStatus.choices],
        required=False,
    )
    stale_days = forms.IntegerField(
        label=_("Not reviewed in (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: every member."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = visible_routes(user).order_by("district__code", "code")
        self.fields["route"].empty_label = _("All routes")


class StaleDaysForm(forms.Form):
    stale_days = forms.IntegerField(
        label=_("Not reviewed in (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": DEFAULT_STALE_DAYS}),
    )

    def clean_stale_days(self) -> int:
        return self.cleaned_data["stale_days"] or DEFAULT_STALE_DAYS


class EnrolForm(forms.Form):
    licence_number = forms.CharField(label=_("Retailer licence number"), max_length=20)
    kind = forms.ChoiceField(label=_("Program"), choices=ProgramKind.choices)
    since = forms.DateField(label=_("Since"), widget=DATE, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        number = data.get("licence_number", "").strip()
        if number:
            data["retailer"] = visible_retailers(self.user).filter(licence_number=number).first()
            if data["retailer"] is None:
                self.add_error("licence_number", _("No retailer of yours has this licence number."))
        return data


class WithdrawForm(forms.Form):
    until = forms.DateField(label=_("Until"), widget=DATE, required=False)
    note = forms.CharField(label=_("Reason"), max_length=200, required=False)


class CriterionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Program"), choices=ProgramKind.choices)
    text = forms.CharField(label=_("Criterion"), max_length=200)


class CriterionEditForm(forms.Form):
    text = forms.CharField(label=_("Criterion"), max_length=200)
    is_active = forms.BooleanField(label=_("In use"), required=False)


class ReviewForm(forms.Form):
    membership = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    criteria = forms.TypedMultipleChoiceField(
        label=_("Criteria met"), coerce=int, required=False, choices=()
    )
    notes = forms.CharField(label=_("Notes"), max_length=200, required=False)

    def __init__(self, *args, criteria_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criteria"].choices = [(pk, pk) for pk in criteria_ids]


MARK_PREFIX = "r-"


def attendance_marks(data) -> dict[int, str]:
    """``r-<retailer id>`` → ``attended``, ``absent`` or empty, from a posted attendance form."""
    marks: dict[int, str] = {}
    for key in data:
        if not key.startswith(MARK_PREFIX):
            continue
        suffix = key[len(MARK_PREFIX) :]
        if not suffix.isascii() or not suffix.isdigit() or len(suffix) > 18:
            raise forms.ValidationError(_("Unknown retailer in the attendance list."))
        marks[int(suffix)] = data.get(key, "").strip()
    return marks
