"""Writes for retailers: one function per use case, keeping star and status history."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import imports
from config.errors import ApplicationError
from config.logs import log_import
from retailers import roster
from retailers.models import (
    RATED_STARS,
    ProposalStatus,
    RatingProposal,
    RatingProposalLine,
    RatingThreshold,
    Retailer,
    RetailerStatus,
    RosterImport,
    RosterImportStatus,
    StarChange,
    StarSource,
    StatusChange,
    Violation,
)
from territory.models import District, Route


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
        defaults={
            "star": retailer.star,
            "changed_by": by,
            "reason": _("Joined"),
            "source": StarSource.JOINED,
        },
    )
    StatusChange.objects.get_or_create(
        retailer=retailer,
        effective_from=day,
        defaults={"status": retailer.status, "changed_by": by, "reason": _("Joined")},
    )


def star_locked_message() -> str:
    return _(
        "Stars are locked between re-ratings: a star changes only by an approved quarterly "
        "re-rating, or by the district supervisor's override with a reason."
    )


def is_district_supervisor(user: User | None, district_id: int) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.is_supervisor
        and District.objects.filter(pk=district_id, supervisor=user).exists()
    )


@transaction.atomic
def retailer_change_star(
    *,
    retailer: Retailer,
    star: int | None,
    effective_from: dt.date,
    by: User | None,
    reason: str = "",
    source: str = StarSource.OVERRIDE,
) -> StarChange:
    """The one way to change one retailer's star, keeping the history (DESIGN §2.6).

    Stars are locked between re-ratings. This accepts only:

    - ``JOINED``: the first star of a retailer with no star history yet;
    - ``OVERRIDE``: by the supervisor of the retailer's district, with a reason, from today
      or a later day (history is never rewritten).

    Re-ratings change stars in bulk through :func:`rating_proposal_approve`. Anything else
    (the admin, forms, imports) is refused with :func:`star_locked_message`.
    """
    if star is not None and not 1 <= star <= 5:
        raise ApplicationError(
            _("A star rating is 1 to 5, or empty for unrated."),
            extra={"star": [_("A star rating is 1 to 5, or empty for unrated.")]},
        )
    reason = (reason or "").strip()
    if source == StarSource.JOINED:
        if StarChange.objects.filter(retailer=retailer).exists():
            raise ApplicationError(star_locked_message())
    elif source == StarSource.OVERRIDE:
        district_id = retailer.route.district_id
        if not is_district_supervisor(by, district_id):
            raise ApplicationError(
                _("Only the supervisor of the retailer's district may override its star.")
                + " "
                + star_locked_message()
            )
        if not reason:
            message = _("Give the reason for the override.")
            raise ApplicationError(message, extra={"reason": [message]})
        if effective_from < timezone.localdate():
            message = _("An override takes effect today or later; history is not rewritten.")
            raise ApplicationError(message, extra={"effective_from": [message]})
        if star == retailer.star and effective_from == timezone.localdate():
            message = _("The retailer already has this star.")
            raise ApplicationError(message, extra={"star": [message]})
    else:
        raise ApplicationError(star_locked_message())
    change, _created = StarChange.objects.update_or_create(
        retailer=retailer,
        effective_from=effective_from,
        defaults={"star": star, "changed_by": by, "reason": reason[:200], "source": source},
    )
    _refresh_current(retailer)
    return change


def retailer_override_star(
    *, retailer: Retailer, star: int | None, by: User, reason: str
) -> StarChange:
    """The audited override (DESIGN §2.6): the district supervisor changes a star today."""
    return retailer_change_star(
        retailer=retailer,
        star=star,
        effective_from=timezone.localdate(),
        by=by,
        reason=reason,
        source=StarSource.OVERRIDE,
    )


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


# --- Quarterly star re-rating (DESIGN §2.6) --------------------------------------------------


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the quarter holding ``day``."""
    start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def previous_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """The quarter before the one holding ``day``: the one a re-rating measures."""
    start, _end = quarter_bounds(day)
    return quarter_bounds(start - dt.timedelta(days=1))


def _require_supervisor(by: User | None, district: District) -> None:
    if not is_district_supervisor(by, district.pk):
        raise ApplicationError(_("Only the supervisor of this district may do this."))


