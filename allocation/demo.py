"""Demo points, scarce supplies and one published run (DESIGN §2.5).

Points are computed from the demo orders of every ended cycle that has orders and no points
yet. The current cycle gets a supply of each scarce demo brand; the first one (中华) is run,
approved and published by the supervisor, when the previous cycle's points make anyone
eligible. Runs on the same code as production: the services.
"""

from __future__ import annotations

from django.db.models import Count, Sum

from accounts.models import User
from allocation import services
from allocation.models import AllocationRun, PointsComputation, PointsEntry, RunStatus, ScarceSupply
from allocation.rerating import rerating_propose
from catalog.models import Brand
from config.demo import DemoContext
from config.errors import ApplicationError
from retailers import services as retailer_services
from retailers.models import RATED_STARS, RatingProposal, Retailer, RetailerStatus
from settlement.models import COUNTED_ORDER_STATUSES, Order, OrderLine
from territory.models import Branch, District
from territory.selectors import cycle_for_day, cycle_list

BRANCH = "YC"
# brand code, cartons, unit, minimum star, caps 5★..1★, guaranteed minimum
SUPPLIES = (
    ("6901028075015", 600, 1, 1, (10, 6, 3, 2, 1), 0),  # 中华(硬): by the carton, every star
    ("6901028001915", 1000, 50, 4, (100, 50, None, None, None), 0),  # 黄鹤楼(1916): whole cases
    ("6901028315208", 300, 1, 3, (6, 4, 2, None, None), 0),  # 黄金叶(天叶): 3★ and up
    ("6901028193498", 400, 1, 2, (8, 5, 3, 2, None), 0),  # 贵烟(跨越)
    ("6901028203326", 500, 1, 1, (6, 4, 3, 2, 2), 1),  # 长白山(777): 小户有量, 1 each first
)
PUBLISHED = "6901028075015"


def seed(ctx: DemoContext) -> None:
    supervisor = User.objects.filter(username="supervisor").first()
    branch = Branch.objects.filter(code=BRANCH).first()
    cycle = cycle_for_day(ctx.today)
    if supervisor is None or branch is None or cycle is None:
        ctx.log("allocation: no demo branch, supervisor or current cycle; skipped.")
        return
    _seed_points(ctx)
    supplies = _seed_supplies(ctx, branch=branch, cycle=cycle, supervisor=supervisor)
    _seed_published_run(ctx, supply=supplies.get(PUBLISHED), supervisor=supervisor)
    _seed_rerating(ctx, supervisor=supervisor)


def _seed_points(ctx: DemoContext) -> None:
    ended = cycle_list().filter(end_date__lt=ctx.today).order_by("start_date")
    with_orders = set(Order.objects.filter(cycle__in=ended).values_list("cycle_id", flat=True))
    computed = set(PointsComputation.objects.values_list("cycle_id", flat=True))
    for cycle in ended:
        if cycle.pk in with_orders and cycle.pk not in computed:
            computation = services.points_compute(cycle=cycle)
            ctx.count("points entries", computation.retailers)
    if not with_orders:
        ctx.log("allocation: no demo orders yet, so no points and no published run.")


def _seed_supplies(ctx: DemoContext, *, branch, cycle, supervisor) -> dict[str, ScarceSupply]:
    brands = {b.code: b for b in Brand.objects.filter(code__in=[s[0] for s in SUPPLIES])}
    supplies = {
        s.brand.code: s
        for s in ScarceSupply.objects.filter(branch=branch, cycle=cycle).select_related("brand")
    }
    for code, quantity, unit, min_star, caps, minimum in SUPPLIES:
        if code in supplies or code not in brands:
            continue
        supplies[code] = services.supply_create(
            branch=branch,
            cycle=cycle,
            brand=brands[code],
            params=services.SupplyParams(
                quantity=quantity,
                unit=unit,
                min_star=min_star,
                caps=dict(zip((5, 4, 3, 2, 1), caps, strict=True)),
                minimum=minimum,
                violation_cycles=3,
            ),
            by=supervisor,
        )
        ctx.count("scarce supplies")
    return supplies


def _seed_published_run(ctx: DemoContext, *, supply: ScarceSupply | None, supervisor) -> None:
    if supply is None or AllocationRun.objects.filter(supply=supply).exists():
        return
    try:
        run, _created = services.allocation_run_request(supply=supply, by=supervisor, enqueue=False)
    except ApplicationError as exc:
        ctx.log(f"allocation: no demo run for {supply.brand.name}: {exc.message}")
        return
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    if run.status != RunStatus.DRAFT:
        ctx.log(f"allocation: the demo run did not compute: {run.error}")
        return
    services.allocation_run_approve(run=run, by=supervisor)
    services.allocation_run_publish(run=run, by=supervisor)
    ctx.count("published runs")
    ctx.count("allocation lines", run.retailers)


def _quantile_thresholds(
    points: list[int], cartons: list[int], counts: dict[int, int]
) -> dict[int, tuple[int, int]]:
    """Thresholds under which today's star counts would roughly repeat: the n-th best figure,
    n being how many retailers have that star or more (cartons a little lower, so that points
    decide most moves)."""
    points, cartons = sorted(points, reverse=True), sorted(cartons, reverse=True)
    found, rank = {}, 0
    for star in RATED_STARS:
        rank += counts.get(star, 0)
        index = min(max(rank - 1, 0), len(points) - 1)
        found[star] = (points[index] * 21 // 20, cartons[index] * 8 // 10)
    lowest = (0, 0)
    for star in sorted(RATED_STARS):
        found[star] = (max(found[star][0], lowest[0]), max(found[star][1], lowest[1]))
        lowest = found[star]
    return found


def _seed_rerating(ctx: DemoContext, *, supervisor: User) -> None:
    """A pending re-rating proposal of the supervisor's first district from last quarter's
    figures, with thresholds set from the data (DESIGN §2.6). Once: a proposal is kept."""
    district = District.objects.filter(supervisor=supervisor).order_by("code").first()
    if district is None:
        return
    start, end = retailer_services.previous_quarter(ctx.today)
    if RatingProposal.objects.filter(district=district, quarter_start=start).exists():
        return
    if not retailer_services.rating_thresholds_of(district.pk):
        retailers = Retailer.objects.filter(route__district=district, status=RetailerStatus.ACTIVE)
        by_points = dict(
            PointsEntry.objects.filter(retailer__in=retailers, cycle_start__range=(start, end))
            .values_list("retailer_id")
            .annotate(total=Sum("points"))
            .order_by()
        )
        by_cartons = dict(
            OrderLine.objects.filter(
                order__retailer__in=retailers,
                order__cycle__start_date__range=(start, end),
                order__status__in=COUNTED_ORDER_STATUSES,
            )
            .values_list("order__retailer_id")
            .annotate(total=Sum("cartons"))
            .order_by()
        )
        ids = list(retailers.values_list("pk", flat=True))
        if not by_points:
            ctx.log("allocation: no points last quarter; no re-rating proposal.")
            return
        counts = dict(
            retailers.values_list("star")
            .annotate(n=Count("pk"))
            .order_by()
            .filter(star__isnull=False)
        )
        thresholds = _quantile_thresholds(
            [by_points.get(i, 0) for i in ids], [by_cartons.get(i, 0) for i in ids], counts
        )
        retailer_services.rating_thresholds_set(
            district=district, thresholds=thresholds, by=supervisor
        )
    for proposal in rerating_propose(quarter_start=start, districts=[district]):
        ctx.count("re-rating proposal lines", proposal.retailers)
