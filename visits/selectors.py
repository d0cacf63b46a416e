"""Read queries for visits, scoped to the user through the retailers' routes (DESIGN §3)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from allocation.selectors import published_awards
from retailers.models import Retailer
from retailers.selectors import visible_retailers
from settlement.selectors import BalanceWarning, balance_warnings
from territory.models import Cycle, District, Route
from territory.selectors import cycle_for_day, route_scope, visible_routes
from visits import rules
from visits.models import (
    EmergencyRequest,
    FollowUp,
    ServicePolicy,
    ServicePolicyChange,
    StockObservation,
    Visit,
    VisitPlan,
)

HISTORY_SIZE = 20


def _scoped(queryset: QuerySet, user: User, prefix: str) -> QuerySet:
    scope = route_scope(user, prefix=prefix)
    return queryset if scope is None else queryset.filter(scope)


def visible_visits(user: User) -> QuerySet[Visit]:
    """Visits to the retailers the user may see (their current route decides)."""
    return _scoped(Visit.objects.all(), user, "retailer__route__")


def visible_plan(user: User) -> QuerySet[VisitPlan]:
    return _scoped(VisitPlan.objects.all(), user, "retailer__route__")


def policies_by_star() -> dict[int, ServicePolicy]:
    return {policy.star: policy for policy in ServicePolicy.objects.all()}


def policy_for(*, star: int | None) -> ServicePolicy | None:
    """The policy that serves retailers of ``star`` (``None``: unrated)."""
    return ServicePolicy.objects.filter(star=rules.policy_star(star)).first()


def policy_list() -> QuerySet[ServicePolicy]:
    return ServicePolicy.objects.select_related("updated_by").order_by("-star")


def policy_history(*, limit: int = 30) -> QuerySet[ServicePolicyChange]:
    return ServicePolicyChange.objects.select_related("policy", "changed_by")[:limit]


# --- Badges from other apps -------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A short flag shown beside a retailer: ``tone`` is ``ok``, ``warn``, ``bad`` or empty."""

    label: str
    tone: str = ""
    title: str = ""


def _balance_badge(warning: BalanceWarning) -> Badge:
    amounts = _("Balance ¥%(balance)s, expected order ¥%(expected)s (order day %(day)s)") % {
        "balance": warning.balance,
        "expected": warning.expected_amount,
        "day": warning.order_date,
    }
    if warning.help_deposit and not warning.helped:
        return Badge(_("Help deposit"), "bad", amounts)
    if warning.helped:
        return Badge(_("Deposit helped"), "ok", amounts)
    return Badge(_("Low balance"), "warn", amounts)


def extra_badges(
    *, user: User, retailer_ids: Iterable[int], day: dt.date | None = None
) -> dict[int, list[Badge]]:
    """Per retailer, the flags other capabilities raise for the account manager's day.

    The one place that gathers them for Today and the retailer card: balance warnings and
    help-deposit requests from settlement (DESIGN §2.3) and published scarce-brand awards
    from allocation (§2.5). Each source answers for all the retailers in one query.
    """
    wanted = set(retailer_ids)
    day = day or timezone.localdate()
    badges: dict[int, list[Badge]] = defaultdict(list)
    for retailer_id, warning in balance_warnings(user=user, day=day).items():
        if retailer_id in wanted:
            badges[retailer_id].append(_balance_badge(warning))
    cycle = cycle_for_day(day)
    if cycle is not None and wanted:
        for retailer_id, awards in published_awards(user, cycle, wanted).items():
            for brand, cartons in awards:
                label = _("%(brand)s ×%(cartons)s") % {"brand": brand.name, "cartons": cartons}
                badges[retailer_id].append(Badge(label, "ok", _("Published scarce-brand award")))
    return badges


# --- Today ------------------------------------------------------------------------------------


