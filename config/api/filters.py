"""Strict django-filter filters: malformed input is a 400 naming the parameter, never ignored.

django-filter's stock filters are lenient in ways an API should not be (``NumberFilter``
accepts ``1.5`` for an id, ``BooleanFilter`` treats ``maybe`` as "no filter", datetimes may
overflow when converted). These reject such input, and each carries its exact OpenAPI schema
(bounds, ``maxLength``, no NUL), so the documented parameters and the accepted ones agree.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
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
    extend_schema_field(schema)(filter_)


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
