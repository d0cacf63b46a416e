"""Writes for retailer training and terminal programs (DESIGN §2.6).

Who may do what:

* training sessions: a supervisor for a district they supervise (the whole district or one of
  its routes), an account manager for one of their own routes; attendance by whoever may see
  the session, for retailers they may see that are in the session's scope;
* programs: supervisors (and administrators) enrol and withdraw stores and edit the criteria
  lists; the account manager reviews a member's criteria during their own open visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config.errors import ApplicationError
from retailers.models import Retailer, RetailerStatus
from retailers.selectors import visible_retailers
from territory.models import District, Route
from territory.selectors import visible_districts, visible_routes
from visits.models import (
    AttendanceStatus,
    MembershipStatus,
    ProgramCriterion,
    ProgramKind,
    ProgramMembership,
    ProgramReview,
    ProgramReviewItem,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
    Visit,
)

#: Attendance rows one request may record (a district-wide session's longest route is ~80).
MAX_ATTENDANCE_ROWS = 500
#: A training is recorded at most this far ahead (planned sessions) or back.
MAX_DAYS_AHEAD = 366
MAX_DAYS_BACK = 5 * 366

#: The checklist each program starts with (supervisors edit it on the criteria page).
DEFAULT_CRITERIA: dict[str, tuple[str, ...]] = {
    ProgramKind.STANDARD: (
        "证照齐全，亮证经营",
        "明码标价，价签规范",
        "柜台整洁，陈列规范",
        "不销售违规卷烟",
        "使用电子结算",
    ),
    ProgramKind.DEMONSTRATION: (
        "诚信经营，无违规记录",
        "陈列规范，品牌分区展示",
        "库存合理，不积压不断货",
        "积极培育新品和低焦油品牌",
        "网上订货，电子结算",
        "主动收集并反馈消费者信息",
    ),
    ProgramKind.FUNCTIONAL: (
        "功能区标识清晰",
        "设备（扫码、结算）运行正常",
        "按要求采集销售数据",
        "配合开展品牌推广活动",
    ),
}


def _fail(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, extra={field: [message]} if field else None)


def is_program_manager(user: User) -> bool:
    """Supervisors and administrators run the programs; account managers review."""
    return bool(user.is_supervisor or user.is_administrator)


def demonstration_target() -> int:
    return int(getattr(settings, "DEMONSTRATION_STORES_PER_ROUTE", 5))


# --- Training ---------------------------------------------------------------------------------


@transaction.atomic
def training_session_create(
    *,
    by: User,
    topic: str,
    held_on: dt.date,
    place: str,
    trainer: str,
    district: District | None = None,
    route: Route | None = None,
    notes: str = "",
) -> TrainingSession:
    """A training for a district or one of its routes, in the creator's scope."""
    if not (by.is_supervisor or by.is_administrator or by.is_account_manager):
        raise _fail(_("Only supervisors and account managers record trainings."))
    if topic not in TrainingTopic.values:
        raise _fail(_("Choose a topic from the list."), "topic")
    today = timezone.localdate()
    if held_on > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise _fail(_("The date is more than a year ahead."), "held_on")
    if held_on < today - dt.timedelta(days=MAX_DAYS_BACK):
        raise _fail(_("The date is more than five years back."), "held_on")
    place, trainer = place.strip(), trainer.strip()
    if not place:
        raise _fail(_("Say where the training is held."), "place")
    if not trainer:
        raise _fail(_("Say who gives the training."), "trainer")
    if route is not None:
        if not visible_routes(by).filter(pk=route.pk).exists():
            raise _fail(_("This route is not one of yours."), "route")
        if district is not None and route.district_id != district.pk:
            raise _fail(_("This route is not in the district chosen."), "route")
        district = route.district
    elif district is None:
        raise _fail(_("Choose a district or a route."), "district")
    elif by.is_account_manager and not (by.is_supervisor or by.is_administrator):
        raise _fail(_("Account managers hold trainings for one of their routes."), "route")
    if not visible_districts(by).filter(pk=district.pk).exists():
        raise _fail(_("This district is not one of yours."), "district")
    session = TrainingSession(
        topic=topic,
        held_on=held_on,
        place=place,
        trainer=trainer,
        district=district,
        route=route,
        notes=notes.strip(),
        created_by=by,
    )
    session.full_clean()
    session.save()
    return session


def session_retailers(session: TrainingSession, user: User):
    """The retailers a user may record for a session: visible and within its scope."""
    retailers = visible_retailers(user).filter(route__district_id=session.district_id)
    if session.route_id is not None:
        retailers = retailers.filter(route_id=session.route_id)
    return retailers