@dataclass
class TodayRow:
    entry: VisitPlan
    policy: ServicePolicy | None
    last_visit_at: dt.datetime | None
    open_follow_ups: list[FollowUp]
    badges: list[Badge]

    @property
    def retailer(self) -> Retailer:
        return self.entry.retailer

    @property
    def visit(self) -> Visit | None:
        return getattr(self.entry, "visit", None)

    @property
    def stars(self) -> str:
        return "★" * (self.entry.retailer.star or 0)

    @property
    def state(self) -> str:
        if self.visit is None:
            return "todo"
        return "open" if self.visit.is_open else "done"


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def today_rows(*, user: User, day: dt.date) -> list[TodayRow]:
    """The account manager's plan for a day in route and stop order, with what to know first."""
    last_visit = (
        Visit.objects.filter(
            retailer=OuterRef("retailer_id"),
            checked_out_at__isnull=False,
            checked_in_at__lt=_day_start(day),
        )
        .order_by("-checked_in_at")
        .values("checked_in_at")[:1]
    )
    entries = list(
        visible_plan(user)
        .filter(account_manager=user, day=day)
        .select_related("retailer", "route", "visit")
        .prefetch_related(
            Prefetch(
                "retailer__follow_ups",
                queryset=FollowUp.objects.filter(done_in__isnull=True).order_by("id"),
                to_attr="open_follow_ups",
            )
        )
        .annotate(last_visit_at=Subquery(last_visit))
        .order_by("route__code", "retailer__stop_order", "retailer_id", "sequence")
    )
    # The route of the day first, in stop order; then extra visits on other routes.
    entries.sort(key=lambda e: e.route.visit_weekday != day.weekday())
    policies = policies_by_star()
    badges = extra_badges(user=user, retailer_ids=[e.retailer_id for e in entries], day=day)
    return [
        TodayRow(
            entry=entry,
            policy=policies.get(rules.policy_star(entry.retailer.star)),
            last_visit_at=entry.last_visit_at,
            open_follow_ups=entry.retailer.open_follow_ups,
            badges=badges.get(entry.retailer_id, []),
        )
        for entry in entries
    ]


def open_visit_of(user: User) -> Visit | None:
    return (
        Visit.objects.filter(account_manager=user, checked_out_at__isnull=True)
        .select_related("retailer")
        .first()
    )


# --- Retailer card and visit pages ------------------------------------------------------------


@dataclass
class RetailerCard:
    retailer: Retailer
    policy: ServicePolicy | None
    emergency_eligible: bool
    open_visit: Visit | None
    can_log: bool
    open_follow_ups: list[FollowUp]
    history: list[Visit]
    emergency_requests: list[EmergencyRequest]
    badges: list[Badge] = field(default_factory=list)


def retailer_card(*, user: User, retailer: Retailer) -> RetailerCard:
    """What the account manager sees before and after a visit: focus, follow-ups, history."""
    policy = policy_for(star=retailer.star)
    history = list(
        Visit.objects.filter(retailer=retailer)
        .select_related("account_manager")
        .prefetch_related("stock__brand", "follow_ups_created")
        .order_by("-checked_in_at", "-id")[:HISTORY_SIZE]
    )
    return RetailerCard(
        retailer=retailer,
        policy=policy,
        emergency_eligible=rules.emergency_eligible(
            retailer, policy_allows=bool(policy and policy.emergency_delivery)
        ),
        open_visit=next((v for v in history if v.is_open), None),
        can_log=user.is_account_manager and retailer.route.account_manager_id == user.pk,
        open_follow_ups=list(
            FollowUp.objects.filter(retailer=retailer, done_in__isnull=True)
            .select_related("created_in")
            .order_by("id")
        ),
        history=history,
        emergency_requests=list(
            EmergencyRequest.objects.filter(retailer=retailer).select_related("brand")[:10]
        ),
        badges=extra_badges(user=user, retailer_ids=[retailer.pk]).get(retailer.pk, []),
    )


def visit_detail(*, user: User, pk: int) -> Visit:
    """One visible visit with what was recorded; raises ``Visit.DoesNotExist``."""
    return (
        visible_visits(user)
        .select_related("retailer__route", "account_manager", "plan", "cycle")
        .prefetch_related(
            Prefetch("stock", queryset=StockObservation.objects.select_related("brand")),
            "follow_ups_created__done_in",
            "follow_ups_done",
            Prefetch(
                "emergency_requests", queryset=EmergencyRequest.objects.select_related("brand")
            ),
        )
        .get(pk=pk)
    )


