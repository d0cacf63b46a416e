from __future__ import annotations

from decimal import Decimal

from catalog.models import Brand
from config.demo import DemoContext

# code, name, manufacturer, price class, wholesale per carton, low tar, new, key, scarce
DEMO_BRANDS = (
    ("6901028075015", "中华(硬)", "上海烟草集团", 1, "420.00", False, False, True, True),
    ("6901028001915", "黄鹤楼(1916)", "湖北中烟", 1, "780.00", False, False, True, True),
    ("6901028315208", "黄金叶(天叶)", "河南中烟", 1, "800.00", False, False, True, True),
    ("6901028193498", "贵烟(跨越)", "贵州中烟", 2, "260.00", True, True, True, True),
    ("6901028042079", "七匹狼(纯境)", "福建中烟", 2, "230.00", True, False, True, False),
    ("6901028180559", "玉溪(软)", "红塔集团", 2, "215.00", False, False, True, False),
    ("6901028046893", "芙蓉王(硬)", "湖南中烟", 2, "230.00", False, False, True, False),
    ("6901028186087", "贵烟(萃)", "贵州中烟", 2, "190.00", True, True, False, False),
    ("6901028315253", "黄金叶(乐途)", "河南中烟", 3, "150.00", True, False, True, False),
    ("6901028042918", "七匹狼(通仙)", "福建中烟", 3, "125.00", False, False, False, False),
    ("6901028203326", "长白山(777)", "吉林烟草工业", 3, "140.00", True, True, True, True),
    ("6901028001403", "红塔山(经典1956)", "红塔集团", 3, "95.00", False, False, True, False),
    ("6901028062725", "南京(炫赫门)", "江苏中烟", 3, "160.00", True, False, False, False),
    ("6901028203258", "长白山(红)", "吉林烟草工业", 4, "75.00", False, False, False, False),
    ("6901028315185", "黄金叶(红旗渠)", "河南中烟", 4, "65.00", False, False, True, False),
    ("6901028085106", "白沙(精品)", "湖南中烟", 4, "70.00", False, False, False, False),
    ("6901028118170", "双喜(红)", "广东中烟", 4, "60.00", False, False, False, False),
    ("6901028315109", "红旗渠(银河)", "河南中烟", 5, "45.00", False, False, False, False),
    ("6901028001250", "大前门(短支)", "上海烟草集团", 5, "38.00", False, False, False, False),
    ("6901028186421", "黄果树(长征)", "贵州中烟", 5, "42.00", False, False, False, False),
)


def list_price(wholesale: Decimal) -> Decimal:
    """List price is about 2% above wholesale; the difference is the month-end rebate."""
    return (wholesale * Decimal("1.02")).quantize(Decimal("1.00"))


def seed(ctx: DemoContext) -> None:
    for code, name, maker, price_class, wholesale, low_tar, new, key, scarce in DEMO_BRANDS:
        _brand, created = Brand.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "manufacturer": maker,
                "price_class": price_class,
                "wholesale_price": Decimal(wholesale),
                "list_price": list_price(Decimal(wholesale)),
                "is_low_tar": low_tar,
                "is_new": new,
                "is_key": key,
                "is_scarce": scarce,
            },
        )
        if created:
            ctx.count("brands")
