"""The half-year report's figures, computed from a known data set (``conftest.sales``)."""

import datetime as dt
from decimal import Decimal

import pytest

from settlement import analytics
from settlement.analytics import Comparison, DateRange, Level, Period, compare

pytestmark = pytest.mark.django_db

OCT = Period.parse("2031-10")
AFTER = dt.date(2031, 11, 20)  # October 2031 has ended
D = Decimal


def figures(row):
    """(cartons, cases, revenue) of this period, a year before and the period before."""
    return [(m.cartons, m.cases, m.revenue) for m in (row.current, row.year_before, row.previous)]


def changes(row):
    return (row.cartons_yoy, row.cartons_pop, row.revenue_yoy, row.revenue_pop)


# --- Periods ---------------------------------------------------------------------------------


def test_periods_parse_and_shift():
    assert (OCT.start, OCT.end, OCT.code) == (
        dt.date(2031, 10, 1),
        dt.date(2031, 10, 31),
        "2031-10",
    )
    half = Period.parse("2031-H2")
    assert (half.start, half.end, half.months) == (dt.date(2031, 7, 1), dt.date(2031, 12, 31), 6)
    assert (half.shifted(-1).code, half.shifted(-2).code) == ("2031-H1", "2030-H2")
    assert Period.parse("2031-01").shifted(-1).code == "2030-12"
    assert Period.of("half", dt.date(2031, 6, 30)).code == "2031-H1"
    assert Period.parse("2031-02").end == dt.date(2031, 2, 28)
    for bad in ("2031-13", "2031-00", "2031-H3", "31-10", "2031-1", "1999-10", "2101-01", "x", ""):
        with pytest.raises(ValueError, match=bad or "^$"):
            Period.parse(bad)
    assert analytics.last_complete("month", dt.date(2031, 1, 15)).code == "2030-12"
    assert analytics.last_complete("half", dt.date(2031, 11, 1)).code == "2031-H1"
    assert [p.code for p in analytics.recent_periods("half", dt.date(2031, 3, 1), 3)] == [
        "2031-H1",
        "2030-H2",
        "2030-H1",
    ]


def test_an_ended_period_is_compared_whole():
    assert compare(OCT, AFTER) == Comparison(
        period=OCT,
        current=DateRange(dt.date(2031, 10, 1), dt.date(2031, 10, 31)),
        year_before=DateRange(dt.date(2030, 10, 1), dt.date(2030, 10, 31)),
        previous=DateRange(dt.date(2031, 9, 1), dt.date(2031, 9, 30)),
        partial=False,
    )
    h1 = compare(Period.parse("2031-H1"), AFTER)
    assert (h1.previous, h1.year_before) == (
        DateRange(dt.date(2030, 7, 1), dt.date(2030, 12, 31)),
        DateRange(dt.date(2030, 1, 1), dt.date(2030, 6, 30)),
    )


def test_a_running_period_is_compared_to_the_same_days():
    running = compare(Period.parse("2031-03"), dt.date(2031, 3, 31 - 1))
    assert running.partial is True
    assert running.current == DateRange(dt.date(2031, 3, 1), dt.date(2031, 3, 30))
    assert running.year_before == DateRange(dt.date(2030, 3, 1), dt.date(2030, 3, 30))
    assert running.previous == DateRange(dt.date(2031, 2, 1), dt.date(2031, 2, 28))  # clamped
    half = compare(Period.parse("2032-H2"), dt.date(2032, 8, 31))
    assert half.current == DateRange(dt.date(2032, 7, 1), dt.date(2032, 8, 31))
    assert half.year_before == DateRange(dt.date(2031, 7, 1), dt.date(2031, 8, 31))
    assert half.previous == DateRange(dt.date(2032, 1, 1), dt.date(2032, 2, 29))
    # Its last day counts it whole.
    assert compare(OCT, dt.date(2031, 10, 31)).partial is False


def test_change_and_percent_round_half_up_and_have_no_base_zero():
    assert analytics.change(87, 33) == D("163.6")
    assert analytics.change(2, 4) == D("-50.0")
    assert analytics.change(5, 0) is None
    assert analytics.change(0, 0) is None
    assert str(analytics.change(20981, 20983)) == "0.0"  # not "-0.0"
    assert analytics.change(D("1.005"), 1) == D("0.5")
    assert analytics.percent(1, 8) == D("12.5")
    assert analytics.percent(1, 16) == D("6.3")  # 6.25 rounds up
    assert analytics.percent(3, 0) is None


# --- Sales -----------------------------------------------------------------------------------


