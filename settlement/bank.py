"""The bank behind e-settlement, as an adapter (DESIGN §2.3, §6).

``get_bank()`` returns the adapter named by ``settings.SETTLEMENT_BANK``. A real adapter talks
to the bank's API; :class:`SimulatedBank` stands in for it in the demo and the tests.

The contract every adapter keeps: ``debit`` is idempotent on ``key``. Asked again with a key
it has seen, the bank does not debit again; it answers with the first result. That makes it
safe to call again after a crash between "the bank debited" and "we wrote the result".
An adapter raises :class:`BankUnavailable` when it cannot tell what happened (timeout,
connection lost): the attempt stays open and is retried later with the same key.

Account numbers go to the bank and nowhere else: never into logs, messages or task arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from settlement.models import (
    DebitStatus,
    SettlementAccount,
    SettlementAccountStatus,
    SimulatedBankEntry,
)

logger = logging.getLogger(__name__)


class BankUnavailable(Exception):
    """The bank could not be reached or did not answer: the outcome is unknown; retry."""


@dataclass(frozen=True)
class DebitRequest:
    key: str
    account_reference: str
    account_number: str
    amount: Decimal

    def __repr__(self) -> str:  # never show the account number, even in a traceback
        return f"DebitRequest(key={self.key!r}, account={self.account_reference!r})"


@dataclass(frozen=True)
class DebitResult:
    status: str  # one of DebitStatus, never PENDING
    bank_reference: str = ""
    balance_after: Decimal | None = None
    balance_as_of: dt.datetime | None = None
    message: str = ""


class Bank(Protocol):
    def debit(self, request: DebitRequest) -> DebitResult: ...


def get_bank() -> Bank:
    return import_string(settings.SETTLEMENT_BANK)()


class SimulatedBank:
    """A bank in the database, for the demo and the tests.

    Its journal (:class:`SimulatedBankEntry`) records every key it has seen; a key seen
    before gets the first result again. It treats the account's last known balance as the
    bank's balance: a debit that the balance covers succeeds and lowers it; otherwise the
    answer is "insufficient funds". A suspended or closed account fails. So a balance file
    import is how "funds arrive" in the demo and the tests.

    ``SETTLEMENT_SIMULATED_BANK_DELAY_MS`` makes each new debit slow (read at call time).
    """

    def debit(self, request: DebitRequest) -> DebitResult:
        seen = SimulatedBankEntry.objects.filter(idempotency_key=request.key).first()
        if seen is not None:
            return self._again(seen)
        delay = settings.SETTLEMENT_SIMULATED_BANK_DELAY_MS
        if delay:
            time.sleep(delay / 1000)
        try:
            with transaction.atomic():
                entry = self._book(request)
        except IntegrityError:
            # Another process booked the same key at the same moment: its result stands.
            return self._again(SimulatedBankEntry.objects.get(idempotency_key=request.key))
        logger.info(
            "simulated bank: %s %s for key %s", entry.status, entry.amount, entry.idempotency_key
        )
        return self._result(entry)

    def _book(self, request: DebitRequest) -> SimulatedBankEntry:
        account = (
            SettlementAccount.objects.select_for_update()
            .filter(reference=request.account_reference)
            .first()
        )
        balance_after, now = None, timezone.now()
        if account is None or account.status != SettlementAccountStatus.ACTIVE:
            status, bank_reference = DebitStatus.FAILED, ""
        elif account.balance < request.amount:
            status, bank_reference = DebitStatus.INSUFFICIENT_FUNDS, ""
            balance_after = account.balance
        else:
            SettlementAccount.objects.filter(pk=account.pk).update(
                balance=F("balance") - request.amount, balance_as_of=now
            )
            status, bank_reference = DebitStatus.SUCCESS, f"SIM{request.key}"
            balance_after = account.balance - request.amount
        return SimulatedBankEntry.objects.create(
            idempotency_key=request.key,
            account_reference=request.account_reference,
            amount=request.amount,
            status=status,
            bank_reference=bank_reference,
            balance_after=balance_after,
            created_at=now,
        )

    def _again(self, entry: SimulatedBankEntry) -> DebitResult:
        SimulatedBankEntry.objects.filter(pk=entry.pk).update(times_seen=F("times_seen") + 1)
        logger.info(
            "simulated bank: key %s seen again, first result returned", entry.idempotency_key
        )
        return self._result(entry)

    @staticmethod
    def _result(entry: SimulatedBankEntry) -> DebitResult:
        messages = {
            DebitStatus.SUCCESS: "",
            DebitStatus.INSUFFICIENT_FUNDS: "insufficient funds",
            DebitStatus.FAILED: "account not usable",
        }
        return DebitResult(
            status=entry.status,
            bank_reference=entry.bank_reference,
            balance_after=entry.balance_after,
            balance_as_of=entry.created_at if entry.balance_after is not None else None,
            message=messages.get(entry.status, ""),
        )
