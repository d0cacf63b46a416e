"""Demo trainings and terminal programs (DESIGN §2.6), after the visit history is loaded.

* Training: one session per topic over the last weeks in the city district (the first three
  for the whole district, the others per route) and two in the small town district, with
  attendance: about a third of the retailers in scope attended, a few were marked absent.
* Programs: the retailers flagged as standard or demonstration stores become members (about 5
  demonstration stores per route) and two stores per route functional terminals; most members
  are reviewed at their last visits, some only long ago and a few never, so the overview shows
  stale members.

Idempotent: trainings are seeded when the demo districts have none, memberships when there
are none.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import User
from config.demo import DemoContext
from retailers.models import Retailer, RetailerStatus
from territory.models import District
from visits.models import (
    AttendanceStatus,
    ProgramKind,
    ProgramMembership,
    TrainingAttendance,
    TrainingSession,
    TrainingTopic,
    Visit,
)
from visits.programs import services

PLACES = ("城关镇营销部会议室", "利民镇供销社会议室", "示范店门前", "人民路商会活动室")
TRAINERS = ("王建国（市场经理）", "李红（客户经理）", "张伟（专卖管理员）", "赵敏（品牌专员）")
NOTES = {
    TrainingTopic.POLICY_LAW: "讲解《烟草专卖法》及许可证管理要求。",
    TrainingTopic.SUPPLY_GRADING: "说明货源分级投放和积分制规则。",
    TrainingTopic.DISPLAY: "现场示范柜台陈列和价签摆放。",
    TrainingTopic.INVENTORY: "讲解合理库存和整件订货的风险。",
    TrainingTopic.ORDERING: "演示网上订货和电子结算操作。",
    TrainingTopic.BRAND_CULTIVATION: "介绍低焦油和新品的卖点及推介方法。",
}
FUNCTIONAL_PER_ROUTE = 2


def seed(ctx: DemoContext) -> None:
    ctx.count("program criteria", services.program_criteria_ensure_defaults())
    admin = User.objects.filter(username="admin").first()
    districts = list(District.objects.filter(branch__code="YC").order_by("code"))
    if admin is None or not districts:
        return
    if not TrainingSession.objects.filter(district__in=districts).exists():
        _seed_trainings(ctx, districts)
    if not ProgramMembership.objects.filter(retailer__route__district__in=districts).exists():
        _seed_programs(ctx, admin, districts)


def _seed_trainings(ctx: DemoContext, districts: list[District]) -> None:
    rng = ctx.rng("trainings")
    sessions: list[TrainingSession] = []
    topics = list(TrainingTopic.values)
    for d_index, district in enumerate(districts):
        routes = list(district.routes.order_by("code"))
        picked = topics if d_index == 0 else topics[:2]
        for n, topic in enumerate(picked):
            whole = n < 3 or not routes
            route = None if whole else routes[n % len(routes)]
            creator = (
                district.supervisor if whole else (route.account_manager or district.supervisor)
            )
            sessions.append(
                TrainingSession(
                    topic=topic,
                    held_on=ctx.today - dt.timedelta(days=4 + 11 * n + 5 * d_index),
                    place=PLACES[(n + d_index) % len(PLACES)],
                    trainer=TRAINERS[n % len(TRAINERS)],
                    district=district,
                    route=route,
                    notes=NOTES[topic],
                    created_by=creator,
                )
            )
    TrainingSession.objects.bulk_create(sessions)
    ctx.count("training sessions", len(sessions))
    rows = []
    for session in sessions:
        retailers = Retailer.objects.filter(
            route__district=session.district, status=RetailerStatus.ACTIVE
        )
        if session.route_id:
            retailers = retailers.filter(route_id=session.route_id)
        attend_rate = 0.3 if session.route_id is None else 0.6
        for retailer in retailers.order_by("licence_number").only("id"):
            draw = rng.random()
            if draw < attend_rate:
                status = AttendanceStatus.ATTENDED
            elif draw < attend_rate + 0.08:
                status = AttendanceStatus.ABSENT
            else:
                continue
            rows.append(
                TrainingAttendance(
                    session=session,
                    retailer=retailer,
                    status=status,
                    recorded_by=session.created_by,
                    recorded_at=session.created_at,
                )
            )
    TrainingAttendance.objects.bulk_create(rows)
    ctx.count("training attendance", len(rows))


def _seed_programs(ctx: DemoContext, admin: User, districts: list[District]) -> None:
    rng = ctx.rng("programs")
    retailers = list(
        Retailer.objects.filter(route__district__in=districts, status=RetailerStatus.ACTIVE)
        .select_related("route")
        .order_by("route__code", "stop_order", "id")
    )
    memberships: list[ProgramMembership] = []
    functional: dict[int, int] = {}
    for retailer in retailers:
        kinds = []
        if retailer.is_standard_store:
            kinds.append(ProgramKind.STANDARD)
        if retailer.is_demonstration_store:
            kinds.append(ProgramKind.DEMONSTRATION)
        if (
            not kinds
            and (retailer.star or 0) >= 3
            and functional.get(retailer.route_id, 0) < FUNCTIONAL_PER_ROUTE
            and rng.random() < 0.2
        ):
            functional[retailer.route_id] = functional.get(retailer.route_id, 0) + 1
            kinds.append(ProgramKind.FUNCTIONAL)
        for kind in kinds:
            since = ctx.today - dt.timedelta(days=rng.randrange(90, 540))
            memberships.append(
                services.program_enrol(by=admin, retailer=retailer, kind=kind, since=since)
            )
    ctx.count("program members", len(memberships))
    reviews = 0
    managers = {u.pk: u for u in User.objects.filter(routes__district__in=districts).distinct()}
    for membership in memberships:
        visits = list(
            Visit.objects.filter(
                retailer_id=membership.retailer_id,
                checked_out_at__isnull=False,
                checked_in_at__date__gte=membership.since,
            )
            .order_by("-checked_in_at")
            .only("id", "retailer_id", "account_manager_id", "checked_in_at")[:6]
        )
        draw = rng.random()
        if draw < 0.08 or not visits:
            continue  # never reviewed yet
        # Some reviewed only long ago, the others at their last two visits.
        visits = visits[-1:] if draw < 0.2 else visits[:2]
        criteria = services.active_criteria(membership.kind)
        for visit in visits:
            met = [c.pk for c in criteria if rng.random() < 0.8]
            services.program_review_record(
                by=managers.get(visit.account_manager_id) or admin,
                visit=visit,
                membership=membership,
                met=met,
                at=visit.checked_in_at + dt.timedelta(minutes=5),
            )
            reviews += 1
    ctx.count("program reviews", reviews)