def open_follow_ups(*, retailer: Retailer) -> list[FollowUp]:
    return list(
        FollowUp.objects.filter(retailer=retailer, done_in__isnull=True)
        .select_related("created_in")
        .order_by("id")
    )


def visit_list(*, user: User) -> QuerySet[Visit]:
    """Visible visits, newest first, for lists and the API."""
    return (
        visible_visits(user)
        .select_related("retailer", "account_manager", "route", "cycle")
        .prefetch_related(
            Prefetch("stock", queryset=StockObservation.objects.select_related("brand")),
            Prefetch("follow_ups_created", queryset=FollowUp.objects.order_by("id")),
            Prefetch("follow_ups_done", queryset=FollowUp.objects.only("id", "done_in_id")),
        )
        .order_by("-checked_in_at", "-id")
    )


# --- Plan pages -------------------------------------------------------------------------------


def plan_entries(
    *, user: User, cycle: Cycle, route: Route | None = None, day: dt.date | None = None
) -> QuerySet[VisitPlan]:
    entries = (
        visible_plan(user)
        .filter(cycle=cycle)
        .select_related("retailer", "route", "account_manager", "visit", "moved_by")
    )
    if route is not None:
        entries = entries.filter(route=route)
    if day is not None:
        entries = entries.filter(day=day)
    return entries.order_by("day", "route__code", "retailer__stop_order", "sequence")


@dataclass
class PlanDay:
    day: dt.date
    planned: int
    done: int


def plan_days(*, user: User, cycle: Cycle) -> list[PlanDay]:
    rows = (
        visible_plan(user)
        .filter(cycle=cycle)
        .values("day")
        .annotate(
            planned=Count("id"), done=Count("id", filter=Q(visit__checked_out_at__isnull=False))
        )
        .order_by("day")
    )
    return [PlanDay(row["day"], row["planned"], row["done"]) for row in rows]


