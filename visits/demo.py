"""Service policies, the current cycle's plan and a few weeks of visit history (DESIGN §2.6).

Each past cycle (and the current cycle up to yesterday) gets visits in plan order: the
manager starts at 08:00, stays about the policy's minimum (now and then less), moves on a few
minutes later and stops at 19:00, so an overloaded route day shows as missed visits in the
compliance report. A cycle that already has visits is left alone (idempotent).

Before those weeks, a year of stock checks (:func:`_seed_stock_history`): each month a share of
the retailers gets one visit that records the stock, retail price and last cycle's sales of a
few key brands, so that the volume, price and stock trends have a year of points.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from catalog.models import Brand
from config.demo import DemoContext
from retailers.models import HOSPITALITY_TYPES, Retailer, RetailerStatus
from settlement.demo import SEASON
from territory.models import Cycle
from visits import services
from visits.models import (
    EmergencyRequest,
    FocusActivity,
    FollowUp,
    ServicePolicy,
    StockObservation,
    Visit,
    VisitPlan,
)
from visits.rules import policy_star

HISTORY_CYCLES = 4
#: Months of stock checks before the detailed history, and the share of retailers checked.
STOCK_MONTHS = 12
STOCK_CHECK_SHARE = 0.3
DAY_START, DAY_END = dt.time(8, 0), dt.time(19, 0)
SKIP_RATE = 0.06

NOTES = (
    "柜台整洁，主销品牌陈列到位。",
    "店主对新品兴趣较高，已讲解卖点。",
    "提醒明码标价，价签已更换。",
    "本周客流一般，建议适当控制库存。",
    "讲解了电子结算余额提醒的做法。",
    "协助调整烟柜陈列，高档烟放在中间层。",
    "检查了真烟识别知识，店主掌握较好。",
    "介绍低焦油卷烟的特点，店主愿意试销。",
)
FEEDBACK = (
    "希望紧俏烟多分一些。",
    "建议送货时间提前到上午。",
    "对网上订货操作不熟，想再学一次。",
    "反映周边有无证经营的摊点。",
    "希望多供应黄金叶(天叶)。",
    "对积分制分配表示认可。",
)
FOLLOW_UPS = (
    "下次带新品宣传资料",
    "检查价签是否更换",
    "回访低焦油新品试销情况",
    "帮助开通网上订货",
    "确认烟柜维修是否完成",
)
OUTCOMES = ("已完成", "已落实，效果良好", "店主已自行解决", "已完成，继续跟踪")


def _at(day: dt.date, minutes: int) -> dt.datetime:
    """``minutes`` after midnight of ``day``, local time."""
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min) + dt.timedelta(minutes=minutes)
    )


def seed(ctx: DemoContext) -> None:
    ctx.count("service policies", services.service_policies_ensure_defaults())
    current = Cycle.objects.filter(start_date__lte=ctx.today, end_date__gte=ctx.today).first()
    if current is None:
        return
    cycles = list(
        Cycle.objects.filter(start_date__lte=current.start_date).order_by("-start_date")[
            : HISTORY_CYCLES + 1
        ]
    )[::-1]
    for cycle in cycles:
        ctx.count("visit plan entries", services.visit_plan_generate(cycle=cycle))
    visited = set(
        Visit.objects.filter(cycle__in=cycles)
        .values("cycle_id")
        .annotate(n=Count("id"))
        .values_list("cycle_id", flat=True)
    )
    brands = list(Brand.objects.filter(is_active=True, is_key=True).order_by("code"))
    all_brands = list(Brand.objects.filter(is_active=True).order_by("code"))
    for cycle in cycles:
        if cycle.pk not in visited:
            _seed_cycle(ctx, cycle, brands=brands, all_brands=all_brands)
    _seed_stock_history(ctx, before=cycles[0].start_date, brands=brands)


def _seed_cycle(ctx: DemoContext, cycle: Cycle, *, brands: list, all_brands: list) -> None:
    rng = ctx.rng(f"visits:{cycle.code}")
    policies = {p.star: p for p in ServicePolicy.objects.all()}
    last_day = min(cycle.end_date, ctx.today - dt.timedelta(days=1))
    entries = list(
        VisitPlan.objects.filter(cycle=cycle, day__lte=last_day, account_manager__isnull=False)
        .select_related("retailer", "route")
        .order_by("account_manager_id", "day", "route__code", "retailer__stop_order", "sequence")
    )
    visits: list[Visit] = []
    clock: dict[tuple[int, dt.date], int] = {}
    for entry in entries:
        key = (entry.account_manager_id, entry.day)
        start = clock.get(key, DAY_START.hour * 60 + rng.randrange(0, 20))
        policy = policies[policy_star(entry.retailer.star)]
        stay = max(2, round(policy.min_stay_minutes * rng.uniform(0.7, 1.6)))
        if rng.random() < SKIP_RATE or start + stay > DAY_END.hour * 60:
            continue
        clock[key] = start + stay + rng.randrange(2, 6)
        checklist = list(policy.activities)
        ticked = [a for a in checklist if rng.random() < 0.75] or checklist[:1]
        visits.append(
            Visit(
                retailer=entry.retailer,
                account_manager_id=entry.account_manager_id,
                plan=entry,
                cycle=cycle,
                route=entry.route,
                star=entry.retailer.star,
                required_stay_minutes=policy.min_stay_minutes,
                checked_in_at=_at(entry.day, start),
                checked_out_at=_at(entry.day, start + stay),
                stay_minutes=stay,
                latitude=entry.retailer.latitude,
                longitude=entry.retailer.longitude,
                activities=ticked,
                notes=rng.choice(NOTES) if rng.random() < 0.6 else "",
                feedback=rng.choice(FEEDBACK) if rng.random() < 0.2 else "",
            )
        )
    visits += _unplanned(ctx, rng, cycle, last_day, policies)
    Visit.objects.bulk_create(visits)
    ctx.count("visits", len(visits))
    _seed_details(ctx, rng, visits, brands=brands, all_brands=all_brands)


def _unplanned(ctx, rng, cycle: Cycle, last_day: dt.date, policies) -> list[Visit]:
    """A few unplanned calls per cycle, in the evening after the round."""
    if last_day < cycle.start_date:
        return []
    candidates = list(
        Retailer.objects.filter(status=RetailerStatus.ACTIVE, route__account_manager__isnull=False)
        .select_related("route")
        .order_by("licence_number")
    )
    picked = []
    for retailer in rng.sample(candidates, min(3, len(candidates))):
        day = cycle.start_date + dt.timedelta(
            days=rng.randrange((last_day - cycle.start_date).days + 1)
        )
        policy = policies[policy_star(retailer.star)]
        start, stay = (
            19 * 60 + rng.randrange(10, 60),
            policy.min_stay_minutes + rng.randrange(0, 10),
        )
        picked.append(
            Visit(
                retailer=retailer,
                account_manager_id=retailer.route.account_manager_id,
                cycle=cycle,
                route=retailer.route,
                star=retailer.star,
                required_stay_minutes=policy.min_stay_minutes,
                checked_in_at=_at(day, start),
                checked_out_at=_at(day, start + stay),
                stay_minutes=stay,
                activities=list(policy.activities)[:1],
                notes="临时上门：" + rng.choice(NOTES),
            )
        )
    return picked


def _seed_details(ctx, rng, visits: list[Visit], *, brands: list, all_brands: list) -> None:
    stock, follow_ups, emergencies = [], [], []
    pending: dict[int, FollowUp] = {}
    for visit in sorted(visits, key=lambda v: (v.checked_in_at, v.retailer.licence_number)):
        earlier = pending.pop(visit.retailer_id, None)
        if earlier is not None and rng.random() < 0.8:
            earlier.done_in, earlier.done_at = visit, visit.checked_out_at
            earlier.outcome = rng.choice(OUTCOMES)
        elif earlier is not None:
            pending[visit.retailer_id] = earlier
        if rng.random() < 0.3 and brands:
            for brand in rng.sample(brands, rng.choice((1, 2, 3))):
                stock.append(
                    StockObservation(
                        visit=visit,
                        brand=brand,
                        cartons_on_hand=rng.randrange(0, 30),
                        retail_price=(
                            brand.list_price * Decimal(rng.choice(("1.10", "1.15", "1.20")))
                        ).quantize(Decimal("1")),
                        sales_last_cycle=rng.randrange(0, 40),
                    )
                )
        if rng.random() < 0.08 and visit.retailer_id not in pending:
            follow_up = FollowUp(
                retailer=visit.retailer, text=rng.choice(FOLLOW_UPS), created_in=visit
            )
            follow_ups.append(follow_up)
            pending[visit.retailer_id] = follow_up
        if visit.retailer.business_type in HOSPITALITY_TYPES and rng.random() < 0.1:
            emergencies.append(
                EmergencyRequest(
                    retailer=visit.retailer,
                    visit=visit,
                    brand=rng.choice(all_brands[:8]),
                    cartons=rng.choice((2, 3, 5, 10)),
                    note="周末宴席用烟",
                    requested_by_id=visit.account_manager_id,
                    requested_at=visit.checked_out_at,
                )
            )
    StockObservation.objects.bulk_create(stock)
    FollowUp.objects.bulk_create(follow_ups)
    EmergencyRequest.objects.bulk_create(emergencies)
    ctx.count("stock observations", len(stock))
    ctx.count("follow-ups", len(follow_ups))
    ctx.count("emergency requests", len(emergencies))


def _seed_stock_history(ctx: DemoContext, *, before: dt.date, brands: list[Brand]) -> None:
    """Monthly stock checks in the ``STOCK_MONTHS`` months before ``before``; once (a second run
    finds visits before ``before`` and stops)."""
    if not brands or Visit.objects.filter(checked_in_at__lt=_at(before, 0)).exists():
        return
    rng = ctx.rng("visits:stock-history")
    policies = {p.star: p for p in ServicePolicy.objects.all()}
    retailers = list(
        Retailer.objects.filter(route__account_manager__isnull=False)
        .select_related("route")
        .prefetch_related("status_history")
        .order_by("licence_number")
    )
    cycles = {c.start_date: c for c in Cycle.objects.filter(end_date__lt=before)}
    # Each brand's usual figures at a retailer of average size, drifting over the year.
    usual = {b.pk: (rng.randrange(6, 20), rng.randrange(8, 30)) for b in brands}
    visits: list[Visit] = []
    observed: list[tuple[Visit, list[StockObservation]]] = []
    first = before.replace(day=1)  # the checks of its month stop the day before ``before``
    for k in range(STOCK_MONTHS - 1, -1, -1):
        month = first
        for _ in range(k):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        season = SEASON[month.month]
        trend = 1 + 0.003 * (STOCK_MONTHS - k)  # retail prices creep up
        for retailer in retailers:
            if rng.random() >= STOCK_CHECK_SHARE:
                continue
            # On the route's day of a week of the month.
            day = month + dt.timedelta(days=rng.randrange(0, 22))
            day += dt.timedelta(days=retailer.route.visit_weekday - day.weekday())
            if day.month != month.month or day >= before:
                continue
            if _status_on(retailer, day) != RetailerStatus.ACTIVE:
                continue
            policy = policies[policy_star(retailer.star)]
            start = 8 * 60 + rng.randrange(0, 9 * 60)
            stay = policy.min_stay_minutes + rng.randrange(0, 8)
            visit = Visit(
                retailer=retailer,
                account_manager_id=retailer.route.account_manager_id,
                cycle=cycles.get(day - dt.timedelta(days=day.weekday())),
                route=retailer.route,
                star=retailer.star,
                required_stay_minutes=policy.min_stay_minutes,
                checked_in_at=_at(day, start),
                checked_out_at=_at(day, start + stay),
                stay_minutes=stay,
                latitude=retailer.latitude,
                longitude=retailer.longitude,
                activities=[FocusActivity.INVENTORY],
                notes="库存检查：" + rng.choice(NOTES),
            )
            size = (retailer.star or 2) / 3
            lines = []
            for brand in rng.sample(brands, min(len(brands), rng.choice((2, 3, 4)))):
                stock, sales = usual[brand.pk]
                lines.append(
                    StockObservation(
                        brand=brand,
                        cartons_on_hand=max(0, round(stock * size * rng.uniform(0.6, 1.4))),
                        retail_price=(
                            brand.list_price
                            * Decimal(str(round(rng.uniform(1.08, 1.18) * trend, 3)))
                        ).quantize(Decimal("1")),
                        sales_last_cycle=max(
                            0, round(sales * size * season * rng.uniform(0.7, 1.3))
                        ),
                    )
                )
            visits.append(visit)
            observed.append((visit, lines))
    Visit.objects.bulk_create(visits, batch_size=2000)
    stock = []
    for visit, lines in observed:
        for line in lines:
            line.visit = visit
            stock.append(line)
    StockObservation.objects.bulk_create(stock, batch_size=5000)
    ctx.count("visits", len(visits))
    ctx.count("stock observations", len(stock))


def _status_on(retailer: Retailer, day: dt.date) -> str | None:
    status = None
    for change in sorted(retailer.status_history.all(), key=lambda c: c.effective_from):
        if change.effective_from <= day:
            status = change.status
    return status