@transaction.atomic
def rating_thresholds_set(
    *, district: District, thresholds: dict[int, tuple[int, int]], by: User
) -> list[RatingThreshold]:
    """Set the district's thresholds: ``{star: (min points, min cartons)}`` for 5★ to 2★.

    A higher star may not ask for less than a lower one (else the rule would contradict itself).
    """
    _require_supervisor(by, district)
    errors: dict[str, list[str]] = {}
    if set(thresholds) != set(RATED_STARS):
        raise ApplicationError(_("Give the thresholds of 5, 4, 3 and 2 stars."))
    for star in RATED_STARS:
        points, cartons = thresholds[star]
        if points < 0 or cartons < 0:
            errors[f"points_{star}"] = [_("Thresholds are 0 or more.")]
    for higher, lower in itertools.pairwise(RATED_STARS):
        if any(h < lo for h, lo in zip(thresholds[higher], thresholds[lower], strict=True)):
            errors.setdefault(f"points_{higher}", []).append(
                _("%(higher)s★ may not ask for less than %(lower)s★.")
                % {"higher": higher, "lower": lower}
            )
    if errors:
        raise ApplicationError(_("The thresholds were not saved."), extra=errors)
    saved = []
    for star in RATED_STARS:
        points, cartons = thresholds[star]
        row, _created = RatingThreshold.objects.update_or_create(
            district=district,
            star=star,
            defaults={"min_points": points, "min_cartons": cartons, "updated_by": by},
        )
        saved.append(row)
    return saved


def rating_thresholds_of(district_id: int) -> dict[int, tuple[int, int]]:
    return {
        t.star: (t.min_points, t.min_cartons)
        for t in RatingThreshold.objects.filter(district_id=district_id)
    }


