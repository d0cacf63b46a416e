"""Reading the audit history (``/audit/``): audit entries and star changes, in one timeline.

Star changes keep their own history (``retailers.StarChange``: who, when, the star, why); they
are read from there rather than copied. Both sources are ordered together in the database (a
``UNION`` of (time, source, id)), one page at a time; then the page's rows are loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from config.models import AuditAction, AuditEntry
from retailers.models import StarChange
from retailers.selectors import visible_retailers
from territory.selectors import visible_districts

STAR_CHANGED = "star.changed"
PAGE_SIZE = 50


def can_read_audit(user: Any) -> bool:
    """Supervisors (their districts' history) and administrators (all); no one else."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_supervisor or user.is_administrator)
    )


def kinds() -> list[tuple[str, str]]:
    return [*AuditAction.choices, (STAR_CHANGED, _("Star changed"))]


@dataclass(frozen=True)
class AuditFilters:
    kind: str = ""
    actor: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    target: str = ""


def visible_entries(user: User) -> QuerySet[AuditEntry]:
    """Entries about the user's districts, and those about nothing district-bound."""
    entries = AuditEntry.objects.all()
    if user.is_administrator:
        return entries
    if not can_read_audit(user):
        return entries.none()
    districts = visible_districts(user).values("pk")
    return entries.filter(Q(district_id__isnull=True) | Q(district_id__in=districts))


def visible_star_changes(user: User) -> QuerySet[StarChange]:
    if not can_read_audit(user):
        return StarChange.objects.none()
    return StarChange.objects.filter(retailer__in=visible_retailers(user))


def _day_bounds(filters: AuditFilters, field_name: str) -> Q:
    q = Q()
    if filters.since:
        q &= Q(**{f"{field_name}__date__gte": filters.since})
    if filters.until:
        q &= Q(**{f"{field_name}__date__lte": filters.until})
    return q


def _filtered(user: User, filters: AuditFilters) -> tuple[QuerySet, QuerySet]:
    entries = visible_entries(user).filter(_day_bounds(filters, "at"))
    stars = visible_star_changes(user).filter(_day_bounds(filters, "created_at"))
    if filters.kind:
        entries = entries.filter(action=filters.kind)
        if filters.kind != STAR_CHANGED:
            stars = stars.none()
    if filters.kind == STAR_CHANGED:
        entries = entries.none()
    if filters.actor:
        entries = entries.filter(actor_name__icontains=filters.actor)
        stars = stars.filter(changed_by__username__icontains=filters.actor)
    if filters.target:
        text = filters.target
        entries = entries.filter(Q(target_label__icontains=text) | Q(target_id=text))
        stars = stars.filter(
            Q(retailer__name__icontains=text) | Q(retailer__licence_number__startswith=text)
        )
    return entries, stars


@dataclass
class Row:
    """One line of the history page, whatever its source."""

    at: dt.datetime
    kind: str
    kind_label: str
    actor: str
    target: str
    target_url: str = ""
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    reason: str = ""
    ip: str = ""


def _entry_row(entry: AuditEntry, labels: dict[str, str]) -> Row:
    keys = list(dict.fromkeys([*entry.before, *entry.after]))
    return Row(
        at=entry.at,
        kind=entry.action,
        kind_label=labels.get(entry.action, entry.action),
        actor=entry.actor_name or "—",
        target=entry.target_label,
        changes=[(k, entry.before.get(k, ""), entry.after.get(k, "")) for k in keys],
        reason=entry.reason,
        ip=entry.ip or "",
    )


def _star_row(change: StarChange, labels: dict[str, str]) -> Row:
    return Row(
        at=change.created_at,
        kind=STAR_CHANGED,
        kind_label=labels[STAR_CHANGED],
        actor=change.changed_by.get_username() if change.changed_by else "—",
        target=change.retailer.name,
        target_url=reverse("retailers:detail", args=[change.retailer_id]),
        changes=[("star", change.previous_star or "", change.star or "")],
        reason=change.reason,
    )


def audit_page(*, user: User, filters: AuditFilters, page: Any, per_page: int = PAGE_SIZE) -> Page:
    """One page of the history the user may read, newest first; ``page.object_list`` holds
    :class:`Row` objects."""
    entries, stars = _filtered(user, filters)
    text = CharField()
    # Same column names on both sides: either side may be empty, and Django then keeps the
    # other one alone (names no model field uses: StarChange has a ``source``).
    timeline = (
        entries.order_by()
        .annotate(audit_when=F("at"), audit_source=Value("audit", output_field=text))
        .values_list("audit_when", "audit_source", "id")
        .union(
            stars.order_by()
            .annotate(audit_when=F("created_at"), audit_source=Value("star", output_field=text))
            .values_list("audit_when", "audit_source", "id"),
            all=True,
        )
        .order_by("-audit_when", "-id")
    )
    current = Paginator(timeline, per_page).get_page(page)
    keys = list(current.object_list)
    audit_ids = [pk for _at, source, pk in keys if source == "audit"]
    star_ids = [pk for _at, source, pk in keys if source == "star"]
    loaded_entries = AuditEntry.objects.in_bulk(audit_ids)
    previous = (
        StarChange.objects.filter(
            retailer_id=OuterRef("retailer_id"), effective_from__lt=OuterRef("effective_from")
        )
        .order_by("-effective_from")
        .values("star")[:1]
    )
    loaded_stars = (
        StarChange.objects.select_related("retailer", "changed_by")
        .annotate(previous_star=Subquery(previous))
        .in_bulk(star_ids)
    )
    labels = {str(k): str(v) for k, v in kinds()}
    current.object_list = [
        _entry_row(loaded_entries[pk], labels)
        if source == "audit"
        else _star_row(loaded_stars[pk], labels)
        for _at, source, pk in keys
    ]
    return current
