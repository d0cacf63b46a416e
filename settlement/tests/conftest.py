"""A known small data set for the half-year report (``settlement.analytics``), in 2030–2031,
far from the demo's dates, so that every figure can be asserted exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.tests.factories import SupervisorFactory, UserFactory
from retailers.models import RetailerStatus, StatusChange
from retailers.tests.factories import RetailerFactory
from settlement import services
from settlement.models import Debit, OrderStatus
from settlement.tests.factories import AccountFactory, BrandFactory, week
from territory.tests.factories import BranchFactory, DistrictFactory, RouteFactory


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A local (Beijing) time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def sell(shop, day: dt.datetime, *lines, channel: str = "phone"):
    """An order of ``shop`` at ``day`` (a local datetime): ``lines`` are (brand, cartons)."""
    monday = timezone.localdate(day) - dt.timedelta(days=timezone.localdate(day).weekday())
    return services.order_create(
        retailer=shop,
        cycle=week(monday),
        channel=channel,
        lines=[services.LineInput(brand=b, cartons=n) for b, n in lines],
        by=None,
        ordered_at=day,
    )


def debit(order, attempt: int, status: str) -> Debit:
    return Debit.objects.create(
        order=order,
        account=order.retailer.settlement_account,
        attempt=attempt,
        idempotency_key=f"T{order.pk}-{attempt}",
        amount=order.total_amount,
        status=status,
    )


@pytest.fixture
def sales(db):
    """Branch B1: district D1 of ``boss``, routes R1 and R2 of ``am1`` and R3 of ``am2``.
    Branch B2: district D2 of ``boss2``, route R4 of ``am3``.

    Brands: KEY (class 1, key, 50 per case, list 204.00, wholesale 200.00), LOW (class 3, low
    tar, 25 per case, list 81.60, wholesale 80.00), PLAIN (class 5, 50 per case, list 40.80).

    Retailers: s1, s2, s6 on R1; s3, s7 on R2; s4 on R3; s5 on R4. Accounts: s1 (2020), s2
    (opened 2031-06-15), s4 (no date), s5, s7 (2020); s3 and s6 pay cash. s6 joined on
    2031-08-01; s7 closed on 2031-09-10.

    Orders (phone unless said):
      October 2031: s1 KEY 10 + LOW 20 (Oct 10); s2 LOW 5 online (Oct 31 23:30); s3 PLAIN 50
      (Oct 20); s4 KEY 2 at a visit (Oct 5); s5 KEY 100 (Oct 12); s1 KEY 999 cancelled.
      November 2031: s3 PLAIN 7 at 00:10 on Nov 1 (not October's, though it is in UTC).
      September 2031: s1 LOW 40 (Sep 20); s4 KEY 4 (Sep 3).
      October 2030: s1 KEY 8 (Oct 8); s3 PLAIN 25 (Oct 25); s5 LOW 10 (Oct 12).
    Debits: s1 October success; s2 October insufficient funds, then success; s4 October
    pending; s1 September success.
    """
    b1, b2 = BranchFactory(code="B1", name="一分公司"), BranchFactory(code="B2", name="二分公司")
    boss, boss2 = SupervisorFactory(username="boss"), SupervisorFactory(username="boss2")
    am1, am2, am3 = (UserFactory(username=f"am{n}") for n in (1, 2, 3))
    d1 = DistrictFactory(branch=b1, supervisor=boss, code="D1", name="一区")
    d2 = DistrictFactory(branch=b2, supervisor=boss2, code="D2", name="二区")
    r1 = RouteFactory(district=d1, code="R1", account_manager=am1)
    r2 = RouteFactory(district=d1, code="R2", account_manager=am1)
    r3 = RouteFactory(district=d1, code="R3", account_manager=am2)
    r4 = RouteFactory(district=d2, code="R4", account_manager=am3)
    key = BrandFactory(
        code="TK001",
        name="重点一号",
        price_class=1,
        wholesale_price=Decimal("200.00"),
        list_price=Decimal("204.00"),
        is_key=True,
    )
    low = BrandFactory(
        code="TL001",
        name="低焦一号",
        price_class=3,
        wholesale_price=Decimal("80.00"),
        list_price=Decimal("81.60"),
        cartons_per_case=25,
        is_low_tar=True,
    )
    plain = BrandFactory(
        code="TP001",
        name="普通一号",
        price_class=5,
        wholesale_price=Decimal("40.00"),
        list_price=Decimal("40.80"),
    )
    old = dt.date(2020, 1, 1)
    s1 = RetailerFactory(route=r1, name="店一", opened_on=old)
    s2 = RetailerFactory(route=r1, name="店二", opened_on=old)
    s3 = RetailerFactory(route=r2, name="店三", opened_on=old, payment_method="cash")
    s4 = RetailerFactory(route=r3, name="店四", opened_on=old)
    s5 = RetailerFactory(route=r4, name="店五", opened_on=old)
    s6 = RetailerFactory(
        route=r1, name="店六", opened_on=dt.date(2031, 8, 1), payment_method="cash"
    )
    s7 = RetailerFactory(route=r2, name="店七", opened_on=old)
    for shop, opened in ((s1, old), (s2, dt.date(2031, 6, 15)), (s4, None), (s5, old), (s7, old)):
        AccountFactory(retailer=shop, opened_on=opened)
    StatusChange.objects.create(
        retailer=s7, status=RetailerStatus.CLOSED, effective_from=dt.date(2031, 9, 10)
    )
    s7.status = RetailerStatus.CLOSED
    s7.save(update_fields=["status"])

    o_s1 = sell(s1, at(dt.date(2031, 10, 10)), (key, 10), (low, 20))
    o_s2 = sell(s2, at(dt.date(2031, 10, 31), 23, 30), (low, 5), channel="online")
    sell(s3, at(dt.date(2031, 10, 20)), (plain, 50))
    o_s4 = sell(s4, at(dt.date(2031, 10, 5)), (key, 2), channel="visit")
    sell(s5, at(dt.date(2031, 10, 12)), (key, 100))
    cancelled = sell(s1, at(dt.date(2031, 10, 11)), (key, 999))
    cancelled.status = OrderStatus.CANCELLED
    cancelled.save(update_fields=["status"])
    sell(s3, at(dt.date(2031, 11, 1), 0, 10), (plain, 7))
    sep_s1 = sell(s1, at(dt.date(2031, 9, 20)), (low, 40))
    sell(s4, at(dt.date(2031, 9, 3)), (key, 4))
    sell(s1, at(dt.date(2030, 10, 8)), (key, 8))
    sell(s3, at(dt.date(2030, 10, 25)), (plain, 25))
    sell(s5, at(dt.date(2030, 10, 12)), (low, 10))
    debit(o_s1, 1, "success")
    debit(o_s2, 1, "insufficient_funds")
    debit(o_s2, 2, "success")
    debit(o_s4, 1, "pending")
    debit(sep_s1, 1, "success")
    for paid in (o_s1, o_s2, sep_s1):
        paid.status = OrderStatus.PAID
        paid.save(update_fields=["status"])
    return SimpleNamespace(
        b1=b1,
        b2=b2,
        boss=boss,
        boss2=boss2,
        am1=am1,
        am2=am2,
        am3=am3,
        d1=d1,
        d2=d2,
        r1=r1,
        r2=r2,
        r3=r3,
        r4=r4,
        key=key,
        low=low,
        plain=plain,
        shops=[s1, s2, s3, s4, s5, s6, s7],
    )
