"""Read queries for points and allocation, scoped to the user (DESIGN §3).

Supplies and runs are branch-wide: a supervisor of any district of a branch (and an
administrator) sees and acts on them, and sees the lines of the retailers they may see. An
account manager sees only published lines of their own retailers.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from allocation.models import (
    AllocationLine,
    AllocationRun,
    IneligibleReason,
    PointsComputation,
    PointsEntry,
    PointsRule,
    RunEvent,
    RunStatus,
    ScarceSupply,
)
from catalog.models import Brand
from retailers.models import Retailer, RetailerStatus, Violation
from retailers.selectors import visible_retailers
from territory.models import Branch, Cycle, District
from territory.selectors import cycle_for_day, cycle_list, visible_districts

# --- cycles and rules -----------------------------------------------------------------------


def previous_cycle(cycle: Cycle) -> Cycle | None:
    """The cycle whose points share ``cycle``'s supply (DESIGN §2.5: last cycle's points)."""
    return cycle_list().filter(start_date__lt=cycle.start_date).order_by("-start_date").first()


def next_cycle(cycle: Cycle) -> Cycle | None:
    return cycle_list().filter(start_date__gt=cycle.start_date).order_by("start_date").first()


def points_rule_for(cycle: Cycle) -> PointsRule | None:
    """The rule in force at the cycle's start; ``None`` means the default weights."""
    return (
        PointsRule.objects.filter(effective_from__lte=cycle.start_date)
        .order_by("-effective_from")
        .first()
    )


def cycles_awaiting_points(*, today: dt.date) -> QuerySet[Cycle]:
    """Ended cycles whose points were never computed, oldest first (the cycle-close job)."""
    return (
        cycle_list()
        .filter(end_date__lt=today, points_computation__isnull=True)
        .order_by("start_date")
    )


def violation_window(cycle: Cycle, cycles: int) -> tuple[dt.date, dt.date] | None:
    """Dates whose violations exclude a retailer from ``cycle``'s allocation (DESIGN §4).

    The last ``cycles`` cycles before ``cycle`` and ``cycle`` itself, by date; where the
    calendar has fewer earlier cycles, each missing one counts as a week. ``None`` for 0.
    """
    if cycles <= 0:
        return None
    earlier = list(
        cycle_list()
        .filter(start_date__lt=cycle.start_date)
        .order_by("-start_date")
        .values_list("start_date", flat=True)[:cycles]
    )
    if len(earlier) == cycles:
        start = earlier[-1]
    else:
        start = min([*earlier, cycle.start_date]) - dt.timedelta(weeks=cycles - len(earlier))
    return start, cycle.end_date


# --- who may do what ------------------------------------------------------------------------


def manageable_branches(user: User) -> QuerySet[Branch]:
    """Branches whose supplies and runs the user defines, reviews, approves and publishes."""
    if not user.is_authenticated or not user.is_active:
        return Branch.objects.none()
    if user.is_administrator:
        return Branch.objects.all()
    if user.is_supervisor:
        return Branch.objects.filter(
            pk__in=District.objects.filter(supervisor=user).values("branch_id")
        )
    return Branch.objects.none()


def can_manage(user: User, branch: Branch) -> bool:
    return manageable_branches(user).filter(pk=branch.pk).exists()


def is_branch_retailer(retailer: Retailer, branch: Branch) -> bool:
    return Retailer.objects.filter(pk=retailer.pk, route__district__branch=branch).exists()


def visible_supplies(user: User) -> QuerySet[ScarceSupply]:
    return ScarceSupply.objects.filter(branch__in=manageable_branches(user)).select_related(
        "branch", "cycle", "brand"
    )


def visible_runs(user: User) -> QuerySet[AllocationRun]:
    """Runs the user may see: every run of the branches they manage, and the published runs
    of the branches where they serve retailers."""
    runs = AllocationRun.objects.select_related(
        "supply__branch", "supply__cycle", "supply__brand", "points_cycle"
    )
    if user.is_authenticated and user.is_administrator:
        return runs
    served = visible_districts(user).values("branch_id")
    return runs.filter(
        Q(supply__branch__in=manageable_branches(user))
        | Q(supply__branch__in=served, status=RunStatus.PUBLISHED)
    )