def test_sales_of_a_district_with_year_on_year_and_period_on_period(sales):
    data = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER)
    total = data.total
    # October 2031: s1 KEY 10 + LOW 20 (2040.00 + 1632.00), s2 LOW 5 online (400.00),
    # s3 PLAIN 50 (2040.00), s4 KEY 2 (408.00); the cancelled order and November's are out.
    assert figures(total) == [
        (87, D("2.24"), D("6520.00")),
        (33, D("0.66"), D("2652.00")),
        (44, D("1.68"), D("4080.00")),
    ]
    assert changes(total) == (D("163.6"), D("97.7"), D("145.9"), D("59.8"))
    assert (total.cases_yoy, total.cases_pop) == (D("239.4"), D("33.3"))


def test_sales_by_route_manager_district_and_branch(sales):
    def rows(user, level):
        data = analytics.sales_dashboard(user=user, period=OCT, today=AFTER, level=level)
        return [
            (r.label, r.current.cartons, r.cartons_yoy, r.cartons_pop, r.share)
            for r in data.by_unit
        ]

    assert rows(sales.boss, Level.ROUTE) == [
        ("一区 R1", 35, D("337.5"), D("-12.5"), D("40.2")),
        ("一区 R2", 50, D("100.0"), None, D("57.5")),
        ("一区 R3", 2, None, D("-50.0"), D("2.3")),
    ]
    assert rows(sales.boss, Level.MANAGER) == [
        (str(sales.am1), 85, D("157.6"), D("112.5"), D("97.7")),
        (str(sales.am2), 2, None, D("-50.0"), D("2.3")),
    ]
    assert rows(sales.boss, Level.DISTRICT) == [("一区", 87, D("163.6"), D("97.7"), D("100.0"))]
    assert rows(sales.boss, Level.BRANCH) == [("一分公司", 87, D("163.6"), D("97.7"), D("100.0"))]


def test_sales_by_price_class_and_brand_with_key_and_low_tar_brands(sales):
    data = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER)
    assert [
        (r.key, r.current.cartons, r.year_before.cartons, r.previous.cartons) for r in data.by_class
    ] == [
        (1, 12, 8, 4),
        (2, 0, 0, 0),
        (3, 25, 0, 40),
        (4, 0, 0, 0),
        (5, 50, 25, 0),
    ]
    assert [r.share for r in data.by_class] == [D("13.8"), D("0.0"), D("28.7"), D("0.0"), D("57.5")]
    assert [(r.label, r.current.cases, r.current.revenue) for r in data.by_brand] == [
        ("普通一号", D("1.00"), D("2040.00")),
        ("低焦一号", D("1.00"), D("2032.00")),
        ("重点一号", D("0.24"), D("2448.00")),
    ]
    assert [r.key for r in data.key_rows] == [sales.key]
    assert figures(data.key_brands) == [
        (12, D("0.24"), D("2448.00")),
        (8, D("0.16"), D("1632.00")),
        (4, D("0.08"), D("816.00")),
    ]
    assert [r.key for r in data.low_tar_rows] == [sales.low]
    assert (data.low_tar.current.cartons, data.low_tar.cartons_yoy, data.low_tar.cartons_pop) == (
        25,
        None,
        D("-37.5"),
    )


def test_monthly_and_half_year_trends(sales):
    data = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER)
    assert [p.label for p in data.months] == [
        "2030-11",
        "2030-12",
        *[f"2031-{m:02d}" for m in range(1, 11)],
    ]
    by_label = {
        p.label: (p.current.cartons, p.current.revenue, p.year_before.cartons) for p in data.months
    }
    assert by_label["2031-10"] == (87, D("6520.00"), 33)
    assert by_label["2031-09"] == (44, D("4080.00"), 0)
    assert {k: v for k, v in by_label.items() if k not in ("2031-09", "2031-10")} == dict.fromkeys(
        [k for k in by_label if k not in ("2031-09", "2031-10")], (0, D("0"), 0)
    )
    assert [
        (p.label, p.current.cartons, p.current.cases, p.current.revenue) for p in data.halves
    ] == [
        ("2030 H1 (Jan–Jun)", 0, D("0.00"), D("0")),
        ("2030 H2 (Jul–Dec)", 33, D("0.66"), D("2652.00")),
        ("2031 H1 (Jan–Jun)", 0, D("0.00"), D("0")),
        ("2031 H2 (Jul–Dec)", 131, D("3.92"), D("10600.00")),
    ]


