"""``{% load allocation %}{% retailer_awards retailer %}``: a retailer's published awards of the
current cycle, for the retailer card and the Today page (the visits app)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from allocation import selectors

register = template.Library()


@register.inclusion_tag("allocation/_awards.html", takes_context=True)
def retailer_awards(context, retailer, cycle=None) -> dict:
    """One query; for a list of retailers use ``selectors.published_awards`` with their ids and
    include ``allocation/_awards.html`` with ``awards`` instead."""
    cycle = cycle or selectors.default_cycle(timezone.localdate())
    if cycle is None:
        return {"awards": []}
    awards = selectors.published_awards(context["request"].user, cycle, [retailer.pk])
    return {
        "awards": awards.get(retailer.pk, []),
        "statement_url": reverse("allocation:statement", args=[retailer.pk, cycle.pk]),
    }