@transaction.atomic
def training_attendance_record(
    *, session: TrainingSession, by: User, marks: Mapping[int, str]
) -> dict[str, int]:
    """Record attended/absent per retailer id; an empty mark removes what was recorded.

    All or nothing: one retailer outside the user's scope or the session's, or one unknown
    mark, refuses the whole request and names it.
    """
    if len(marks) > MAX_ATTENDANCE_ROWS:
        raise _fail(_("Record at most %(n)s retailers at a time.") % {"n": MAX_ATTENDANCE_ROWS})
    wrong = sorted(str(m) for m in set(marks.values()) if m and m not in AttendanceStatus.values)
    if wrong:
        raise _fail(
            _("Unknown attendance mark: %(marks)s.") % {"marks": ", ".join(wrong)}, "retailers"
        )
    wanted = set(marks)
    allowed = dict(session_retailers(session, by).filter(pk__in=wanted).values_list("pk", "name"))
    outside = sorted(wanted - set(allowed))
    if outside:
        raise _fail(
            _(
                "These retailers are not yours or not in this training's scope: %(ids)s. "
                "Nothing was recorded."
            )
            % {"ids": ", ".join(str(pk) for pk in outside[:10])},
            "retailers",
        )
    now = timezone.now()
    cleared = [pk for pk, mark in marks.items() if not mark]
    removed, _by_model = TrainingAttendance.objects.filter(
        session=session, retailer_id__in=cleared
    ).delete()
    saved = 0
    for retailer_id, mark in sorted(marks.items()):
        if not mark:
            continue
        TrainingAttendance.objects.update_or_create(
            session=session,
            retailer_id=retailer_id,
            defaults={"status": mark, "recorded_by": by, "recorded_at": now},
        )
        saved += 1
    return {"saved": saved, "removed": removed}


# --- Program criteria -------------------------------------------------------------------------


def program_criteria_ensure_defaults() -> int:
    """Create the default checklist of each program that has none yet."""
    created = 0
    for kind, texts in DEFAULT_CRITERIA.items():
        if ProgramCriterion.objects.filter(kind=kind).exists():
            continue
        ProgramCriterion.objects.bulk_create(
            ProgramCriterion(kind=kind, text=text, position=n)
            for n, text in enumerate(texts, start=1)
        )
        created += len(texts)
    return created


def active_criteria(kind: str) -> list[ProgramCriterion]:
    return list(ProgramCriterion.objects.filter(kind=kind, is_active=True).order_by("position"))


def _require_program_manager(by: User) -> None:
    if not is_program_manager(by):
        raise _fail(_("Only supervisors manage terminal programs."))


@transaction.atomic
def program_criterion_add(*, by: User, kind: str, text: str) -> ProgramCriterion:
    _require_program_manager(by)
    if kind not in ProgramKind.values:
        raise _fail(_("Choose a program from the list."), "kind")
    text = text.strip()
    if not text:
        raise _fail(_("Write the criterion."), "text")
    if ProgramCriterion.objects.filter(kind=kind, text=text, is_active=True).exists():
        raise _fail(_("This program already has this criterion."), "text")
    last = ProgramCriterion.objects.filter(kind=kind).order_by("-position").first()
    criterion = ProgramCriterion(kind=kind, text=text, position=(last.position + 1) if last else 1)
    criterion.full_clean()
    criterion.save()
    return criterion


@transaction.atomic
def program_criterion_update(
    *, by: User, criterion: ProgramCriterion, text: str, is_active: bool
) -> ProgramCriterion:
    """Edit or retire a criterion; reviews already made keep the counts they had."""
    _require_program_manager(by)
    text = text.strip()
    if not text:
        raise _fail(_("Write the criterion."), "text")
    duplicate = (
        ProgramCriterion.objects.filter(kind=criterion.kind, text=text, is_active=True)
        .exclude(pk=criterion.pk)
        .exists()
    )
    if duplicate and is_active:
        raise _fail(_("This program already has this criterion."), "text")
    criterion.text, criterion.is_active = text, is_active
    criterion.full_clean()
    criterion.save(update_fields=["text", "is_active", "updated_at"])
    return criterion


# --- Program membership -----------------------------------------------------------------------


def _sync_store_flags(retailer_id: int) -> None:
    """Keep the retailer's standard/demonstration flags (shown by the API) in step."""
    kinds = set(
        ProgramMembership.objects.filter(
            retailer_id=retailer_id, status=MembershipStatus.ACTIVE
        ).values_list("kind", flat=True)
    )
    Retailer.objects.filter(pk=retailer_id).update(
        is_standard_store=ProgramKind.STANDARD in kinds,
        is_demonstration_store=ProgramKind.DEMONSTRATION in kinds,
    )


