from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from config.demo import DemoContext
from retailers.models import PaymentMethod, Retailer
from settlement.models import SettlementAccount

BANKS = ("虞城农商银行", "中国农业银行", "中国邮政储蓄银行", "中国建设银行")


def seed(ctx: DemoContext) -> None:
    """An e-settlement account for every retailer that pays by e-settlement."""
    as_of = timezone.make_aware(
        dt.datetime.combine(ctx.today - dt.timedelta(days=1), dt.time(18, 0))
    )
    retailers = Retailer.objects.filter(
        payment_method=PaymentMethod.E_SETTLEMENT, settlement_account=None
    ).order_by("licence_number")
    for retailer in retailers:
        rng = ctx.rng(f"settlement:{retailer.licence_number}")
        number = "6" + "".join(str(rng.randrange(10)) for _ in range(18))
        SettlementAccount.objects.create(
            retailer=retailer,
            reference=f"SA{retailer.licence_number}",
            bank_name=rng.choice(BANKS),
            account_holder=retailer.owner_name,
            account_number=number,
            account_last4=number[-4:],
            balance=Decimal(rng.randrange(0, 3000000)) / 100,
            balance_as_of=as_of,
            opened_on=retailer.opened_on,
        )
        ctx.count("settlement accounts")
