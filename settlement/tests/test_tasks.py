"""The jobs, eagerly and on a real Celery worker with the Redis broker (RECIPES.md)."""

import datetime as dt
from decimal import Decimal

import kombu.pools
import pytest
from django.db.models import Sum

from config.celery import app
from settlement import tasks
from settlement.models import (
    BalanceReminder,
    Debit,
    DebitStatus,
    Notification,
    Order,
    OrderStatus,
    SettlementAccount,
    SimulatedBankEntry,
)
from settlement.tests.factories import World
from tests.worker import Worker, wait_until


def _drop_broker_pools() -> None:
    kombu.pools.reset()
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def fresh_broker_pools():
    """Drop kombu's process-wide producer pools before and after each test.

    ``tests.worker.point_app_at`` closes the app's connection pool when a worker test ends,
    but kombu keeps a producer pool per broker URL that may still point at it; the next test
    sending on the same URL (even eagerly, which acquires a producer too) would fail with
    "Acquire on closed pool".
    """
    _drop_broker_pools()
    yield
    _drop_broker_pools()


def succeeded(worker, name: str) -> int:
    return sum(
        1
        for line in worker.log().splitlines()
        if f"settlement.tasks.{name}[" in line and "succeeded" in line
    )


@pytest.mark.django_db
def test_the_tasks_call_their_services_eagerly():
    world = World()
    shop = world.retailer(balance="0.00", star=5)
    world.order(shop, cycle=world.past[3], cartons=10)
    day = (world.order_date - dt.timedelta(days=1)).isoformat()
    assert tasks.create_balance_reminders.delay(day).get() == 1
    assert Notification.objects.filter(reminder__retailer=shop).count() == 1  # sent at once
    order = world.order(world.retailer(balance="5000.00"))
    assert tasks.debit_placed_orders.delay().get() >= 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert tasks.create_month_end_rebates.delay("2024-02-01").get() == 0
    assert tasks.create_month_end_rebates.delay("2024-02-01").get() == 0


@pytest.mark.postgres
@pytest.mark.redis
def test_the_reminder_job_delivered_twice_reminds_once(celery_worker):
    world = World()
    shops = [world.retailer(balance="10.00", star=star) for star in (5, 3)]
    for shop in shops:
        world.order(shop, cycle=world.past[2], cartons=10)
    day = (world.order_date - dt.timedelta(days=1)).isoformat()
    tasks.create_balance_reminders.delay(day)
    tasks.create_balance_reminders.delay(day)
    wait_until(
        lambda: (
            succeeded(celery_worker, "create_balance_reminders") == 2
            and succeeded(celery_worker, "send_due_reminders") == 2
        ),
        message=celery_worker.log(),
    )
    reminders = BalanceReminder.objects.filter(retailer__in=shops)
    assert sorted(reminders.values_list("retailer__star", "large")) == [(3, False), (5, True)]
    # The large one was due at once and sent once; the other waits for the order-day morning.
    assert list(
        Notification.objects.filter(reminder__in=reminders).values_list(
            "reminder__retailer", flat=True
        )
    ) == [shops[0].pk]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_debit_job_delivered_twice_debits_once(celery_worker):
    world = World()
    orders = [world.order(world.retailer(balance="5000.00")) for _ in range(3)]
    tasks.debit_placed_orders.delay()
    tasks.debit_placed_orders.delay()
    wait_until(
        lambda: (
            succeeded(celery_worker, "debit_placed_orders") == 2
            and succeeded(celery_worker, "debit_orders") >= 2
        ),
        message=celery_worker.log(),
    )
    for order in orders:
        assert list(Debit.objects.filter(order=order).values_list("attempt", "status")) == [
            (1, DebitStatus.SUCCESS)
        ]
    assert (
        SimulatedBankEntry.objects.filter(
            idempotency_key__in=[f"o{o.pk}a1" for o in orders]
        ).count()
        == 3
    )
    assert set(
        SettlementAccount.objects.filter(retailer__orders__in=orders).values_list(
            "balance", flat=True
        )
    ) == {Decimal("3980.00")}


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_batch_debits_every_order_exactly_once(celery_worker, monkeypatch):
    monkeypatch.setenv("SETTLEMENT_SIMULATED_BANK_DELAY_MS", "300")
    celery_worker.stop()
    celery_worker.start()  # the slow bank is read from the environment by the worker
    world = World()
    orders = [world.order(world.retailer(balance="5000.00")) for _ in range(12)]
    ids = [o.pk for o in orders]
    tasks.debit_orders.delay(ids)
    paid = Debit.objects.filter(order_id__in=ids, status=DebitStatus.SUCCESS)
    wait_until(lambda: paid.count() >= 3, message=celery_worker.log())
    celery_worker.kill()
    done_at_kill = paid.count()
    assert done_at_kill < len(ids), "the batch finished before the kill: make the bank slower"
    celery_worker.start()
    wait_until(
        lambda: Order.objects.filter(pk__in=ids, status=OrderStatus.PAID).count() == len(ids),
        timeout=90,
        message=celery_worker.log(),
    )
    debits = Debit.objects.filter(order_id__in=ids)
    assert sorted(debits.values_list("order_id", "attempt", "status")) == [
        (pk, 1, DebitStatus.SUCCESS) for pk in ids
    ]
    bank = SimulatedBankEntry.objects.filter(idempotency_key__in=debits.values("idempotency_key"))
    assert bank.count() == len(ids)  # each key booked once
    assert bank.filter(status=DebitStatus.SUCCESS).aggregate(s=Sum("amount"))["s"] == sum(
        o.total_amount for o in orders
    )
    assert set(
        SettlementAccount.objects.filter(retailer__orders__in=ids).values_list("balance", flat=True)
    ) == {Decimal("5000.00") - orders[0].total_amount}


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_racing_on_one_batch_debit_each_order_once(
    celery_worker, monkeypatch, tmp_path
):
    monkeypatch.setenv("SETTLEMENT_SIMULATED_BANK_DELAY_MS", "150")
    celery_worker.stop()
    celery_worker.start()
    second = Worker(broker_url=celery_worker.broker_url, log_path=tmp_path / "second.log")
    second.start()
    try:
        world = World()
        orders = [world.order(world.retailer(balance="5000.00")) for _ in range(8)]
        ids = [o.pk for o in orders]
        tasks.debit_orders.delay(ids)
        tasks.debit_orders.delay(ids)
        wait_until(
            lambda: (
                succeeded(celery_worker, "debit_orders") + succeeded(second, "debit_orders") == 2
            ),
            timeout=60,
            message=celery_worker.log() + second.log(),
        )
        assert succeeded(celery_worker, "debit_orders") == 1  # both really worked at once
        assert succeeded(second, "debit_orders") == 1
    finally:
        second.stop()
    assert sorted(Debit.objects.filter(order_id__in=ids).values_list("order_id", "status")) == [
        (pk, DebitStatus.SUCCESS) for pk in ids
    ]
    assert SimulatedBankEntry.objects.filter(
        idempotency_key__in=[f"o{pk}a1" for pk in ids]
    ).count() == len(ids)
    assert set(
        SettlementAccount.objects.filter(retailer__orders__in=ids).values_list("balance", flat=True)
    ) == {Decimal("5000.00") - orders[0].total_amount}