def demonstration_count(route_id: int) -> int:
    return ProgramMembership.objects.filter(
        retailer__route_id=route_id,
        kind=ProgramKind.DEMONSTRATION,
        status=MembershipStatus.ACTIVE,
    ).count()


@transaction.atomic
def program_enrol(
    *, by: User, retailer: Retailer, kind: str, since: dt.date | None = None, note: str = ""
) -> ProgramMembership:
    """Enrol a store in a program. A route may go past the demonstration target (the overview
    warns), because the target is guidance ("about 5 per route"), not a cap."""
    _require_program_manager(by)
    if kind not in ProgramKind.values:
        raise _fail(_("Choose a program from the list."), "kind")
    retailer = Retailer.objects.select_for_update().get(pk=retailer.pk)
    if not visible_retailers(by).filter(pk=retailer.pk).exists():
        raise _fail(_("No retailer of yours has this licence number."), "licence_number")
    if retailer.status != RetailerStatus.ACTIVE:
        raise _fail(_("Only active retailers can join a program."), "licence_number")
    since = since or timezone.localdate()
    if since > timezone.localdate():
        raise _fail(_("The start date cannot be in the future."), "since")
    if ProgramMembership.objects.filter(
        retailer=retailer, kind=kind, status=MembershipStatus.ACTIVE
    ).exists():
        raise _fail(
            _("%(name)s is already a member of this program.") % {"name": retailer.name},
            "licence_number",
        )
    membership = ProgramMembership(
        retailer=retailer, kind=kind, since=since, note=note.strip(), enrolled_by=by
    )
    membership.full_clean()
    membership.save()
    _sync_store_flags(retailer.pk)
    return membership


@transaction.atomic
def program_withdraw(
    *, by: User, membership: ProgramMembership, until: dt.date | None = None, note: str = ""
) -> ProgramMembership:
    _require_program_manager(by)
    membership = ProgramMembership.objects.select_for_update().get(pk=membership.pk)
    if not visible_retailers(by).filter(pk=membership.retailer_id).exists():
        raise _fail(_("This store is not one of yours."))
    if membership.status != MembershipStatus.ACTIVE:
        raise _fail(_("This store has already left the program."))
    until = until or timezone.localdate()
    if until < membership.since:
        raise _fail(_("The end date is before the store joined."), "until")
    membership.status, membership.until, membership.withdrawn_by = (
        MembershipStatus.WITHDRAWN,
        until,
        by,
    )
    if note.strip():
        membership.note = note.strip()[:200]
    membership.save(update_fields=["status", "until", "withdrawn_by", "note"])
    _sync_store_flags(membership.retailer_id)
    return membership


# --- Reviews on visits ------------------------------------------------------------------------


@transaction.atomic
def program_review_record(
    *,
    by: User,
    visit: Visit,
    membership: ProgramMembership,
    met: Iterable[int],
    notes: str = "",
    at: dt.datetime | None = None,
) -> ProgramReview:
    """Store which criteria a member met, with the visit it was checked at (one per visit:
    ticking again during the same visit replaces the earlier answer).

    ``at`` is for loading history (the demo); pages and the API use the current time, and only
    the visit's own account manager may review, while the visit is open.
    """
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    membership = ProgramMembership.objects.select_for_update().get(pk=membership.pk)
    if at is None:
        if visit.account_manager_id != by.pk:
            raise _fail(_("Only the account manager on this visit reviews the store."))
        if not visit.is_open:
            raise _fail(_("This visit is closed; reviews are made during a visit."))
    if membership.retailer_id != visit.retailer_id:
        raise _fail(_("This membership is not the visited retailer's."), "membership")
    if membership.status != MembershipStatus.ACTIVE:
        raise _fail(_("This store has left the program."), "membership")
    criteria = active_criteria(membership.kind)
    if not criteria:
        raise _fail(_("This program has no criteria to review yet."), "criteria")
    met = set(met)
    known = {c.pk for c in criteria}
    unknown = met - known
    if unknown:
        raise _fail(_("Tick criteria of this program only."), "criteria")
    review, _created = ProgramReview.objects.update_or_create(
        membership=membership,
        visit=visit,
        defaults={
            "reviewed_at": at or timezone.now(),
            "reviewed_by": by,
            "criteria_total": len(criteria),
            "criteria_met": len(met),
            "notes": notes.strip()[:200],
        },
    )
    ProgramReviewItem.objects.filter(review=review).delete()
    ProgramReviewItem.objects.bulk_create(
        ProgramReviewItem(review=review, criterion=c, met=c.pk in met) for c in criteria
    )
    return review
