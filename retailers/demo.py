"""The source document's district (DESIGN §1), retailer by retailer.

Today: routes A–E hold 59/78/59/57/55 active retailers (308). At the start of the quarter
310 were active, with stars 18/100/142/42/7 and one unrated; two closed since (on routes B
and D), keeping their last star. 278 of the 308 pay by e-settlement, 12 order online.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import User
from config.demo import DemoContext
from retailers.models import (
    BusinessType,
    OrderingChannel,
    PaymentMethod,
    Retailer,
    RetailerStatus,
    StarChange,
    StatusChange,
    Violation,
    ViolationKind,
)
from territory.demo import CITY_DISTRICT, TOWN_DISTRICT
from territory.models import Route

ROUTES_TODAY = {"A": 59, "B": 78, "C": 59, "D": 57, "E": 55}
CLOSED_ON_ROUTES = ("B", "D")
STARS_AT_QUARTER_START = {5: 18, 4: 100, 3: 142, 2: 42, 1: 7, None: 1}
E_SETTLEMENT_TODAY = 278
ONLINE_TODAY = 12
DEMONSTRATION_PER_ROUTE = 5
TOWN_ROUTE_SIZE = 12

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文利春梅海燕鹏飞辉云亮林凤"
STREETS = (
    "人民路",
    "建设路",
    "解放路",
    "文化路",
    "胜利路",
    "木兰大道",
    "商丘路",
    "车站路",
    "幸福街",
    "工业路",
    "育才路",
    "光明路",
)
SHOP_WORDS = (
    "鑫源",
    "福满多",
    "好又多",
    "万家",
    "顺发",
    "金盛",
    "永兴",
    "华联",
    "百佳",
    "惠民",
    "佳佳",
    "兴隆",
    "聚福",
    "和平",
    "利民",
    "红星",
    "新世纪",
    "乐购",
    "旺角",
    "东方",
)

TYPE_WEIGHTS = {
    5: [
        (BusinessType.SUPERMARKET, 4),
        (BusinessType.TOBACCO_LIQUOR, 5),
        (BusinessType.ENTERTAINMENT, 2),
        (BusinessType.CATERING, 2),
    ],
    4: [
        (BusinessType.SUPERMARKET, 2),
        (BusinessType.TOBACCO_LIQUOR, 4),
        (BusinessType.CONVENIENCE, 3),
        (BusinessType.CATERING, 2),
        (BusinessType.ENTERTAINMENT, 1),
    ],
    3: [
        (BusinessType.CONVENIENCE, 4),
        (BusinessType.GROCERY, 4),
        (BusinessType.TOBACCO_LIQUOR, 1),
        (BusinessType.CATERING, 1),
        (BusinessType.OTHER, 1),
    ],
    2: [(BusinessType.GROCERY, 6), (BusinessType.CONVENIENCE, 2), (BusinessType.OTHER, 1)],
    1: [(BusinessType.GROCERY, 5), (BusinessType.OTHER, 1)],
    None: [(BusinessType.CONVENIENCE, 1)],
}
NAME_SUFFIX = {
    BusinessType.CONVENIENCE: "便利店",
    BusinessType.SUPERMARKET: "超市",
    BusinessType.GROCERY: "食杂店",
    BusinessType.TOBACCO_LIQUOR: "烟酒商行",
    BusinessType.CATERING: "饭庄",
    BusinessType.ENTERTAINMENT: "KTV",
    BusinessType.OTHER: "商店",
}
INTEGRITY_BY_STAR = {5: "AAAAB", 4: "AAABB", 3: "ABBBC", 2: "BBBCC", 1: "BCCCD", None: "B"}


def _weighted(rng, pairs):
    total = sum(weight for _item, weight in pairs)
    pick = rng.uniform(0, total)
    for item, weight in pairs:
        pick -= weight
        if pick <= 0:
            return item
    return pairs[-1][0]


def _person(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng) -> str:
    return (
        rng.choice(("138", "139", "150", "151", "158", "186", "187", "135"))
        + f"{rng.randrange(10**8):08d}"
    )


def _plan_city(ctx: DemoContext) -> list[dict]:
    """Who the 310 retailers of the city district are, before anything is written."""
    rng = ctx.rng("retailers.city")
    route_sizes = {code: n + CLOSED_ON_ROUTES.count(code) for code, n in ROUTES_TODAY.items()}
    slots = [code for code, n in route_sizes.items() for _ in range(n)]
    stars = [star for star, n in STARS_AT_QUARTER_START.items() for _ in range(n)]
    rng.shuffle(stars)
    # The unrated newcomer must not be one of the two that closed: keep it out of the slots
    # where the closed ones go (the last retailer of routes B and D).
    plan = [{"route": code, "star": star} for code, star in zip(slots, stars, strict=True)]
    unrated = next(i for i, p in enumerate(plan) if p["star"] is None)
    closing = [
        max(i for i, p in enumerate(plan) if p["route"] == code) for code in CLOSED_ON_ROUTES
    ]
    for index in closing:
        if index == unrated or plan[index]["star"] not in (2, 3):
            swap = next(
                i
                for i, p in enumerate(plan)
                if p["star"] in (2, 3) and i not in closing and i != unrated
            )
            plan[index]["star"], plan[swap]["star"] = plan[swap]["star"], plan[index]["star"]
            unrated = next(i for i, p in enumerate(plan) if p["star"] is None)
    for index, item in enumerate(plan):
        item["closes"] = index in closing
        item["new"] = item["star"] is None
    # E-settlement and online among today's 308: the cash payers are mostly small shops.
    active = [i for i, p in enumerate(plan) if not p["closes"]]
    by_size = sorted(active, key=lambda i: (plan[i]["star"] or 0, rng.random()))
    cash = set(by_size[: len(active) - E_SETTLEMENT_TODAY][:20]) | set(
        rng.sample(by_size[60:], len(active) - E_SETTLEMENT_TODAY - 20)
    )
    online = set(
        rng.sample(
            [i for i in active if i not in cash and (plan[i]["star"] or 0) >= 4], ONLINE_TODAY
        )
    )
    small_e = [
        i for i in active if i not in cash and (plan[i]["star"] or 0) in (1, 2) and i not in online
    ]
    assisted = set(rng.sample(small_e, 6))
    for index, item in enumerate(plan):
        item["cash"] = index in cash or item["closes"]
        item["online"] = index in online
        item["needs_assistance"] = index in assisted
    return plan


def _create(
    ctx: DemoContext,
    rng,
    *,
    licence: str,
    route: Route,
    stop: int,
    star,
    closes: bool,
    new: bool,
    cash: bool,
    online: bool,
    needs_assistance: bool,
    demonstration: bool,
    supervisor: User | None,
) -> Retailer:
    business_type = _weighted(rng, TYPE_WEIGHTS[star])
    owner = _person(rng)
    shop = rng.choice(SHOP_WORDS) if rng.random() < 0.6 else owner[0] + "记"
    if new:
        opened = ctx.quarter_start - dt.timedelta(days=12)
    else:
        opened = ctx.quarter_start - dt.timedelta(days=rng.randrange(200, 3650))
    retailer = Retailer.objects.create(
        licence_number=licence,
        name=f"{shop}{NAME_SUFFIX[business_type]}",
        owner_name=owner,
        phone=_phone(rng),
        address=f"城关镇{rng.choice(STREETS)}{rng.randrange(1, 400)}号",
        route=route,
        stop_order=stop,
        star=star,
        business_type=business_type,
        integrity_level=rng.choice(INTEGRITY_BY_STAR[star]),
        status=RetailerStatus.CLOSED if closes else RetailerStatus.ACTIVE,
        ordering_channel=OrderingChannel.ONLINE if online else OrderingChannel.PHONE,
        payment_method=PaymentMethod.CASH if cash else PaymentMethod.E_SETTLEMENT,
        needs_assistance=needs_assistance,
        is_standard_store=demonstration or ((star or 0) >= 4 and rng.random() < 0.25),
        is_demonstration_store=demonstration,
        latitude=Decimal("34.400000") + Decimal(rng.randrange(-20000, 20000)) / 1000000,
        longitude=Decimal("115.860000") + Decimal(rng.randrange(-20000, 20000)) / 1000000,
        opened_on=opened,
    )
    StatusChange.objects.create(
        retailer=retailer, status=RetailerStatus.ACTIVE, effective_from=opened, reason="入网"
    )
    # Stars were re-rated at the quarter start; some moved by one from the quarter before.
    earlier = star
    if star is not None and rng.random() < 0.15:
        earlier = min(5, max(1, star + rng.choice((-1, 1))))
    StarChange.objects.create(
        retailer=retailer, star=earlier, effective_from=opened, reason="入网评定"
    )
    if earlier != star:
        StarChange.objects.create(
            retailer=retailer,
            star=star,
            effective_from=ctx.quarter_start,
            reason="季度星级评定",
            changed_by=supervisor,
        )
    if closes:
        closed_on = min(ctx.today, ctx.quarter_start + dt.timedelta(days=rng.randrange(5, 30)))
        StatusChange.objects.create(
            retailer=retailer, status=RetailerStatus.CLOSED, effective_from=closed_on, reason="歇业"
        )
    ctx.count("retailers")
    return retailer


def seed(ctx: DemoContext) -> None:
    supervisor = User.objects.filter(username="supervisor").first()
    routes = {r.code: r for r in Route.objects.filter(district__code=CITY_DISTRICT)}
    rng = ctx.rng("retailers.city.details")
    plan = _plan_city(ctx)
    stops: dict[str, int] = {}
    demonstration: dict[str, int] = {}
    existing = set(
        Retailer.objects.filter(licence_number__startswith="41142510").values_list(
            "licence_number", flat=True
        )
    )
    created = []
    for number, item in enumerate(plan, start=1):
        code = item["route"]
        stops[code] = stops.get(code, 0) + 1
        demo = (
            not item["closes"]
            and (item["star"] or 0) >= 3
            and demonstration.get(code, 0) < DEMONSTRATION_PER_ROUTE
            and rng.random() < 0.2
        )
        demonstration[code] = demonstration.get(code, 0) + int(demo)
        licence = f"41142510{number:04d}"
        if licence in existing:
            rng.random()  # keep the sequence of draws the same as on the first run
            continue
        created.append(
            _create(
                ctx,
                ctx.rng(f"retailer:{licence}"),
                licence=licence,
                route=routes[code],
                stop=stops[code],
                star=item["star"],
                closes=item["closes"],
                new=item["new"],
                cash=item["cash"],
                online=item["online"],
                needs_assistance=item["needs_assistance"],
                demonstration=demo,
                supervisor=supervisor,
            )
        )
    _seed_town(ctx)
    if created:
        _seed_violations(ctx, created)


def _seed_town(ctx: DemoContext) -> None:
    rng = ctx.rng("retailers.town")
    for route in Route.objects.filter(district__code=TOWN_DISTRICT).order_by("code"):
        for stop in range(1, TOWN_ROUTE_SIZE + 1):
            licence = f"41142520{route.code}{stop:03d}"
            if Retailer.objects.filter(licence_number=licence).exists():
                continue
            star = _weighted(rng, [(5, 1), (4, 3), (3, 5), (2, 2), (1, 1)])
            _create(
                ctx,
                ctx.rng(f"retailer:{licence}"),
                licence=licence,
                route=route,
                stop=stop,
                star=star,
                closes=False,
                new=False,
                cash=rng.random() < 0.2,
                online=False,
                needs_assistance=False,
                demonstration=stop <= 2,
                supervisor=None,
            )


def _seed_violations(ctx: DemoContext, retailers: list[Retailer]) -> None:
    rng = ctx.rng("retailers.violations")
    active = [r for r in retailers if r.status == RetailerStatus.ACTIVE and r.star]
    for retailer, kind, weeks in zip(
        rng.sample(active, 3),
        (ViolationKind.PRICE, ViolationKind.ILLEGAL_SOURCE, ViolationKind.MINORS),
        (1, 2, 9),
        strict=True,
    ):
        Violation.objects.create(
            retailer=retailer,
            occurred_on=ctx.today - dt.timedelta(weeks=weeks),
            kind=kind,
            description="市场检查发现",
        )
        ctx.count("violations")
