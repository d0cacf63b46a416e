"""Reads for the catalogue: brands are the same for every signed-in user."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import Brand


def brand_list() -> QuerySet[Brand]:
    return Brand.objects.all()
