"""Brand-cultivation targets: who may set them, what is refused, and progress from orders."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from config.errors import ApplicationError
from settlement import analytics, services
from settlement.models import BrandGroup, CultivationTarget

pytestmark = pytest.mark.django_db

D = Decimal
AFTER = dt.date(2031, 11, 20)


def ours(sales):
    """The targets of the data set's managers (the demo has targets of its own)."""
    return CultivationTarget.objects.filter(account_manager__in=[sales.am1, sales.am2, sales.am3])


def target_input(manager, **changes) -> services.TargetInput:
    values = {
        "account_manager": manager,
        "brand": None,
        "brand_group": BrandGroup.LOW_TAR,
        "start_date": dt.date(2031, 7, 1),
        "end_date": dt.date(2031, 12, 31),
        "target_retailers": 3,
        "target_cartons": 100,
    }
    return services.TargetInput(**{**values, **changes})


def test_a_supervisor_sets_a_target_for_a_manager_of_their_district(sales):
    target = services.cultivation_target_create(data=target_input(sales.am1), by=sales.boss)
    target.refresh_from_db()
    assert (target.account_manager, target.brand, target.brand_group) == (
        sales.am1,
        None,
        "low_tar",
    )
    assert (target.start_date, target.end_date) == (dt.date(2031, 7, 1), dt.date(2031, 12, 31))
    assert (target.target_retailers, target.target_cartons, target.created_by) == (
        3,
        100,
        sales.boss,
    )
    assert target.subject == "Low-tar brands"
    # One brand, or the same group for another period or manager, is another target.
    services.cultivation_target_create(
        data=target_input(sales.am1, brand=sales.low, brand_group=""), by=sales.boss
    )
    services.cultivation_target_create(
        data=target_input(
            sales.am1, start_date=dt.date(2031, 10, 1), end_date=dt.date(2031, 10, 31)
        ),
        by=sales.boss,
    )
    services.cultivation_target_create(
        data=target_input(sales.am2, target_cartons=None), by=sales.boss
    )
    assert ours(sales).count() == 4


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"brand_group": ""}, "brand", "either one brand or one group"),
        ({"brand_group": "low_tar", "brand": "low"}, "brand", "either one brand or one group"),
        ({"brand_group": "mild"}, "brand_group", "group from the list"),
        ({"end_date": dt.date(2031, 6, 30)}, "end_date", "ends before it starts"),
        ({"end_date": dt.date(2032, 7, 1)}, "end_date", "at most a year"),
        ({"target_retailers": 0}, "target_retailers", "from 1 to 100000"),
        ({"target_cartons": -5}, "target_cartons", "from 1 to 10000000"),
        ({"target_cartons": 10_000_001}, "target_cartons", "from 1 to 10000000"),
        ({"target_retailers": None, "target_cartons": None}, "target_retailers", "or both"),
    ],
)
def test_bad_targets_are_refused_naming_the_field(sales, changes, field, message):
    if changes.get("brand") == "low":
        changes["brand"] = sales.low
    with pytest.raises(ApplicationError, match=message) as refused:
        services.cultivation_target_create(data=target_input(sales.am1, **changes), by=sales.boss)
    assert field in refused.value.extra
    assert ours(sales).count() == 0


def test_only_managers_of_ones_districts(sales, demo):
    for by, manager in (
        (sales.boss, sales.am3),  # another district's manager
        (sales.boss2, sales.am1),
        (sales.am1, sales.am1),  # a manager does not set their own targets
        (demo["supervisor"], sales.am1),
        (sales.boss, sales.boss2),  # not an account manager
    ):
        with pytest.raises(ApplicationError, match="account manager of your districts") as refused:
            services.cultivation_target_create(data=target_input(manager), by=by)
        assert list(refused.value.extra) == ["account_manager"]
    assert ours(sales).count() == 0
    services.cultivation_target_create(data=target_input(sales.am3), by=demo["admin"])
    assert ours(sales).get().account_manager == sales.am3


def test_the_same_target_twice_is_refused(sales):
    services.cultivation_target_create(data=target_input(sales.am1), by=sales.boss)
    with pytest.raises(ApplicationError, match="already has a target") as refused:
        services.cultivation_target_create(
            data=target_input(sales.am1, target_cartons=5), by=sales.boss
        )
    assert "brand" in refused.value.extra
    assert list(ours(sales).values_list("target_cartons", flat=True)) == [100]


def test_the_database_refuses_a_duplicate_too(sales):
    values = {
        "account_manager": sales.am1,
        "brand": sales.low,
        "start_date": dt.date(2031, 1, 1),
        "end_date": dt.date(2031, 1, 31),
        "target_cartons": 5,
    }
    CultivationTarget.objects.create(**values)
    with pytest.raises(IntegrityError):
        CultivationTarget.objects.create(**values)