@transaction.atomic
def rating_proposals_prepare(
    *, districts: list[District], quarter_start: dt.date, by: User | None
) -> list[RatingProposal]:
    """Empty draft proposals for ``districts`` and the quarter, ready to be filled.

    One proposal per district and quarter: a draft or rejected one is emptied and reused (a
    rerun replaces it), an approved one is left alone (it is never changed), and a district
    without a full set of thresholds gets none. The districts' rows are locked so that two
    runs of one district wait for each other.
    """
    start, end = quarter_bounds(quarter_start)
    ids = [d.pk for d in districts]
    list(District.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    now = timezone.now()
    prepared = []
    for district in sorted(districts, key=lambda d: d.pk):
        thresholds = rating_thresholds_of(district.pk)
        if set(thresholds) != set(RATED_STARS):
            continue
        values = {
            "quarter_end": end,
            "status": ProposalStatus.DRAFT,
            "thresholds": {str(k): list(v) for k, v in thresholds.items()},
            "retailers": 0,
            "moving_up": 0,
            "moving_down": 0,
            "proposed_at": now,
            "proposed_by": by,
            "decided_at": None,
            "decided_by": None,
            "effective_from": None,
        }
        proposal = RatingProposal.objects.filter(district=district, quarter_start=start).first()
        if proposal is None:
            proposal = RatingProposal.objects.create(
                district=district, quarter_start=start, **values
            )
        elif proposal.status == ProposalStatus.APPROVED:
            continue
        else:
            RatingProposalLine.objects.filter(proposal=proposal).delete()
            for key, value in values.items():
                setattr(proposal, key, value)
            proposal.save()
        prepared.append(proposal)
    return prepared


def rating_proposals_count(*, proposals: list[RatingProposal]) -> None:
    """Store each proposal's counts (retailers, moving up, moving down): one aggregate."""
    counts = (
        RatingProposalLine.objects.filter(proposal__in=proposals)
        .values("proposal_id")
        .annotate(
            n=Count("pk"),
            up=Count("pk", filter=Q(movement=1)),
            down=Count("pk", filter=Q(movement=-1)),
        )
        .order_by()
    )
    by_id = {c["proposal_id"]: c for c in counts}
    for proposal in proposals:
        c = by_id.get(proposal.pk, {"n": 0, "up": 0, "down": 0})
        proposal.retailers, proposal.moving_up, proposal.moving_down = c["n"], c["up"], c["down"]
        proposal.save(update_fields=["retailers", "moving_up", "moving_down"])


def _claim_draft(proposal: RatingProposal, *, by: User) -> RatingProposal:
    _require_supervisor(by, proposal.district)
    locked = RatingProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ProposalStatus.DRAFT:
        raise ApplicationError(
            _("This proposal was already decided (%(status)s).")
            % {"status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def rating_proposal_approve(
    *, proposal: RatingProposal, by: User, effective_from: dt.date | None = None
) -> int:
    """Approve a draft proposal: every retailer whose star differs gets the proposed star.

    Set-based (DESIGN §3, STYLE habit 7): one ``INSERT … SELECT`` writes the star history
    (source re-rating, ``changed_by`` the approver), one ``UPDATE`` the current stars. Returns
    how many retailers changed. The approved proposal is never changed again.
    """
    locked = _claim_draft(proposal, by=by)
    day = effective_from or timezone.localdate()
    lines = RatingProposalLine._meta.db_table
    retailers = Retailer._meta.db_table
    changes = StarChange._meta.db_table
    reason = _("Re-rating %(quarter)s") % {"quarter": locked.quarter_label}
    differs = "r.star IS NULL OR r.star <> l.proposed_star"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {changes}"  # noqa: S608 - table names only; values are parameters
            " (retailer_id, star, effective_from, reason, source, changed_by_id, created_at)"
            " SELECT l.retailer_id, l.proposed_star, %s, %s, %s, %s, %s"
            f" FROM {lines} l JOIN {retailers} r ON r.id = l.retailer_id"
            f" WHERE l.proposal_id = %s AND ({differs})"
            " ON CONFLICT (retailer_id, effective_from) DO UPDATE SET star = EXCLUDED.star,"
            " reason = EXCLUDED.reason, source = EXCLUDED.source,"
            " changed_by_id = EXCLUDED.changed_by_id, created_at = EXCLUDED.created_at",
            [day, reason[:200], StarSource.RERATING, by.pk, timezone.now(), locked.pk],
        )
    changed = 0
    if day <= timezone.localdate():
        proposed = RatingProposalLine.objects.filter(proposal=locked, retailer=OuterRef("pk"))
        changed = (
            Retailer.objects.filter(
                pk__in=RatingProposalLine.objects.filter(proposal=locked).values("retailer_id")
            )
            .filter(Q(star__isnull=True) | ~Q(star=Subquery(proposed.values("proposed_star")[:1])))
            .update(star=Subquery(proposed.values("proposed_star")[:1]), updated_at=timezone.now())
        )
    RatingProposal.objects.filter(pk=locked.pk).update(
        status=ProposalStatus.APPROVED,
        decided_by=by,
        decided_at=timezone.now(),
        effective_from=day,
    )
    return changed


@transaction.atomic
def rating_proposal_reject(*, proposal: RatingProposal, by: User) -> RatingProposal:
    """Reject a draft proposal: no star changes; a rerun of the quarter may replace it."""
    locked = _claim_draft(proposal, by=by)
    locked.status, locked.decided_by, locked.decided_at = (
        ProposalStatus.REJECTED,
        by,
        timezone.now(),
    )
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


def rating_proposal_totals(proposal: RatingProposal) -> dict[str, int]:
    """Points and cartons summed over the proposal (for the review page's headline)."""
    return RatingProposalLine.objects.filter(proposal=proposal).aggregate(
        points=Sum("points"), cartons=Sum("cartons")
    )


# --- Roster import (DESIGN §7, issue 8) ------------------------------------------------------

#: Fields an import may set, besides the route and the star (which has its own rule).
ROSTER_FIELDS = (
    "name",
    "owner_name",
    "phone",
    "address",
    "stop_order",
    "business_type",
    "integrity_level",
    "ordering_channel",
    "payment_method",
    "needs_assistance",
    "opened_on",
)


@dataclass
class RosterCreate:
    row: int
    retailer: Retailer


@dataclass
class RosterUpdate:
    row: int
    retailer: Retailer
    changes: dict[str, tuple[object, object]]

    @property
    def change_list(self) -> list[tuple[str, object, object]]:
        """(field's name as the user reads it, before, after), for the preview."""
        return [
            (str(Retailer._meta.get_field(key).verbose_name), old, new)
            for key, (old, new) in self.changes.items()
        ]


@dataclass
class RosterCheck:
    file_format: str
    rows: int
    creates: list[RosterCreate] = field(default_factory=list)
    updates: list[RosterUpdate] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[imports.RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def roster_districts(user: User) -> QuerySet[District]:
    """Where ``user`` may import retailers: a supervisor's own districts, or any district for an
    administrator (DESIGN §1: administrators do master data and imports)."""
    if user.is_active and user.is_administrator:
        return District.objects.all()
    if user.is_active and user.is_supervisor:
        return District.objects.filter(supervisor=user)
    return District.objects.none()


def roster_check(*, data: bytes, file_name: str, by: User, content_type: str = "") -> RosterCheck:
    """Check a roster file without writing anything (the dry run).

    Keyed by licence number: a known licence updates that retailer (it must be in one of
    ``by``'s districts), an unknown one creates a retailer. An empty optional cell leaves the
    field as it is (or its default for a new retailer). A star may be given for a new retailer;
    an existing retailer's star is locked between re-ratings (DESIGN §2.6), so a different star
    is an error. Raises ``ApplicationError`` for a file refused as a whole.
    """
    table = imports.read_table(
        data,
        file_name=file_name,
        content_type=content_type,
        max_bytes=settings.ROSTER_IMPORT_MAX_BYTES,
        max_rows=settings.ROSTER_IMPORT_MAX_ROWS,
    )
    keys = roster.header_keys(table.header)
    check = RosterCheck(file_format=table.file_format, rows=len(table.rows))
    key_of = dict(zip(table.header, keys, strict=True))
    check.errors.extend(
        imports.RowError(e.row, e.message, key_of.get(e.field, e.field)) for e in table.errors
    )
    parsed = []
    for number, cells in table.rows:
        row, errors = roster.parse_row(number, dict(zip(keys, cells, strict=True)))
        check.errors.extend(errors)
        if row is not None:
            parsed.append(row)
    districts = {d.code: d for d in roster_districts(by)}
    routes = {
        (r.district.code, r.code): r
        for r in Route.objects.filter(district__in=districts.values()).select_related("district")
    }
    licences = [p.values["licence_number"] for p in parsed]
    existing = {
        r.licence_number: r
        for r in Retailer.objects.filter(licence_number__in=licences).select_related(
            "route", "route__district"
        )
    }
    seen: dict[str, int] = {}
    for row in parsed:
        licence = row.values["licence_number"]
        problems: list[imports.RowError] = []

        def bad(key: str, message: str, row=row, problems=problems) -> None:
            problems.append(imports.RowError(row.row, message, key))

        if licence in seen:
            bad(
                "licence_number",
                _("%(v)s appears again (first in row %(first)s).")
                % {"v": licence, "first": seen[licence]},
            )
        seen.setdefault(licence, row.row)
        route = None
        if row.district not in districts:
            bad("district", _("%(v)s is not one of your districts.") % {"v": row.district})
        else:
            route = routes.get((row.district, row.route))
            if route is None:
                bad(
                    "route",
                    _("the district %(d)s has no route %(v)s.")
                    % {"d": row.district, "v": row.route},
                )
        retailer = existing.get(licence)
        if retailer is not None and retailer.route.district.code not in districts:
            bad(
                "licence_number",
                _("the retailer %(v)s belongs to another district.") % {"v": licence},
            )
        star = row.values.get("star")
        if retailer is not None and star is not None and star != retailer.star:
            bad(
                "star",
                _(
                    "the file says %(new)s★, the retailer has %(old)s. Stars are locked between "
                    "re-ratings: leave the cell empty or unchanged; a star changes by the "
                    "quarterly re-rating or the supervisor's override."
                )
                % {"new": star, "old": f"{retailer.star}★" if retailer.star else _("none")},
            )
        if problems:
            check.errors.extend(problems)
            continue
        if retailer is None:
            new = Retailer(licence_number=licence, route=route, star=star)
            for key in ROSTER_FIELDS:
                if key in row.values:
                    setattr(new, key, row.values[key])
            problems = _model_errors(new, row.row)
            if problems:
                check.errors.extend(problems)
            else:
                check.creates.append(RosterCreate(row.row, new))
            continue
        changes: dict[str, tuple[object, object]] = {}
        if route.pk != retailer.route_id:
            changes["route"] = (retailer.route, route)
        for key in ROSTER_FIELDS:
            if key in row.values and row.values[key] != getattr(retailer, key):
                changes[key] = (getattr(retailer, key), row.values[key])
        if not changes:
            check.unchanged.append(row.row)
            continue
        updated = copy.copy(retailer)
        for key, (_old, new_value) in changes.items():
            setattr(updated, key, new_value)
        problems = _model_errors(updated, row.row)
        if problems:
            check.errors.extend(problems)
        else:
            check.updates.append(RosterUpdate(row.row, updated, changes))
    check.errors.sort(key=lambda e: (e.row, e.field))
    return check


def _model_errors(retailer: Retailer, row: int) -> list[imports.RowError]:
    """The model's own validation of a planned retailer, as row errors by field."""
    try:
        retailer.full_clean(exclude=["route"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [
            imports.RowError(row, " ".join(messages), key)
            for key, messages in exc.message_dict.items()
        ]
    return []


def roster_rejected(errors: list[imports.RowError]) -> ApplicationError:
    shown = [str(e) for e in errors[:50]]
    if len(errors) > 50:
        shown.append(_("… and %(n)s more errors.") % {"n": len(errors) - 50})
    return ApplicationError(_("The file was rejected; nothing was changed."), extra={"file": shown})


def roster_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def roster_preview(
    *, data: bytes, file_name: str, by: User, content_type: str = ""
) -> tuple[RosterCheck, RosterImport | None]:
    """The dry run: check the file; when it is clean, keep it (with its digest) for applying.

    Nothing else is written. Logged as ``previewed`` or ``rejected``.
    """
    try:
        check = roster_check(data=data, file_name=file_name, by=by, content_type=content_type)
    except ApplicationError:
        log_import(kind="retailers", outcome="rejected", user=by, source=file_name, errors=1)
        raise
    if not check.ok:
        log_import(
            kind="retailers",
            outcome="rejected",
            rows=check.rows,
            errors=len(check.errors),
            user=by,
            source=file_name,
        )
        return check, None
    upload = RosterImport.objects.create(
        file_name=file_name[:200],
        file_format=check.file_format,
        content=data,
        digest=roster_digest(data),
        rows=check.rows,
        uploaded_by=by,
        summary=_("%(c)s to create, %(u)s to update, %(n)s unchanged")
        % {"c": len(check.creates), "u": len(check.updates), "n": len(check.unchanged)},
    )
    log_import(
        kind="retailers",
        outcome="previewed",
        rows=check.rows,
        user=by,
        source=file_name,
        creates=len(check.creates),
        updates=len(check.updates),
    )
    return check, upload


@transaction.atomic
def roster_apply(*, upload: RosterImport, digest: str, by: User) -> RosterCheck:
    """Apply a previewed roster: all rows or none, once.

    The stored bytes must still have the digest shown with the preview (what is applied is what
    was previewed), and are checked again now: a row that became wrong since (a route removed,
    a licence taken) rejects the whole file. New retailers get their first star and status in
    the history (source "joined"); updates never touch a star.
    """
    content = bytes(upload.content)
    if digest != upload.digest or roster_digest(content) != upload.digest:
        raise ApplicationError(_("This is not the file that was previewed; upload it again."))
    claimed = RosterImport.objects.filter(
        pk=upload.pk, status=RosterImportStatus.PREVIEWED, uploaded_by=by
    ).update(status=RosterImportStatus.APPLIED, applied_at=timezone.now())
    if not claimed:
        raise ApplicationError(_("This file has been applied already."))
    check = roster_check(
        data=content,
        file_name=upload.file_name,
        by=by,
        content_type="",
    )
    if not check.ok:
        log_import(
            kind="retailers",
            outcome="rejected",
            rows=check.rows,
            errors=len(check.errors),
            user=by,
            source=upload.file_name,
        )
        raise roster_rejected(check.errors)
    today = timezone.localdate()
    created = Retailer.objects.bulk_create([c.retailer for c in check.creates], batch_size=1000)
    StarChange.objects.bulk_create(
        [
            StarChange(
                retailer=r,
                star=r.star,
                effective_from=r.opened_on or today,
                reason=_("Joined (roster import)"),
                source=StarSource.JOINED,
                changed_by=by,
            )
            for r in created
        ],
        batch_size=1000,
    )
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                retailer=r,
                status=r.status,
                effective_from=r.opened_on or today,
                reason=_("Joined (roster import)"),
                changed_by=by,
            )
            for r in created
        ],
        batch_size=1000,
    )
    now = timezone.now()
    fields = sorted({key for u in check.updates for key in u.changes} | {"updated_at"})
    for update in check.updates:
        update.retailer.updated_at = now
    Retailer.objects.bulk_update([u.retailer for u in check.updates], fields, batch_size=1000)
    summary = _("%(c)s created, %(u)s updated, %(n)s unchanged") % {
        "c": len(check.creates),
        "u": len(check.updates),
        "n": len(check.unchanged),
    }
    RosterImport.objects.filter(pk=upload.pk).update(summary=summary[:200])
    log_import(
        kind="retailers",
        outcome="applied",
        rows=check.rows,
        user=by,
        source=upload.file_name,
        creates=len(check.creates),
        updates=len(check.updates),
    )
    return check
