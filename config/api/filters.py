"""Strict django-filter filters: malformed input is a 400 naming the parameter, never ignored.

django-filter's stock filters are lenient in ways an API should not be (``NumberFilter``
accepts ``1.5`` for an id, ``BooleanFilter`` treats ``maybe`` as "no filter", datetimes may
overflow when converted). These reject such input, and each carries its exact OpenAPI schema
(bounds, ``maxLength``, no NUL), so the documented parameters and the accepted ones agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field

from config.api.schema import NO_NUL_PATTERN

#: PostgreSQL's largest ``bigint``: larger ids cannot exist, and would be a database error.
MAX_ID = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}")


BLANK = _("Give a value, or leave this parameter out.")


def _absent(value: Any) -> bool:
    """``None`` when the parameter is absent; ``?x=`` (present but empty) is an error."""
    if value is None:
        return True
    if value == "":
        raise forms.ValidationError(BLANK, code="blank")
    return False


class StrictIntegerField(forms.IntegerField):
    """Digits only: no ``1.0``, ``1_000``, ``١`` or ``1e3``."""

    def to_python(self, value: Any) -> int | None:
        if _absent(value):
            return None
        text = str(value).strip()
        if not _INTEGER.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class StrictBooleanField(forms.Field):
    default_error_messages = {"invalid": _("Enter true or false.")}
    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})

    def to_python(self, value: Any) -> bool | None:
        if _absent(value):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictDateTimeField(forms.Field):
    """An ISO 8601 / RFC 3339 date and time; without an offset it is the branch's local time."""

    default_error_messages = {
        "invalid": _("Enter a date and time such as 2026-01-31T08:00:00+08:00."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if _absent(value):
            return None
        text = str(value).strip()
        if len(text) > 40:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(text) > 10 and text[10] in "t ":
            text = f"{text[:10]}T{text[11:]}"
        if text[-1:] == "z":
            text = f"{text[:-1]}Z"
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                raise ValueError(text)
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            # Normalise to UTC now: an offset at the edge of the calendar overflows here, not
            # later in a query.
            return parsed.astimezone(dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class StrictDateField(forms.DateField):
    def to_python(self, value: Any) -> dt.date | None:
        if _absent(value):
            return None
        return super().to_python(value)


class StrictChoiceField(forms.ChoiceField):
    def to_python(self, value: Any) -> str:
        if _absent(value):
            return ""
        return str(value)


def _schema(filter_: django_filters.Filter, schema: dict[str, Any]) -> None:
    label = filter_._label  # the label given, if any: it documents the parameter
    extend_schema_field({**schema, "description": label} if label else schema)(filter_)


class IntegerFilter(django_filters.Filter):
    """An integer (usually an id) from ``min_value`` to ``max_value``."""

    field_class = StrictIntegerField

    def __init__(self, *args: Any, min_value: int = 1, max_value: int = MAX_ID, **kwargs: Any):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        _schema(self, {"type": "integer", "minimum": min_value, "maximum": max_value})


class BooleanFilter(django_filters.Filter):
    """``true``/``false`` (or ``1``/``0``); anything else is a 400."""

    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _schema(self, {"type": "boolean"})


class DateTimeFilter(django_filters.Filter):
    field_class = StrictDateTimeField

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _schema(self, {"type": "string", "format": "date-time"})


class DateFilter(django_filters.DateFilter):
    """A date as ``YYYY-MM-DD`` only (no locale formats)."""

    field_class = StrictDateField

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, input_formats=["%Y-%m-%d"], **kwargs)
        _schema(self, {"type": "string", "format": "date"})


class TextFilter(django_filters.CharFilter):
    """Free text of at most ``max_length`` characters, without NUL.

    Kept as sent (``strip=False``) so that the documented ``maxLength`` is the one enforced;
    a filter method strips it if spaces do not matter.
    """

    def __init__(self, *args: Any, max_length: int = 100, **kwargs: Any):
        super().__init__(*args, max_length=max_length, strip=False, **kwargs)
        _schema(self, {"type": "string", "maxLength": max_length, "pattern": NO_NUL_PATTERN})


class ChoiceFilter(django_filters.ChoiceFilter):
    """One of ``choices``; the schema lists them as an enum."""

    field_class = StrictChoiceField


class OrderingFilter(django_filters.OrderingFilter):
    """``?ordering=name,-star``: each value is a documented key, ``-`` for descending.

    ``expand`` lets one key stand for several fields, e.g. ``{"route": ("route__code",
    "stop_order")}``. Cursor pagination appends the primary key to whatever is chosen.
    """

    def __init__(self, *args: Any, expand: dict[str, tuple[str, ...]] | None = None, **kwargs):
        self.expand = expand or {}
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        terms: list[str] = []
        for param in value:
            descending = param.startswith("-")
            key = param.lstrip("-")
            fields = self.expand.get(key) or (self.param_map[key],)
            terms += [f"-{field}" if descending else field for field in fields]
        return qs.order_by(*terms)


class _SharedFields(dict):
    """A form's ``base_fields`` that every instance uses as they are: ``Form.__init__``
    deep-copies its fields for each instance (to let it change them), which for a filter set
    costs more than validating the query string. The fields are not changed by cleaning."""

    def __deepcopy__(self, memo: dict) -> _SharedFields:
        return self


@functools.cache
def _filter_form(filterset_class: type[django_filters.FilterSet]):
    """The filter set's form class, built once, and a filter set to filter with."""
    filterset = filterset_class()
    form_class = filterset.get_form_class()
    form_class.base_fields = _SharedFields(form_class.base_fields)
    return form_class, filterset


def clean_filters(filterset_class: type[django_filters.FilterSet], data: Any) -> dict[str, Any]:
    """The filter set's ``cleaned_data`` for the query string ``data``, or the 400 that
    ``DjangoFilterBackend`` would raise (the same form, the same messages), without building
    a filter set and its form's fields on every request."""
    form_class, _filterset = _filter_form(filterset_class)
    form = form_class(data)
    if not form.is_valid():
        raise translate_validation(form.errors)
    return form.cleaned_data


def apply_filters(
    filterset_class: type[django_filters.FilterSet], queryset: QuerySet, cleaned: dict[str, Any]
) -> QuerySet:
    """``queryset`` filtered by ``cleaned`` (from ``clean_filters``), as
    ``FilterSet.filter_queryset`` does."""
    filters = _filter_form(filterset_class)[1].filters
    for name, value in cleaned.items():
        queryset = filters[name].filter(queryset, value)
    return queryset
