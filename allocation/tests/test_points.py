"""The points job (DESIGN §5): exact sums, counted orders only, recomputing, running totals."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from allocation import selectors, services
from allocation.models import PointsComputation, PointsEntry, PointsRule
from allocation.tests.factories import BrandFactory, make_world, order
from settlement.models import OrderChannel, OrderStatus

pytestmark = pytest.mark.django_db


def ledger(cycle):
    return {
        e.retailer_id: (e.cartons, e.points, e.running_total)
        for e in PointsEntry.objects.filter(cycle=cycle)
    }


def test_points_are_cartons_times_the_price_class_weight():
    world = make_world()
    brands = {c: BrandFactory(price_class=c) for c in (1, 2, 3, 4, 5)}
    shop, other, idle = world.retailer(), world.retailer(), world.retailer()
    order(shop, world.before, (brands[1], 2), (brands[3], 4), (brands[5], 7))
    order(shop, world.before, (brands[2], 1), channel="online")
    order(other, world.before, (brands[4], 10))
    order(other, world.before, (brands[1], 100), status=OrderStatus.CANCELLED)
    order(idle, world.cycle, (brands[1], 9))  # another cycle
    computation = services.points_compute(cycle=world.before)
    assert ledger(world.before) == {
        shop.pk: (14, 2 * 5 + 4 * 3 + 7 * 1 + 1 * 4, 33),
        other.pk: (10, 20, 20),
    }
    assert (computation.retailers, computation.total_points, computation.weights) == (
        2,
        53,
        "5/4/3/2/1",
    )
    assert computation.rule is None


def test_failed_payments_count_and_cancelled_orders_do_not():
    world = make_world()
    shop = world.retailer()
    order(shop, world.before, (world.class1, 1), status=OrderStatus.PAYMENT_FAILED)
    order(shop, world.before, (world.class1, 3), status=OrderStatus.PLACED)
    order(shop, world.before, (world.class1, 50), status=OrderStatus.CANCELLED)
    services.points_compute(cycle=world.before)
    assert ledger(world.before) == {shop.pk: (4, 20, 20)}


def test_the_rule_in_force_at_the_cycle_start_gives_weights_and_bonuses():
    world = make_world()
    PointsRule.objects.create(effective_from=world.before.start_date + dt.timedelta(days=1))
    rule = PointsRule.objects.create(
        effective_from=world.before.start_date,
        weight_class_1=10,
        weight_class_2=1,
        bonus_per_cycle_ordered=3,
        bonus_per_online_carton=2,
        bonus_per_new_brand_carton=1,
    )
    new = BrandFactory(price_class=2, is_new=True)
    shop = world.retailer()
    order(shop, world.before, (world.class1, 2), (new, 5))
    order(shop, world.before, (world.class1, 1), channel="online")
    computation = services.points_compute(cycle=world.before)
    # cartons: 3 × 10 + 5 × (1 + 1); online: 1 carton × 2; ordered in the cycle: 3
    assert ledger(world.before) == {shop.pk: (8, 30 + 10 + 2 + 3, 45)}
    assert computation.rule == rule
    assert computation.weights == "10/1/3/2/1"
    assert selectors.points_rule_for(world.before) == rule


def test_recomputing_replaces_the_cycle_and_corrects_later_running_totals():
    world = make_world()
    earlier = selectors.previous_cycle(world.before)
    shop, gone = world.retailer(), world.retailer()
    order(shop, earlier, (world.class1, 1))
    first = order(shop, world.before, (world.class1, 2))
    order(gone, world.before, (world.class1, 1))
    order(shop, world.cycle, (world.class1, 4))
    for cycle in (earlier, world.before, world.cycle):
        services.points_compute(cycle=cycle)
    assert ledger(world.cycle) == {shop.pk: (4, 20, 5 + 10 + 20)}
    # The middle cycle changes after the fact: one order cancelled, another added.
    first.status = OrderStatus.CANCELLED
    first.save()
    order(shop, world.before, (world.class1, 7))
    gone_order = gone.orders.get()
    gone_order.status = OrderStatus.CANCELLED
    gone_order.save()
    services.points_compute(cycle=world.before)
    assert ledger(world.before) == {shop.pk: (7, 35, 40)}
    assert ledger(world.cycle) == {shop.pk: (4, 20, 60)}
    assert ledger(earlier) == {shop.pk: (1, 5, 5)}
    # Again with nothing changed: the same ledger, not doubled.
    services.points_compute(cycle=world.before)
    assert ledger(world.before) == {shop.pk: (7, 35, 40)}
    assert ledger(world.cycle) == {shop.pk: (4, 20, 60)}
    assert PointsComputation.objects.filter(cycle=world.before).count() == 1


def test_running_total_skips_cycles_without_orders():
    world = make_world()
    earlier = selectors.previous_cycle(selectors.previous_cycle(world.before))
    shop = world.retailer()
    order(shop, earlier, (world.class1, 1))
    order(shop, world.cycle, (world.class1, 1))
    for cycle in (earlier, world.before, world.cycle):
        services.points_compute(cycle=cycle)
    assert ledger(world.before) == {}
    assert ledger(world.cycle) == {shop.pk: (1, 5, 10)}


def test_one_aggregate_and_one_write_per_cycle():
    world = make_world()
    for _ in range(20):
        order(world.retailer(), world.before, (world.class1, 2))
    with CaptureQueriesContext(connection) as queries:
        services.points_compute(cycle=world.before)
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert not any("allocation_pointsentry" in s and s.startswith("UPDATE") for s in sql)
    assert sum("GROUP BY" in s for s in sql) == 1
    if connection.vendor == "postgresql":
        # The aggregate writes the cycle's partition itself (CREATE TABLE … AS), no INSERT.
        partition = f'"allocation_pointsentry_c{world.before.pk}"'
        assert next(s for s in sql if "GROUP BY" in s).startswith(f"CREATE TABLE {partition} AS")
        assert not any(s.startswith('INSERT INTO "allocation_pointsentry') for s in sql)
        # lock, three settings, rule, cycle before, history?, later?, partitioned?, orphan
        # partitions?, partition already there?, delete (default partition), aggregate, check
        # constraints, alter, index, attach, analyze, totals, upsert (2).
        assert len(sql) == 21
    else:
        assert sum(s.startswith('INSERT INTO "allocation_pointsentry"') for s in sql) == 1
        # rule, cycle before, history?, later?, delete, aggregate, insert, totals (from the
        # aggregate), drop, upsert (2).
        assert len(sql) == 11
    assert len(ledger(world.before)) == 20


def partitions(*cycles):
    """The ledger's default partition and those of ``cycles`` on PostgreSQL (other tests'
    cycles may have theirs): {name: number of indexes}."""
    names = ["allocation_pointsentry_default"]
    names += [f"allocation_pointsentry_c{cycle.pk}" for cycle in cycles]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)"
            " FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid"
            " WHERE h.inhparent = 'allocation_pointsentry'::regclass AND c.relname = ANY(%s)",
            [names],
        )
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
def test_each_computed_cycle_is_a_partition_with_the_ledgers_indexes():
    world = make_world()
    shop = world.retailer()
    order(shop, world.before, (world.class1, 2))
    # An entry written row by row (the admin, a test) lands in the default partition …
    PointsEntry.objects.create(
        retailer=world.retailer(),
        cycle=world.before,
        cycle_start=world.before.start_date,
        cartons=1,
        points=1,
        running_total=1,
    )
    # A partition whose cycle is gone (tables truncated, as transactional tests do) …
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE allocation_pointsentry_c999999999 PARTITION OF allocation_pointsentry"
            " FOR VALUES IN (999999999)"
        )
    services.points_compute(cycle=world.before)
    # … is dropped by the next computation.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('allocation_pointsentry_c999999999')")
        assert cursor.fetchone() == (None,)
    name = f"allocation_pointsentry_c{world.before.pk}"
    # … and the computation replaces it; the partition holds exactly the ledger's two
    # indexes, i.e. ATTACH adopted the ones built with the rows and built none of its own.
    assert partitions(world.before) == {"allocation_pointsentry_default": 2, name: 2}
    assert ledger(world.before) == {shop.pk: (2, 10, 10)}
    # Recomputing replaces the partition, not adds to it; the constraints still hold.
    services.points_compute(cycle=world.before)
    assert partitions(world.before) == {"allocation_pointsentry_default": 2, name: 2}
    assert ledger(world.before) == {shop.pk: (2, 10, 10)}
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            retailer=shop,
            cycle=world.before,
            cycle_start=world.before.start_date,
            cartons=1,
            points=-1,
            running_total=1,
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
def test_the_partitioned_ledger_equals_the_one_table_ledger(monkeypatch):
    world = make_world()
    earlier = selectors.previous_cycle(selectors.previous_cycle(world.before))
    middle = selectors.previous_cycle(world.before)
    shops = [world.retailer() for _ in range(6)]
    for i, shop in enumerate(shops):
        for cycle in (earlier, middle, world.before, world.cycle)[i % 3 :]:
            order(
                shop,
                cycle,
                (world.class1, i + 1),
                channel=OrderChannel.ONLINE if i % 2 else OrderChannel.PHONE,
            )
    cycles = (earlier, middle, world.before, world.cycle)

    def compute_all():
        for cycle in cycles:
            services.points_compute(cycle=cycle)
        # And a recomputation of an earlier cycle, which corrects the later running totals.
        order(shops[0], middle, (world.class1, 3))
        services.points_compute(cycle=middle)
        return {cycle.pk: ledger(cycle) for cycle in cycles}

    with transaction.atomic():
        partitioned = compute_all()
        transaction.set_rollback(True)
    assert len(partitions(*cycles)) == 1  # rolled back: only the default partition
    monkeypatch.setattr(services, "_ledger_is_partitioned", lambda: False)
    assert compute_all() == partitioned
    assert partitions(*cycles) == {"allocation_pointsentry_default": 2}
    assert all(partitioned.values())


def test_ended_cycles_job_computes_each_once():
    world = make_world()
    order(world.retailer(), world.before, (world.class1, 1))
    today = world.cycle.start_date
    done = services.points_compute_ended_cycles(today=today)
    assert [c.pk for c in done][-1] == world.before.pk
    assert world.cycle.pk not in [c.pk for c in done]
    assert services.points_compute_ended_cycles(today=today) == []
