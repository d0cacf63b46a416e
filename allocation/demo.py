"""Demo points, scarce supplies and one published run (DESIGN §2.5).

Points are computed from the demo orders of every ended cycle that has orders and no points
yet. The current cycle gets a supply of each scarce demo brand; the first one (中华) is run,
approved and published by the supervisor, when the previous cycle's points make anyone
eligible. Runs on the same code as production: the services.
"""

from __future__ import annotations

from accounts.models import User
from allocation import services
from allocation.models import AllocationRun, PointsComputation, RunStatus, ScarceSupply
from catalog.models import Brand
from config.demo import DemoContext
from config.errors import ApplicationError
from settlement.models import Order
from territory.models import Branch
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
