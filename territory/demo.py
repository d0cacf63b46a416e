from __future__ import annotations

import datetime as dt

from accounts.models import User
from config.dates import week_start
from config.demo import DemoContext
from territory.models import Branch, Cycle, CycleStatus, District, Route

CITY_DISTRICT = "YC-CQ"
TOWN_DISTRICT = "YC-XZ"
#: The city district's routes (DESIGN §1): code, weekday of order and visit.
CITY_ROUTES = (("A", 0), ("B", 1), ("C", 2), ("D", 3), ("E", 4))
#: A second, small district that is not part of the source figures.
TOWN_ROUTES = (("F", 1), ("G", 3))
PAST_CYCLES = 12


def cycle_code(start: dt.date) -> str:
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def seed(ctx: DemoContext) -> None:
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["supervisor", "manager", "manager2"])
    }
    branch, created = Branch.objects.get_or_create(code="YC", defaults={"name": "虞城县营销部"})
    ctx.count("branches", int(created))
    for code, name, supervisor, manager, routes in (
        (CITY_DISTRICT, "城区辖区", users["supervisor"], users["manager"], CITY_ROUTES),
        (TOWN_DISTRICT, "利民镇辖区", None, users["manager2"], TOWN_ROUTES),
    ):
        district, created = District.objects.get_or_create(
            code=code, defaults={"branch": branch, "name": name, "supervisor": supervisor}
        )
        ctx.count("districts", int(created))
        for route_code, weekday in routes:
            _route, created = Route.objects.get_or_create(
                district=district,
                code=route_code,
                defaults={
                    "name": f"{name} {route_code}线",
                    "visit_weekday": weekday,
                    "delivery_weekday": (weekday + 1) % 7,
                    "account_manager": manager,
                },
            )
            ctx.count("routes", int(created))
    current = week_start(ctx.today)
    for offset in range(-PAST_CYCLES, 2):
        start = current + dt.timedelta(weeks=offset)
        status = (
            CycleStatus.CLOSED
            if offset < 0
            else CycleStatus.OPEN
            if offset == 0
            else CycleStatus.PLANNED
        )
        _cycle, created = Cycle.objects.get_or_create(
            start_date=start,
            defaults={
                "code": cycle_code(start),
                "end_date": start + dt.timedelta(days=6),
                "status": status,
            },
        )
        ctx.count("cycles", int(created))
