"""Display helpers of the analytics pages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def signed(value: Decimal | None) -> str:
    """A change in per cent with its sign (``+3.2%``, ``-4.0%``, ``0.0%``); ``—`` for none."""
    if value is None:
        return "—"
    return f"+{value}%" if value > 0 else f"{value}%"


@register.filter
def change(value: Decimal | None) -> str:
    """:func:`signed`, coloured: green up, red down."""
    if value is None:
        return mark_safe('<span class="change muted">—</span>')
    tone = "up" if value > 0 else "down" if value < 0 else ""
    return format_html('<span class="change {}">{}</span>', tone, signed(value))


@register.filter
def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"