def run_lines(*, user: User, run: AllocationRun) -> QuerySet[AllocationLine]:
    """The lines of ``run`` (already checked visible) for the retailers the user may see."""
    return AllocationLine.objects.filter(run=run, retailer__in=visible_retailers(user))


# --- inputs of a run (DESIGN §4) ------------------------------------------------------------


def candidates(
    *,
    branch_id: int,
    supply_id: int,
    cycle: Cycle,
    points_cycle_id: int,
    min_star: int,
    caps: dict[int, int | None],
    unit: int,
    violation_cycles: int,
) -> QuerySet[Retailer]:
    """The branch's active retailers annotated with their points (``pts``) of the points cycle,
    requested quantity, ``cap`` and why they are not eligible (``reason``, empty if eligible).

    Eligible (DESIGN §4): active, star ≥ ``min_star`` (unrated excluded), no violation in the
    window, points > 0, cap ≥ unit; cap = the star's cap lowered to the requested quantity.
    Stars and statuses are the current ones, as the run reads them.
    """
    star_cap = Case(
        *[
            When(star=star, then=Value(cap))
            for star, cap in sorted(caps.items())
            if cap is not None and star >= min_star
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    window = violation_window(cycle, violation_cycles)
    violated = (
        Q(pk__in=Violation.objects.filter(occurred_on__range=window).values("retailer_id"))
        if window
        else Q(pk__in=[])
    )
    return (
        Retailer.objects.filter(route__district__branch_id=branch_id, status=RetailerStatus.ACTIVE)
        .annotate(
            pe=FilteredRelation(
                "points_entries", condition=Q(points_entries__cycle_id=points_cycle_id)
            ),
            rq=FilteredRelation(
                "supply_requests", condition=Q(supply_requests__supply_id=supply_id)
            ),
        )
        .annotate(pts=Coalesce(F("pe__points"), Value(0)), requested=F("rq__cartons"))
        .annotate(
            cap=Case(
                When(requested__lt=star_cap, then=F("requested")),
                default=star_cap,
                output_field=IntegerField(),
            )
        )
        .annotate(
            reason=Case(
                When(star__isnull=True, then=Value(IneligibleReason.UNRATED.value)),
                When(star__lt=min_star, then=Value(IneligibleReason.STAR_BELOW_MINIMUM.value)),
                When(violated, then=Value(IneligibleReason.VIOLATION.value)),
                When(pts__lte=0, then=Value(IneligibleReason.NO_POINTS.value)),
                When(cap__lt=unit, then=Value(IneligibleReason.CAP_BELOW_UNIT.value)),
                default=Value(""),
            )
        )
    )


def _supply_candidates(supply: ScarceSupply, points_cycle: Cycle) -> QuerySet[Retailer]:
    return candidates(
        branch_id=supply.branch_id,
        supply_id=supply.pk,
        cycle=supply.cycle,
        points_cycle_id=points_cycle.pk,
        min_star=supply.min_star,
        caps=supply.caps_by_star,
        unit=supply.unit,
        violation_cycles=supply.violation_cycles,
    )


def any_eligible(*, supply: ScarceSupply, points_cycle: Cycle) -> bool:
    return _supply_candidates(supply, points_cycle).filter(reason="").exists()


INPUT_COLUMNS = ("pk", "licence_number", "star", "route_id", "pts", "requested", "cap", "reason")


#: The columns a run reads, in this order.
RUN_INPUTS = ("pk", "licence_number", "star", "route_id", "pts", "requested", "cap", "reason")


def run_inputs(run: AllocationRun) -> tuple[list, ...]:
    """Everything a run reads, in one query, as one list per column in retailer id order:
    ``(ids, licences, stars, route_ids, points, requested, caps, reasons)``."""
    query = (
        candidates(
            branch_id=run.supply.branch_id,
            supply_id=run.supply_id,
            cycle=run.supply.cycle,
            points_cycle_id=run.points_cycle_id,
            min_star=run.min_star,
            caps=run.caps_by_star,
            unit=run.unit,
            violation_cycles=run.violation_cycles,
        )
        .order_by("pk")
        .values_list(*RUN_INPUTS)
    )
    # The values as the driver returns them: every column is already a plain int, str or
    # None, and skipping the ORM's per-row converters saves a second per 500,000 retailers.
    sql, params = query.query.sql_with_params()
    width = len(RUN_INPUTS)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return tuple(map(list, zip(*cursor.fetchall(), strict=True))) or ([],) * width
        # On PostgreSQL, one row of arrays: the driver builds each column's list in C, where
        # 500,000 row tuples and their transposition cost a second more. The arrays take the
        # rows in the subquery's order (checked below: never trusted blindly).
        names = [f"c{i}" for i in range(width)]
        cursor.execute(
            f"SELECT {', '.join(f'array_agg(q.{n})' for n in names)}"  # noqa: S608 - names only
            f" FROM ({sql}) q({', '.join(names)})",
            params,
        )
        columns = cursor.fetchone()
    if columns[0] is None:  # no row at all
        return ([],) * width
    ids = columns[0]
    if not all(map(operator.lt, ids, islice(ids, 1, None))):
        order = sorted(range(len(ids)), key=ids.__getitem__)
        columns = tuple([column[i] for i in order] for column in columns)
    return tuple(columns)


# --- pages ----------------------------------------------------------------------------------


def default_cycle(today: dt.date) -> Cycle | None:
    """The cycle a supervisor plans supplies for: the current one, else the next."""
    return cycle_for_day(today) or cycle_list().filter(start_date__gt=today).first()


def supply_list(*, user: User, cycle: Cycle) -> list[ScarceSupply]:
    """The cycle's supplies the user manages, each with its runs (newest first)."""
    return list(
        visible_supplies(user)
        .filter(cycle=cycle)
        .prefetch_related(
            Prefetch("runs", queryset=AllocationRun.objects.order_by("-number"), to_attr="run_list")
        )
        .order_by("branch__code", "brand__price_class", "brand__code")
    )


def supply_detail(*, user: User, pk: int) -> ScarceSupply:
    """Raises ``ScarceSupply.DoesNotExist`` for a supply the user does not manage."""
    return (
        visible_supplies(user)
        .prefetch_related(
            Prefetch(
                "runs",
                queryset=AllocationRun.objects.select_related(
                    "requested_by", "approved_by", "published_by"
                ).order_by("-number"),
                to_attr="run_list",
            )
        )
        .get(pk=pk)
    )


def managed_run(*, user: User, pk: int) -> AllocationRun:
    """A run of a branch the user manages; raises ``AllocationRun.DoesNotExist`` otherwise."""
    return (
        AllocationRun.objects.select_related(
            "supply__branch",
            "supply__cycle",
            "supply__brand",
            "points_cycle",
            "requested_by",
            "approved_by",
            "published_by",
            "supersedes",
            "superseded_by",
        )
        .filter(supply__branch__in=manageable_branches(user))
        .get(pk=pk)
    )


def run_events(run: AllocationRun) -> QuerySet[RunEvent]:
    return run.events.select_related("by").order_by("at", "id")


@dataclass
class Bucket:
    """Lines of a run grouped by star or route."""

    label: str
    retailers: int = 0
    eligible: int = 0
    awarded: int = 0
    cartons: int = 0


def _buckets(run: AllocationRun, *keys: str) -> list[dict]:
    return list(
        AllocationLine.objects.filter(run=run)
        .values(*keys)
        .annotate(
            retailers=Count("id"),
            eligible_n=Count("id", filter=Q(eligible=True)),
            awarded=Count("id", filter=Q(award__gt=0)),
            cartons=Coalesce(Sum("award"), 0),
        )
        .order_by(*keys)
    )


def by_star(run: AllocationRun) -> list[Bucket]:
    """The whole run by star, 5★ first, unrated last (the supervisor approves all of it)."""
    rows = {row["star"]: row for row in _buckets(run, "star")}
    out = []
    for star in (5, 4, 3, 2, 1, None):
        row = rows.get(star)
        if row:
            out.append(
                Bucket(
                    label="★" * star if star else "—",
                    retailers=row["retailers"],
                    eligible=row["eligible_n"],
                    awarded=row["awarded"],
                    cartons=row["cartons"],
                )
            )
    return out


def by_route(run: AllocationRun) -> list[Bucket]:
    return [
        Bucket(
            label=f"{row['route__district__code']} {row['route__code']}",
            retailers=row["retailers"],
            eligible=row["eligible_n"],
            awarded=row["awarded"],
            cartons=row["cartons"],
        )
        for row in _buckets(run, "route__district__code", "route__code")
    ]


@dataclass(frozen=True)
class FairnessIssue:
    """Within one cap, a retailer with more points got fewer cartons than one with fewer."""

    cap: int
    more_points: int
    more_points_award: int
    fewer_points: int
    fewer_points_award: int


def fairness_issues(run: AllocationRun, *, limit: int = 20) -> tuple[int, list[FairnessIssue]]:
    """Check DESIGN §4's promise on the stored lines: among eligible retailers with the same
    cap, more points never gets less. Returns how many (cap, points) groups break it, and up to
    ``limit`` of them; (0, []) for a fair run. One grouped query; the walk is per group."""
    groups = (
        AllocationLine.objects.filter(run=run, eligible=True)
        .values("cap", "points")
        .annotate(low=Min("award"), high=Max("award"))
        .order_by("cap", "points")
    )
    issues, count = [], 0
    cap, best, best_points = None, -1, 0
    for group in groups.iterator(chunk_size=5000):
        if group["cap"] != cap:
            cap, best, best_points = group["cap"], -1, 0
        if group["low"] < best:
            count += 1
            if len(issues) < limit:
                issues.append(
                    FairnessIssue(
                        cap=cap,
                        more_points=group["points"],
                        more_points_award=group["low"],
                        fewer_points=best_points,
                        fewer_points_award=best,
                    )
                )
        if group["high"] > best:
            best, best_points = group["high"], group["points"]
    return count, issues


def previous_run(run: AllocationRun) -> AllocationRun | None:
    """The published run of the same brand and branch in the cycle before: the comparison."""
    before = previous_cycle(run.supply.cycle)
    if before is None:
        return None
    return (
        AllocationRun.objects.filter(
            supply__branch_id=run.supply.branch_id,
            supply__brand_id=run.supply.brand_id,
            supply__cycle=before,
            status=RunStatus.PUBLISHED,
        )
        .select_related("supply__cycle")
        .first()
    )


def awards_in(run: AllocationRun | None, retailer_ids) -> dict[int, int]:
    if run is None:
        return {}
    return dict(
        AllocationLine.objects.filter(run=run, retailer_id__in=retailer_ids).values_list(
            "retailer_id", "award"
        )
    )


@dataclass
class RunReview:
    run: AllocationRun
    by_star: list[Bucket]
    by_route: list[Bucket]
    fairness_count: int
    fairness: list[FairnessIssue]
    previous: AllocationRun | None
    visible_lines: int
    hidden_lines: int
    same_inputs_as: list[int] = field(default_factory=list)


def run_review(*, user: User, run: AllocationRun) -> RunReview:
    """Totals, distributions and checks of a whole run, for the supervisor who approves it."""
    fairness_count, fairness = fairness_issues(run)
    visible = run_lines(user=user, run=run).count()
    same = []
    if run.inputs_hash:
        same = list(
            run.supply.runs.filter(inputs_hash=run.inputs_hash)
            .exclude(pk=run.pk)
            .order_by("number")
            .values_list("number", flat=True)
        )
    return RunReview(
        run=run,
        by_star=by_star(run),
        by_route=by_route(run),
        fairness_count=fairness_count,
        fairness=fairness,
        previous=previous_run(run),
        visible_lines=visible,
        hidden_lines=run.retailers - visible if run.retailers else 0,
        same_inputs_as=same,
    )


def review_lines(
    *,
    user: User,
    run: AllocationRun,
    route_id: int | None = None,
    star: int | str | None = None,
    show: str = "",
    search: str = "",
) -> QuerySet[AllocationLine]:
    """The run's visible lines for the review table, filtered, in route and stop order."""
    lines = run_lines(user=user, run=run).select_related("retailer", "route")
    if route_id is not None:
        lines = lines.filter(route_id=route_id)
    if star == "unrated":
        lines = lines.filter(star__isnull=True)
    elif star is not None:
        lines = lines.filter(star=star)
    if show == "awarded":
        lines = lines.filter(award__gt=0)
    elif show == "eligible":
        lines = lines.filter(eligible=True)
    elif show == "ineligible":
        lines = lines.filter(eligible=False)
    elif show == "capped":
        lines = lines.filter(capped=True, eligible=True)
    if search:
        lines = lines.filter(
            Q(retailer__name__icontains=search) | Q(retailer__licence_number__istartswith=search)
        )
    return lines.order_by("route__code", "retailer__stop_order", "retailer_id")


# --- what account managers and retailers see ------------------------------------------------


def published_awards(
    user: User, cycle: Cycle, retailer_ids=None
) -> dict[int, list[tuple[Brand, int]]]:
    """Published awards of ``cycle`` for the retailers the user may see (for the Today page
    and the retailer card): ``{retailer_id: [(brand, cartons), …]}``, awards > 0 only."""
    lines = AllocationLine.objects.filter(
        run__status=RunStatus.PUBLISHED,
        run__supply__cycle=cycle,
        award__gt=0,
        retailer__in=visible_retailers(user),
    )
    if retailer_ids is not None:
        lines = lines.filter(retailer_id__in=list(retailer_ids))
    # Values, not lines with their run and supply: a model instance per brand, not four per
    # line (the Today page of 80 retailers spent 25 ms here building them).
    attnames = [field.attname for field in Brand._meta.concrete_fields]
    rows = lines.order_by(
        "retailer_id", "run__supply__brand__price_class", "run__supply__brand__code"
    ).values_list("retailer_id", "award", *(f"run__supply__brand__{name}" for name in attnames))
    awards: dict[int, list[tuple[Brand, int]]] = defaultdict(list)
    brands: dict[int, Brand] = {}
    pk = attnames.index(Brand._meta.pk.attname)
    for retailer_id, award, *brand_values in rows:
        brand = brands.get(brand_values[pk])
        if brand is None:
            brand = brands[brand_values[pk]] = Brand.from_db(lines.db, attnames, brand_values)
        awards[retailer_id].append((brand, award))
    return dict(awards)


def published_lines(*, user: User, cycle: Cycle) -> QuerySet[AllocationLine]:
    """Every published line of ``cycle`` for the user's retailers (the awards page)."""
    return (
        AllocationLine.objects.filter(
            run__status=RunStatus.PUBLISHED,
            run__supply__cycle=cycle,
            retailer__in=visible_retailers(user),
        )
        .select_related("retailer", "route", "run__supply__brand")
        .order_by("route__code", "retailer__stop_order", "retailer_id", "run__supply__brand__code")
    )


def published_runs(*, user: User, cycle: Cycle) -> QuerySet[AllocationRun]:
    return visible_runs(user).filter(status=RunStatus.PUBLISHED, supply__cycle=cycle)


@dataclass
class Statement:
    """What a retailer is told about its awards in one cycle (DESIGN §2.5: open and fair)."""

    retailer: Retailer
    cycle: Cycle
    points_cycle: Cycle | None
    points: PointsEntry | None
    lines: list[AllocationLine]


def retailer_statement(*, user: User, retailer_id: int, cycle_id: int) -> Statement:
    """Raises ``Retailer.DoesNotExist``/``Cycle.DoesNotExist`` for what the user may not see.
    Only published runs are told."""
    retailer = (
        visible_retailers(user)
        .select_related("route__district__branch", "route__account_manager")
        .get(pk=retailer_id)
    )
    cycle = cycle_list().get(pk=cycle_id)
    before = previous_cycle(cycle)
    points = PointsEntry.objects.filter(retailer=retailer, cycle=before).first() if before else None
    lines = list(
        AllocationLine.objects.filter(
            retailer=retailer, run__status=RunStatus.PUBLISHED, run__supply__cycle=cycle
        )
        .select_related("run__supply__brand", "run__supply__cycle", "run__points_cycle")
        .order_by("run__supply__brand__price_class", "run__supply__brand__code")
    )
    return Statement(
        retailer=retailer, cycle=cycle, points_cycle=before, points=points, lines=lines
    )


def points_ledger(*, user: User, cycle: Cycle) -> QuerySet[PointsEntry]:
    return (
        PointsEntry.objects.filter(cycle=cycle, retailer__in=visible_retailers(user))
        .select_related("retailer", "retailer__route")
        .order_by("-points", "retailer_id")
    )


def points_computation(cycle: Cycle) -> PointsComputation | None:
    return PointsComputation.objects.filter(cycle=cycle).select_related("computed_by").first()