def test_a_running_month_counts_to_date_against_the_same_days(sales):
    data = analytics.sales_dashboard(user=sales.boss, period=OCT, today=dt.date(2031, 10, 15))
    assert data.comparison.partial is True
    # To October 15: s1 (30) and s4 (2); a year before to October 15: s1 (8); September to
    # the 15th: s4 (4), not s1's order of the 20th.
    assert [
        m.cartons for m in (data.total.current, data.total.year_before, data.total.previous)
    ] == [
        32,
        8,
        4,
    ]
    assert (data.total.cartons_yoy, data.total.cartons_pop) == (D("300.0"), D("700.0"))


def test_a_half_year(sales):
    data = analytics.sales_dashboard(user=sales.boss, period=Period.parse("2031-H2"), today=AFTER)
    assert data.comparison.partial is True  # H2 2031 runs to December
    assert [
        m.cartons for m in (data.total.current, data.total.year_before, data.total.previous)
    ] == [
        131 + 7,  # September, October and the 7 of November 1
        33,
        0,
    ]


def test_filters_by_area_brand_and_price_class(sales):
    units = analytics.units_for(sales.boss)
    r1 = units.area(f"route:{sales.r1.pk}")
    am2 = units.area(f"manager:{sales.am2.pk}")
    by_area = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER, area=r1)
    assert figures(by_area.total)[0] == (35, D("1.20"), D("4072.00"))
    assert [r.label for r in by_area.by_unit] == ["一区 R1"]
    assert (
        analytics.sales_dashboard(
            user=sales.boss, period=OCT, today=AFTER, area=am2
        ).total.current.cartons
        == 2
    )
    by_brand = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER, brand=sales.low)
    assert figures(by_brand.total) == [
        (25, D("1.00"), D("2032.00")),
        (0, D("0.00"), D("0")),
        (40, D("1.60"), D("3264.00")),
    ]
    by_class = analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER, price_class=5)
    assert [r.label for r in by_class.by_brand] == ["普通一号"]
    assert by_class.total.current.cartons == 50
    with pytest.raises(ValueError, match="route:"):
        units.area(f"route:{sales.r4.pk}")  # another district's route
    with pytest.raises(ValueError, match="planet"):
        units.area("planet:1")


def test_sales_are_scoped_to_what_the_user_may_see(sales, demo):
    def cartons(user, level=Level.BRANCH):
        data = analytics.sales_dashboard(user=user, period=OCT, today=AFTER, level=level)
        return data.total.current.cartons, [(r.label, r.current.cartons) for r in data.by_unit]

    assert cartons(sales.am1, Level.ROUTE) == (85, [("一区 R1", 35), ("一区 R2", 50)])
    assert cartons(sales.am2, Level.ROUTE) == (2, [("一区 R3", 2)])
    assert cartons(sales.boss2, Level.ROUTE) == (100, [("二区 R4", 100)])
    assert cartons(demo["manager2"]) == (0, [("虞城县营销部", 0)])
    assert cartons(demo["supervisor"]) == (0, [("虞城县营销部", 0)])
    total, rows = cartons(demo["admin"])
    assert total == 187
    assert ("一分公司", 87) in rows
    assert ("二分公司", 100) in rows
    admin_d2 = analytics.sales_dashboard(
        user=demo["admin"], period=OCT, today=AFTER, level=Level.BRANCH
    )
    b2 = next(r for r in admin_d2.by_unit if r.label == "二分公司")
    assert (b2.year_before.cartons, b2.cartons_yoy) == (10, D("900.0"))


def test_the_dashboard_is_four_queries_whatever_the_data(sales, django_assert_num_queries):
    with django_assert_num_queries(4):
        analytics.sales_dashboard(user=sales.boss, period=OCT, today=AFTER, level=Level.MANAGER)


def test_areas_are_the_units_of_the_visible_routes(sales):
    codes = [a.code for a in analytics.units_for(sales.am1).areas()]
    assert codes == [
        f"branch:{sales.b1.pk}",
        f"district:{sales.d1.pk}",
        f"route:{sales.r1.pk}",
        f"route:{sales.r2.pk}",
        f"manager:{sales.am1.pk}",
    ]


# --- Channels and e-settlement -----------------------------------------------------------------


