"""Volume, price and stock trends from the stock observed at visits, on known data."""

import datetime as dt
from decimal import Decimal

import pytest

from settlement.analytics import units_for
from settlement.tests.factories import BrandFactory
from visits import analytics

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = dt.date(2031, 2, 10)
JANUARY = dt.date(2031, 1, 31)


def figures(series):
    return [
        (p.label, p.observations, p.stock, p.price, p.sales)
        for p in series.points
        if p.observations
    ]


def test_monthly_averages_per_brand_and_their_change(world, stock):
    series = analytics.stock_trends(user=world.boss, by="month", end=JANUARY, today=TODAY)
    assert [s.brand for s in series] == [stock.a, stock.b]  # most observed first
    a, b = series
    assert [p.label for p in a.points][0::11] == ["2030-02", "2031-01"]
    assert figures(a) == [
        ("2030-12", 1, D("10.0"), D("110.00"), D("20.0")),
        ("2031-01", 3, D("8.0"), D("113.50"), D("24.0")),
    ]
    assert (a.stock_change, a.price_change, a.sales_change) == (D("-20.0"), D("3.2"), D("20.0"))
    assert figures(b) == [("2031-01", 1, D("3.0"), D("50.00"), D("4.0"))]
    assert (b.latest.label, b.before, b.stock_change) == ("2031-01", None, None)


def test_per_cycle(world, stock):
    series = analytics.stock_trends(
        user=world.boss, by="cycle", end=dt.date(2031, 1, 19), today=TODAY
    )
    a = series[0]
    assert a.points[-1].label == world.c2.code
    assert a.points[-2].label == world.c1.code
    assert figures(a) == [
        (world.c1.code, 2, D("9.5"), D("112.00"), D("18.0")),
        (world.c2.code, 1, D("5.0"), D("115.00"), D("30.0")),
    ]  # December's visit has no cycle


def test_trends_are_scoped_and_filtered(world, stock, demo):
    def brands(user, **filters):
        return [
            (s.brand.code, s.observations)
            for s in analytics.stock_trends(
                user=user, by="month", end=JANUARY, today=TODAY, **filters
            )
        ]

    assert brands(world.am1) == [("VA001", 4)]
    assert brands(world.am2) == [("VB001", 1)]
    assert brands(world.other_boss) == [("VA001", 1)]  # the shop of their district
    assert brands(demo["manager"]) == []
    assert brands(demo["admin"]) == [("VA001", 5), ("VB001", 1)]
    area = units_for(world.boss).area(f"route:{world.r2.pk}")
    assert brands(world.boss, area=area) == [("VA001", 1)]
    unseen = BrandFactory(code="VC001", name="丙")
    only = analytics.stock_trends(
        user=world.boss, by="month", end=JANUARY, today=TODAY, brand=unseen
    )
    assert [(s.brand, s.observations, s.latest) for s in only] == [(unseen, 0, None)]
    assert len(only[0].points) == 12


def test_trends_are_two_queries(world, stock, django_assert_num_queries):
    with django_assert_num_queries(2):
        analytics.stock_trends(user=world.boss, by="month", end=JANUARY, today=TODAY)
