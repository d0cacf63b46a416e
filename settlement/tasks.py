"""Celery tasks for e-settlement: thin, take ids, safe to run twice (DESIGN §6)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from config.jobs import DB_RETRY, TRANSIENT_DB_ERRORS
from settlement import services
from settlement.bank import BankUnavailable

RETRIED = {"acks_late": True, **DB_RETRY, "max_retries": 5}
#: A debit also retries when the bank did not answer: the attempt keeps its key.
BANK_RETRIED = {
    **RETRIED,
    "autoretry_for": (*TRANSIENT_DB_ERRORS, BankUnavailable),
    "max_retries": 8,
}


@shared_task(**RETRIED)
def create_balance_reminders(day: str | None = None) -> int:
    """Daily, the day before order day: reminders for tomorrow's routes, then send the due."""
    created = services.balance_reminders_create(
        day=dt.date.fromisoformat(day) if day else timezone.localdate()
    )
    send_due_reminders.delay()
    return created


@shared_task(**RETRIED)
def send_due_reminders() -> int:
    """Daily in the morning of order day (and after creation): send the reminders now due."""
    return services.reminders_send_due()


@shared_task(**RETRIED)
def debit_placed_orders() -> int:
    """After ordering: fan the orders to debit out to the workers in bounded chunks."""
    chunks = services.debit_batches()
    for ids in chunks:
        debit_orders.delay(ids)
    return sum(len(ids) for ids in chunks)


@shared_task(**BANK_RETRIED)
def debit_orders(order_ids: list[int]) -> int:
    """Debit each order of a chunk once; a redelivered chunk skips the orders already done."""
    return sum(services.debit_order(order_id=pk) is not None for pk in order_ids)


@shared_task(**BANK_RETRIED)
def execute_debit(debit_id: int) -> str:
    """Call the bank for one open attempt (a retry opened on a page or after funds arrive)."""
    return services.debit_execute(debit_id=debit_id).status


@shared_task(**RETRIED)
def retry_covered_debits() -> int:
    """After a balance import: retry the failed orders that the new balances cover."""
    ids = services.debits_retry_covered()
    for debit_id in ids:
        execute_debit.delay(debit_id)
    return len(ids)


@shared_task(**RETRIED)
def create_month_end_rebates(month: str | None = None) -> int:
    """On the first of the month: the rebates of the month before (or of ``month``)."""
    first = dt.date.fromisoformat(month) if month else services.previous_month(timezone.localdate())
    run = services.rebates_create(month=first)
    return 0 if run is None else run.rebates