def test_update_and_delete(sales):
    target = services.cultivation_target_create(data=target_input(sales.am1), by=sales.boss)
    other = services.cultivation_target_create(
        data=target_input(sales.am1, brand=sales.key, brand_group=""), by=sales.boss
    )
    services.cultivation_target_update(
        target=target, data=target_input(sales.am2, target_cartons=250), by=sales.boss
    )
    target.refresh_from_db()
    assert (target.account_manager, target.target_cartons) == (sales.am2, 250)
    with pytest.raises(ApplicationError, match="already has a target"):
        services.cultivation_target_update(
            target=target,
            data=target_input(sales.am1, brand=sales.key, brand_group=""),
            by=sales.boss,
        )
    with pytest.raises(ApplicationError, match="may not change"):
        services.cultivation_target_update(
            target=other, data=target_input(sales.am1), by=sales.boss2
        )
    with pytest.raises(ApplicationError, match="may not delete"):
        services.cultivation_target_delete(target=other, by=sales.boss2)
    target.refresh_from_db()
    assert (target.account_manager, target.target_cartons, target.brand_group) == (
        sales.am2,
        250,
        "low_tar",
    )
    services.cultivation_target_delete(target=other, by=sales.boss)
    assert list(ours(sales)) == [target]


# --- Progress --------------------------------------------------------------------------------


def make(manager, start, end, *, brand=None, group="", retailers=None, cartons=None):
    return CultivationTarget.objects.create(
        account_manager=manager,
        brand=brand,
        brand_group=group,
        start_date=start,
        end_date=end,
        target_retailers=retailers,
        target_cartons=cartons,
    )


@pytest.fixture
def targets(sales):
    oct1, oct31 = dt.date(2031, 10, 1), dt.date(2031, 10, 31)
    return {
        # s1 LOW 20 and s2 LOW 5 in October.
        "missed": make(sales.am1, oct1, oct31, brand=sales.low, retailers=4, cartons=50),
        # s1 LOW 40 (Sep) and 20 (Oct), s2 LOW 5 (Oct).
        "met": make(
            sales.am1,
            dt.date(2031, 9, 1),
            dt.date(2031, 12, 31),
            group="low_tar",
            retailers=2,
            cartons=60,
        ),
        # s4 KEY 4 (Sep) and 2 (Oct).
        "behind": make(
            sales.am2, dt.date(2031, 9, 1), dt.date(2031, 12, 31), group="key", cartons=100
        ),
        # s3 PLAIN 50 (Oct 20) and 7 (Nov 1).
        "on_track": make(
            sales.am1, oct1, dt.date(2031, 12, 31), brand=sales.plain, retailers=1, cartons=70
        ),
        "upcoming": make(
            sales.am1, dt.date(2032, 1, 1), dt.date(2032, 3, 31), brand=sales.key, cartons=10
        ),
        # s1 KEY 10; its cancelled 999 do not count.
        "key": make(sales.am1, oct1, oct31, brand=sales.key, retailers=1),
    }


def test_progress_from_the_orders_of_the_managers_retailers(sales, targets):
    rows = analytics.target_progress(user=sales.boss, targets=list(targets.values()), today=AFTER)
    found = {
        name: (p.retailers, p.cartons, p.retailers_pct, p.cartons_pct, p.elapsed_pct, p.state)
        for name, p in zip(targets, rows, strict=True)
    }
    assert found == {
        "missed": (2, 25, D("50.0"), D("50.0"), D("100.0"), "missed"),
        "met": (2, 65, D("100.0"), D("108.3"), D("66.4"), "met"),
        "behind": (1, 6, None, D("6.0"), D("66.4"), "behind"),
        "on_track": (1, 57, D("100.0"), D("81.4"), D("55.4"), "on_track"),
        "upcoming": (0, 0, None, D("0.0"), D("0.0"), "upcoming"),
        "key": (1, 10, D("100.0"), None, D("100.0"), "met"),
    }


def test_progress_counts_only_what_the_viewer_may_see(sales, targets):
    [mine] = analytics.target_progress(user=sales.am1, targets=[targets["met"]], today=AFTER)
    assert (mine.retailers, mine.cartons) == (2, 65)
    [theirs] = analytics.target_progress(user=sales.am2, targets=[targets["met"]], today=AFTER)
    assert (theirs.retailers, theirs.cartons) == (0, 0)


def test_progress_is_one_query(sales, targets, django_assert_num_queries):
    with django_assert_num_queries(1):
        analytics.target_progress(user=sales.boss, targets=list(targets.values()), today=AFTER)
    assert analytics.target_progress(user=sales.boss, targets=[], today=AFTER) == []


def test_who_sees_which_targets(sales, targets, demo):
    theirs = make(sales.am3, dt.date(2031, 1, 1), dt.date(2031, 1, 31), group="new", cartons=1)
    assert set(analytics.visible_targets(sales.am1)) == {
        targets[name] for name in ("missed", "met", "on_track", "upcoming", "key")
    }
    assert set(analytics.visible_targets(sales.boss)) == set(targets.values())
    assert set(analytics.visible_targets(sales.boss2)) == {theirs}
    town = set(analytics.visible_targets(demo["manager2"]))
    assert {t.account_manager for t in town} == {demo["manager2"]}  # the demo's own
    assert not town & set(ours(sales))
    assert theirs in analytics.visible_targets(demo["admin"])
    assert list(analytics.manageable_managers(sales.boss)) == [sales.am1, sales.am2]
    assert list(analytics.manageable_managers(sales.am1)) == []


def test_the_managers_running_targets(sales, targets):
    running = analytics.current_targets(user=sales.am1, today=AFTER)
    assert [p.target for p in running] == [targets["on_track"], targets["met"]]
    assert analytics.current_targets(user=sales.boss, today=AFTER) == []
