"""Writes for retailers: one function per use case, keeping star and status history."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.errors import ApplicationError
from retailers.models import Retailer, RetailerStatus, StarChange, StatusChange, Violation


def _refresh_current(retailer: Retailer, *, day: dt.date | None = None) -> None:
    """Make ``star``/``status`` the values in force on ``day`` (today) by the history."""
    today = day or timezone.localdate()
    star = (
        StarChange.objects.filter(retailer=retailer, effective_from__lte=today)
        .order_by("-effective_from")
        .values_list("star", flat=True)
        .first()
    )
    status = (
        StatusChange.objects.filter(retailer=retailer, effective_from__lte=today)
        .order_by("-effective_from")
        .values_list("status", flat=True)
        .first()
    )
    changed = []
    if star != retailer.star:
        retailer.star = star
        changed.append("star")
    if status is not None and status != retailer.status:
        retailer.status = status
        changed.append("status")
    if changed:
        retailer.save(update_fields=[*changed, "updated_at"])


@transaction.atomic
def retailer_record_initial_history(
    *, retailer: Retailer, by: User | None, effective_from: dt.date | None = None
) -> None:
    """Record the retailer's current star and status as its first history entries."""
    day = effective_from or retailer.opened_on or timezone.localdate()
    StarChange.objects.get_or_create(
        retailer=retailer,
        effective_from=day,
        defaults={"star": retailer.star, "changed_by": by, "reason": _("Joined")},
    )
    StatusChange.objects.get_or_create(
        retailer=retailer,
        effective_from=day,
        defaults={"status": retailer.status, "changed_by": by, "reason": _("Joined")},
    )


@transaction.atomic
def retailer_change_star(
    *,
    retailer: Retailer,
    star: int | None,
    effective_from: dt.date,
    by: User | None,
    reason: str = "",
) -> StarChange:
    """Set the retailer's star from ``effective_from`` on, keeping the history."""
    if star is not None and not 1 <= star <= 5:
        raise ApplicationError(_("A star rating is 1 to 5, or empty for unrated."))
    change, _created = StarChange.objects.update_or_create(
        retailer=retailer,
        effective_from=effective_from,
        defaults={"star": star, "changed_by": by, "reason": reason},
    )
    _refresh_current(retailer)
    return change


@transaction.atomic
def retailer_change_status(
    *,
    retailer: Retailer,
    status: str,
    effective_from: dt.date,
    by: User | None,
    reason: str = "",
) -> StatusChange:
    """Set the retailer's status from ``effective_from`` on, keeping the history."""
    if status not in RetailerStatus.values:
        raise ApplicationError(_("Unknown retailer status."))
    change, _created = StatusChange.objects.update_or_create(
        retailer=retailer,
        effective_from=effective_from,
        defaults={"status": status, "changed_by": by, "reason": reason},
    )
    _refresh_current(retailer)
    return change


@transaction.atomic
def violation_record(
    *, retailer: Retailer, occurred_on: dt.date, kind: str, description: str, by: User | None
) -> Violation:
    if occurred_on > timezone.localdate():
        raise ApplicationError(
            _("A violation cannot be recorded in the future."),
            extra={"occurred_on": [_("A violation cannot be recorded in the future.")]},
        )
    violation = Violation(
        retailer=retailer,
        occurred_on=occurred_on,
        kind=kind,
        description=description,
        recorded_by=by,
    )
    violation.full_clean()
    violation.save()
    return violation


def retailers_apply_due_history(*, day: dt.date | None = None, batch_size: int = 2000) -> int:
    """Make current ``star``/``status`` match the history where a dated change has come due.

    Changes may be recorded ahead of their date; this daily job (and any rerun) brings the
    current values up to date, in bounded batches. Returns how many retailers changed.
    """
    from django.db.models import F, Q

    from retailers.selectors import retailers_as_of

    day = day or timezone.localdate()
    stale = retailers_as_of(day).filter(
        Q(star_at__isnull=False, star__isnull=True)
        | Q(star_at__isnull=True, star__isnull=False, star_history__effective_from__lte=day)
        | (Q(star__isnull=False, star_at__isnull=False) & ~Q(star=F("star_at")))
        | (Q(status_at__isnull=False) & ~Q(status=F("status_at")))
    )
    changed = 0
    ids = list(stale.values_list("pk", flat=True).distinct())
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for retailer in Retailer.objects.select_for_update().filter(
                pk__in=ids[start : start + batch_size]
            ):
                before = (retailer.star, retailer.status)
                _refresh_current(retailer, day=day)
                changed += int(before != (retailer.star, retailer.status))
    return changed