def test_channel_shares_e_settlement_and_debit_success_per_month(sales):
    points = analytics.channel_series(user=sales.boss, by="month", end=OCT.end, today=AFTER)
    assert [p.label for p in points][0::11] == ["2030-11", "2031-10"]
    october, september = points[-1], points[-2]
    # October: s1 phone 3672.00, s2 online 400.00, s3 phone 2040.00, s4 visit 408.00.
    assert october.orders == {"phone": 2, "online": 1, "visit": 1}
    assert october.amounts == {"phone": D("5712.00"), "online": D("400.00"), "visit": D("408.00")}
    assert october.order_shares == {"phone": D("50.0"), "online": D("25.0"), "visit": D("25.0")}
    assert october.amount_shares == {"phone": D("87.6"), "online": D("6.1"), "visit": D("6.3")}
    # Debited: s1, s2 and s4 (its attempt still open).
    assert (october.e_orders, october.e_order_share) == (3, D("75.0"))
    assert (october.e_amount, october.e_amount_share) == (D("4480.00"), D("68.7"))
    # First attempts answered: s1 (success) and s2 (insufficient funds, paid by the retry).
    assert (october.debits.attempted, october.debits.succeeded, october.debits.recovered) == (
        2,
        1,
        1,
    )
    assert october.debits.rate == D("50.0")
    assert (september.orders, september.e_orders, september.debits.rate) == (
        {"phone": 2, "online": 0, "visit": 0},
        1,
        D("100.0"),
    )
    empty = points[0]
    assert (empty.total_orders, empty.order_shares["phone"], empty.debits.rate) == (0, None, None)


def test_e_settlement_share_of_active_retailers_as_of_each_month_end(sales):
    points = {
        p.label: (p.active_retailers, p.e_retailers, p.e_retailer_share)
        for p in analytics.channel_series(user=sales.boss, by="month", end=OCT.end, today=AFTER)
    }
    # s1, s2, s3, s4, s7 active; accounts: s1, s4 (no date), s7; s2's opens on June 15.
    assert points["2031-05"] == (5, 3, D("60.0"))
    assert points["2031-06"] == (5, 4, D("80.0"))
    assert points["2031-08"] == (6, 4, D("66.7"))  # s6 joined, paying cash
    assert points["2031-09"] == (5, 3, D("60.0"))  # s7 closed
    assert points["2031-10"] == (5, 3, D("60.0"))
    mine = analytics.channel_series(user=sales.am1, by="month", end=OCT.end, today=AFTER)[-1]
    assert (mine.active_retailers, mine.e_retailers, mine.total_orders) == (4, 2, 3)


def test_a_month_to_come_has_no_retailer_figures(sales):
    points = analytics.channel_series(
        user=sales.boss, by="month", end=dt.date(2031, 12, 31), today=AFTER
    )
    assert points[-1].label == "2031-12"
    assert (points[-1].active_retailers, points[-1].e_retailer_share) == (None, None)
    assert points[-2].active_retailers == 5  # November, as of today


def test_channel_series_per_cycle(sales):
    points = analytics.channel_series(user=sales.boss, by="cycle", end=OCT.end, today=AFTER)
    assert len(points) == 12
    assert [p.start.weekday() for p in points] == [0] * 12
    by_start = {p.start: p for p in points}
    s1_week, s2_week = by_start[dt.date(2031, 10, 6)], by_start[dt.date(2031, 10, 27)]
    assert s1_week.label == "2031-W41"
    assert s1_week.orders == {"phone": 1, "online": 0, "visit": 0}  # s1, Oct 10
    # s2 online on Oct 31, s3 by phone on Nov 1: one cycle, two months.
    assert s2_week.orders == {"phone": 1, "online": 1, "visit": 0}
    assert s1_week.debits.rate == D("100.0")
    assert (s2_week.debits.attempted, s2_week.debits.succeeded) == (1, 0)


def test_channel_series_are_scoped(sales, demo):
    for user in (demo["manager2"], demo["supervisor"], sales.boss2):
        october = analytics.channel_series(user=user, by="month", end=OCT.end, today=AFTER)[-1]
        assert (october.orders["online"], october.e_orders, october.debits.attempted) == (0, 0, 0)
    other = analytics.channel_series(user=sales.boss2, by="month", end=OCT.end, today=AFTER)[-1]
    assert (other.total_orders, other.active_retailers, other.e_retailers) == (1, 1, 1)


def test_channel_series_queries_are_bounded(sales, django_assert_num_queries):
    # Orders, debits, and one count of retailers per month.
    with django_assert_num_queries(14):
        analytics.channel_series(user=sales.boss, by="month", end=OCT.end, today=AFTER)


def test_summed_money_is_kept_to_the_cent_whatever_the_database_hands_back():
    measures = analytics.Measures()
    measures.add(cartons=3, revenue=Decimal("4555473.0200000000000"), per_case=50)
    measures.add(cartons=1, revenue=Decimal("0.0099999999"), per_case=50)
    assert str(measures.revenue) == "4555473.03"
    assert analytics.cents(None) == Decimal("0")