# --- Compliance -------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class ComplianceRow:
    """Plan adherence and stay of one group of visits in a cycle."""

    label: str
    planned: int = 0
    done: int = 0
    visits: int = 0
    unplanned: int = 0
    stay_ok: int = 0
    stay_total: int = 0
    required_total: int = 0

    @property
    def done_share(self) -> Decimal | None:
        return _percent(self.done, self.planned)

    @property
    def short(self) -> int:
        return self.visits - self.stay_ok

    @property
    def stay_ok_share(self) -> Decimal | None:
        return _percent(self.stay_ok, self.visits)

    @property
    def average_stay(self) -> Decimal | None:
        if self.visits == 0:
            return None
        return (Decimal(self.stay_total) / Decimal(self.visits)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def average_required(self) -> Decimal | None:
        if self.visits == 0:
            return None
        return (Decimal(self.required_total) / Decimal(self.visits)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


@dataclass
class MissedRetailer:
    retailer: Retailer
    planned: int
    visited: int
    last_visit_at: dt.datetime | None


@dataclass
class ComplianceReport:
    cycle: Cycle
    district: District | None
    total: ComplianceRow
    by_manager: list[ComplianceRow]
    by_route: list[ComplianceRow]
    by_star: list[ComplianceRow]
    missed: list[MissedRetailer]


STAR_ORDER = (5, 4, 3, 2, 1, None)


def _star_label(star: int | None) -> str:
    return str(_("Unrated")) if star is None else f"{star}★"


def compliance_report(*, user: User, cycle: Cycle, district: District | None) -> ComplianceReport:
    """Planned vs done visits and stay vs the policy minimum, per manager, route and star.

    * planned: plan entries of the cycle; done: those whose visit is checked out (a visit counts
      for the entry of its retailer and day, DESIGN §2.6 "time 到位").
    * visits, unplanned, stay: checked-out visits of the cycle; a stay is enough when it is at
      least the policy's minimum in force at check-in.
    * missed: retailers with fewer checked-out visits in the cycle (planned or not) than the
      plan asked for, i.e. not visited as their policy requires.

    Rows are grouped by the route, manager and star recorded on the entry and on the visit.
    """
    routes = visible_routes(user)
    if district is not None:
        routes = routes.filter(district=district)
    route_labels = dict(routes.values_list("pk", "code"))
    route_ids = list(route_labels)
    plans = VisitPlan.objects.filter(cycle=cycle, route_id__in=route_ids)
    visits = Visit.objects.filter(cycle=cycle, route_id__in=route_ids, checked_out_at__isnull=False)
    plan_counts = (
        plans.values("account_manager_id", "route_id", "star")
        .annotate(
            planned=Count("id"), done=Count("id", filter=Q(visit__checked_out_at__isnull=False))
        )
        .order_by()
    )
    visit_counts = (
        visits.values("account_manager_id", "route_id", "star")
        .annotate(
            visits=Count("id"),
            unplanned=Count("id", filter=Q(plan__isnull=True)),
            stay_ok=Count("id", filter=Q(stay_minutes__gte=F("required_stay_minutes"))),
            stay_total=Sum("stay_minutes"),
            required_total=Sum("required_stay_minutes"),
        )
        .order_by()
    )
    manager_ids = {row["account_manager_id"] for row in plan_counts} | {
        row["account_manager_id"] for row in visit_counts
    }
    managers = {u.pk: str(u) for u in User.objects.filter(pk__in=manager_ids - {None})}
    total = ComplianceRow(label=str(_("Total")))
    by_manager: dict = {}
    by_route: dict = {}
    by_star: dict = {}

    def rows_for(item):
        manager = item["account_manager_id"]
        return (
            total,
            by_manager.setdefault(manager, ComplianceRow(managers.get(manager, "—"))),
            by_route.setdefault(item["route_id"], ComplianceRow(route_labels[item["route_id"]])),
            by_star.setdefault(item["star"], ComplianceRow(_star_label(item["star"]))),
        )

    for item in plan_counts:
        for row in rows_for(item):
            row.planned += item["planned"]
            row.done += item["done"]
    for item in visit_counts:
        for row in rows_for(item):
            row.visits += item["visits"]
            row.unplanned += item["unplanned"]
            row.stay_ok += item["stay_ok"]
            row.stay_total += item["stay_total"] or 0
            row.required_total += item["required_total"] or 0
    return ComplianceReport(
        cycle=cycle,
        district=district,
        total=total,
        by_manager=sorted(by_manager.values(), key=lambda r: r.label),
        by_route=[by_route[pk] for pk in sorted(by_route, key=lambda pk: route_labels[pk])],
        by_star=[by_star[s] for s in STAR_ORDER if s in by_star],
        missed=_missed(cycle=cycle, plans=plans, route_ids=route_ids),
    )


def _missed(
    *, cycle: Cycle, plans: QuerySet[VisitPlan], route_ids: list[int]
) -> list[MissedRetailer]:
    visited = (
        Visit.objects.filter(
            cycle=cycle, retailer=OuterRef("retailer_id"), checked_out_at__isnull=False
        )
        .order_by()
        .values("retailer")
        .annotate(n=Count("id"))
        .values("n")
    )
    short = (
        plans.values("retailer_id")
        .annotate(planned=Count("id"), visited=Subquery(visited))
        .filter(Q(visited__isnull=True) | Q(visited__lt=F("planned")))
        .order_by()
    )
    counts = {row["retailer_id"]: row for row in short}
    last_visit = (
        Visit.objects.filter(retailer=OuterRef("pk"), checked_out_at__isnull=False)
        .order_by("-checked_in_at")
        .values("checked_in_at")[:1]
    )
    retailers = (
        Retailer.objects.filter(pk__in=list(counts))
        .select_related("route", "route__account_manager")
        .annotate(last_visit_at=Subquery(last_visit))
        .order_by("route__code", "stop_order", "id")
    )
    return [
        MissedRetailer(
            retailer=retailer,
            planned=counts[retailer.pk]["planned"],
            visited=counts[retailer.pk]["visited"] or 0,
            last_visit_at=retailer.last_visit_at,
        )
        for retailer in retailers
    ]


def visible_retailer(*, user: User, pk: int) -> Retailer:
    """One visible retailer (for the card); raises ``Retailer.DoesNotExist``."""
    return visible_retailers(user).select_related("route").get(pk=pk)
