"""Read queries for retailer training and terminal programs, scoped to the user (DESIGN §3).

A training session is visible to whoever may see its route, or, for a district-wide session,
any route of its district; its attendance only for the retailers the user may see. Program
memberships are visible with their retailer (``retailers.selectors.visible_retailers``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from retailers.models import Retailer, RetailerStatus
from retailers.selectors import visible_retailers
from territory.models import Route
from territory.selectors import route_scope, visible_districts, visible_routes
from visits.models import (
    AttendanceStatus,
    MembershipStatus,
    ProgramCriterion,
    ProgramKind,
    ProgramMembership,
    ProgramReview,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
    Visit,
)
from visits.programs.services import demonstration_target, session_retailers

#: A member not reviewed for this many days is flagged on the overview (a query may change it).
DEFAULT_STALE_DAYS = 30


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- Training ---------------------------------------------------------------------------------


def visible_sessions(user: User) -> QuerySet[TrainingSession]:
    sessions = TrainingSession.objects.all()
    if route_scope(user) is None:
        return sessions
    return sessions.filter(
        Q(route__in=visible_routes(user).values("pk"))
        | Q(route__isnull=True, district__in=visible_districts(user).values("pk"))
    )


def _attendance_counts(user: User, prefix: str = "") -> dict:
    """Attended/absent counts over the retailers the user may see."""
    scope = route_scope(user, prefix=f"{prefix}retailer__route__")
    base = Q() if scope is None else scope
    return {
        "attended": Count(
            f"{prefix}id", filter=base & Q(**{f"{prefix}status": AttendanceStatus.ATTENDED})
        ),
        "absent": Count(
            f"{prefix}id", filter=base & Q(**{f"{prefix}status": AttendanceStatus.ABSENT})
        ),
    }


def session_list(
    *, user: User, topic: str | None = None, route: Route | None = None
) -> QuerySet[TrainingSession]:
    sessions = visible_sessions(user).select_related("district", "route", "created_by")
    if topic:
        sessions = sessions.filter(topic=topic)
    if route is not None:
        sessions = sessions.filter(Q(route=route) | Q(route__isnull=True, district=route.district))
    return sessions.annotate(**_attendance_counts(user, "attendance__")).order_by("-held_on", "-id")


def session_detail(*, user: User, pk: int) -> TrainingSession:
    """One visible session; raises ``TrainingSession.DoesNotExist``."""
    return visible_sessions(user).select_related("district", "route", "created_by").get(pk=pk)


def session_routes(session: TrainingSession, user: User) -> list[Route]:
    """The routes whose retailers the user may record for this session."""
    routes = visible_routes(user).filter(district_id=session.district_id)
    if session.route_id is not None:
        routes = routes.filter(pk=session.route_id)
    return list(routes.order_by("code"))


@dataclass
class AttendanceRow:
    retailer: Retailer
    status: str


def attendance_rows(*, session: TrainingSession, user: User, route: Route) -> list[AttendanceRow]:
    """The active retailers of ``route`` in the session's scope, with what was recorded
    (closed retailers appear only when something was recorded for them)."""
    recorded = dict(
        TrainingAttendance.objects.filter(session=session, retailer__route=route).values_list(
            "retailer_id", "status"
        )
    )
    retailers = (
        session_retailers(session, user)
        .filter(route=route)
        .filter(Q(status=RetailerStatus.ACTIVE) | Q(pk__in=list(recorded)))
        .only("id", "name", "stop_order", "star", "licence_number", "status")
        .order_by("stop_order", "id")
    )
    return [AttendanceRow(r, recorded.get(r.pk, "")) for r in retailers]


def session_attendance(*, session: TrainingSession, user: User) -> list[TrainingAttendance]:
    """What was recorded for the retailers the user may see, in route and stop order."""
    return list(
        TrainingAttendance.objects.filter(
            session=session, retailer__in=visible_retailers(user).values("pk")
        )
        .select_related("retailer__route")
        .order_by("retailer__route__code", "retailer__stop_order", "retailer_id")
    )


def retailer_trainings(*, retailer: Retailer) -> list[TrainingAttendance]:
    return list(
        TrainingAttendance.objects.filter(retailer=retailer)
        .select_related("session")
        .order_by("-session__held_on", "-session_id")
    )


def half_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1 if day.month <= 6 else 7, 1)


@dataclass
class TrainingSummaryRow:
    label: str
    route: Route | None
    active: int = 0
    by_topic: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TrainingTopic.values, 0))
    trained: int = 0
    sessions: int = 0

    @property
    def topics(self) -> list[int]:
        return [self.by_topic[t] for t in TrainingTopic.values]

    @property
    def trained_share(self) -> Decimal | None:
        return _percent(self.trained, self.active)


@dataclass
class TrainingSummary:
    since: dt.date
    until: dt.date
    rows: list[TrainingSummaryRow]
    total: TrainingSummaryRow


def training_summary(*, user: User, since: dt.date, until: dt.date) -> TrainingSummary:
    """Per visible route: distinct retailers who attended a training of each topic held from
    ``since`` to ``until``, retailers who attended any, and active retailers today. A retailer
    counts on its current route; sessions count on their route (district-wide ones on none)."""
    routes = list(visible_routes(user).order_by("district__code", "code"))
    rows = {r.pk: TrainingSummaryRow(label=f"{r.district.code} {r.code}", route=r) for r in routes}
    total = TrainingSummaryRow(label="total", route=None)
    route_ids = list(rows)
    attended = TrainingAttendance.objects.filter(
        status=AttendanceStatus.ATTENDED,
        session__held_on__gte=since,
        session__held_on__lte=until,
        retailer__route_id__in=route_ids,
    )
    by_topic = (
        attended.values("retailer__route_id", "session__topic")
        .annotate(n=Count("retailer_id", distinct=True))
        .order_by()
    )
    for item in by_topic:
        rows[item["retailer__route_id"]].by_topic[item["session__topic"]] += item["n"]
    totals_by_topic = (
        attended.values("session__topic").annotate(n=Count("retailer_id", distinct=True)).order_by()
    )
    for item in totals_by_topic:
        total.by_topic[item["session__topic"]] = item["n"]
    for item in (
        attended.values("retailer__route_id")
        .annotate(n=Count("retailer_id", distinct=True))
        .order_by()
    ):
        rows[item["retailer__route_id"]].trained = item["n"]
    total.trained = attended.values("retailer_id").distinct().count()
    for item in (
        Retailer.objects.filter(route_id__in=route_ids, status=RetailerStatus.ACTIVE)
        .values("route_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[item["route_id"]].active = item["n"]
        total.active += item["n"]
    sessions = visible_sessions(user).filter(held_on__gte=since, held_on__lte=until)
    for item in sessions.values("route_id").annotate(n=Count("id")).order_by():
        if item["route_id"] in rows:
            rows[item["route_id"]].sessions = item["n"]
    total.sessions = sessions.count()
    return TrainingSummary(since=since, until=until, rows=list(rows.values()), total=total)


# --- Programs ---------------------------------------------------------------------------------


def criteria_by_kind(*, active_only: bool = True) -> dict[str, list[ProgramCriterion]]:
    criteria = ProgramCriterion.objects.order_by("kind", "position", "id")
    if active_only:
        criteria = criteria.filter(is_active=True)
    grouped: dict[str, list[ProgramCriterion]] = {kind: [] for kind in ProgramKind.values}
    for criterion in criteria:
        grouped[criterion.kind].append(criterion)
    return grouped


def visible_memberships(user: User) -> QuerySet[ProgramMembership]:
    scope = route_scope(user, prefix="retailer__route__")
    memberships = ProgramMembership.objects.all()
    return memberships if scope is None else memberships.filter(scope)


def _latest_review(field_name: str) -> Subquery:
    return Subquery(
        ProgramReview.objects.filter(membership=OuterRef("pk"))
        .order_by("-reviewed_at", "-id")
        .values(field_name)[:1]
    )


def with_last_review(memberships: QuerySet[ProgramMembership]) -> QuerySet[ProgramMembership]:
    """Annotate ``last_reviewed_at``, ``last_met`` and ``last_total`` from the latest review."""
    return memberships.annotate(
        last_reviewed_at=_latest_review("reviewed_at"),
        last_met=_latest_review("criteria_met"),
        last_total=_latest_review("criteria_total"),
    )


def stale_before(days: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=days)


def membership_list(
    *,
    user: User,
    kind: str | None = None,
    route: Route | None = None,
    status: str | None = MembershipStatus.ACTIVE,
    stale_days: int | None = None,
) -> QuerySet[ProgramMembership]:
    """Visible memberships with their latest review; ``stale_days`` keeps the active members
    not reviewed (or never reviewed) in that many days."""
    memberships = with_last_review(
        visible_memberships(user).select_related("retailer__route__district", "enrolled_by")
    )
    if kind:
        memberships = memberships.filter(kind=kind)
    if route is not None:
        memberships = memberships.filter(retailer__route=route)
    if status:
        memberships = memberships.filter(status=status)
    if stale_days is not None:
        memberships = memberships.filter(status=MembershipStatus.ACTIVE).filter(
            Q(last_reviewed_at__isnull=True) | Q(last_reviewed_at__lt=stale_before(stale_days))
        )
    return memberships.order_by(
        "retailer__route__district__code", "retailer__route__code", "kind", "retailer__stop_order"
    )


def membership_detail(*, user: User, pk: int) -> ProgramMembership:
    return visible_memberships(user).select_related("retailer__route").get(pk=pk)


@dataclass
class KindCount:
    members: int = 0
    stale: int = 0


@dataclass
class OverviewRow:
    route: Route | None
    label: str
    by_kind: dict[str, KindCount] = field(
        default_factory=lambda: {kind: KindCount() for kind in ProgramKind.values}
    )
    last_reviewed_at: dt.datetime | None = None
    met: int = 0
    total: int = 0
    demonstration_over: bool = False

    @property
    def kinds(self) -> list[KindCount]:
        return [self.by_kind[k] for k in ProgramKind.values]

    @property
    def members(self) -> int:
        return sum(c.members for c in self.by_kind.values())

    @property
    def stale(self) -> int:
        return sum(c.stale for c in self.by_kind.values())

    @property
    def met_share(self) -> Decimal | None:
        return _percent(self.met, self.total)


@dataclass
class ProgramOverview:
    rows: list[OverviewRow]
    total: OverviewRow
    stale_days: int
    target: int

    @property
    def over_target(self) -> list[OverviewRow]:
        return [row for row in self.rows if row.demonstration_over]


def program_overview(*, user: User, stale_days: int = DEFAULT_STALE_DAYS) -> ProgramOverview:
    """Per visible route: active members per program, members not reviewed in ``stale_days``,
    the latest review date, and the share of criteria met at each member's latest review
    (Σ met / Σ criteria over the members reviewed); routes over the demonstration target
    (``DEMONSTRATION_STORES_PER_ROUTE``, default 5) are flagged."""
    target = demonstration_target()
    routes = list(visible_routes(user).order_by("district__code", "code"))
    rows = {r.pk: OverviewRow(route=r, label=f"{r.district.code} {r.code}") for r in routes}
    total = OverviewRow(route=None, label="total")
    cutoff = stale_before(stale_days)
    members = with_last_review(
        ProgramMembership.objects.filter(
            status=MembershipStatus.ACTIVE, retailer__route_id__in=list(rows)
        )
    ).values("kind", "retailer__route_id", "last_reviewed_at", "last_met", "last_total")
    for member in members:
        row = rows[member["retailer__route_id"]]
        reviewed = member["last_reviewed_at"]
        for target_row in (row, total):
            count = target_row.by_kind[member["kind"]]
            count.members += 1
            if reviewed is None or reviewed < cutoff:
                count.stale += 1
            if reviewed is not None:
                target_row.met += member["last_met"]
                target_row.total += member["last_total"]
                if target_row.last_reviewed_at is None or reviewed > target_row.last_reviewed_at:
                    target_row.last_reviewed_at = reviewed
    for row in rows.values():
        row.demonstration_over = row.by_kind[ProgramKind.DEMONSTRATION].members > target
    return ProgramOverview(
        rows=list(rows.values()), total=total, stale_days=stale_days, target=target
    )


def retailer_programs(*, retailer: Retailer) -> list[ProgramMembership]:
    """The retailer's memberships, active first, each with its latest review."""
    return list(
        with_last_review(ProgramMembership.objects.filter(retailer=retailer)).order_by(
            "status", "kind", "-since"
        )
    )


@dataclass
class ReviewForm:
    """A member's checklist on the visit page: the criteria and what this visit ticked."""

    membership: ProgramMembership
    criteria: list[ProgramCriterion]
    review: ProgramReview | None
    met: set[int]
    errors: list[str] = field(default_factory=list)


def visit_review_forms(*, visit: Visit) -> list[ReviewForm]:
    memberships = list(
        ProgramMembership.objects.filter(
            retailer_id=visit.retailer_id, status=MembershipStatus.ACTIVE
        )
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=ProgramReview.objects.filter(visit=visit).prefetch_related("items"),
                to_attr="this_visit",
            )
        )
        .order_by("kind")
    )
    criteria = criteria_by_kind()
    forms = []
    for membership in memberships:
        review = membership.this_visit[0] if membership.this_visit else None
        met = {item.criterion_id for item in review.items.all() if item.met} if review else set()
        forms.append(ReviewForm(membership, criteria[membership.kind], review, met))
    return forms


def visit_reviews(*, visit: Visit) -> list[ProgramReview]:
    return list(
        ProgramReview.objects.filter(visit=visit)
        .select_related("membership")
        .prefetch_related("items__criterion")
    )
