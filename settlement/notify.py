"""Sending balance reminders through an SMS gateway, as an adapter (DESIGN §2.3).

``get_notifier()`` returns the adapter named by ``settings.SETTLEMENT_NOTIFIER``. A real
gateway adapter sends each message with its ``key`` as the client message id, so that a
batch sent again after a crash is not delivered twice. The default :class:`RecordingNotifier`
stores each message (one per reminder) and logs it. Messages never carry an account number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from settlement.models import Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    key: str
    reminder_id: int
    phone: str
    text: str


class Notifier(Protocol):
    def send(self, messages: Sequence[Message]) -> None: ...


def get_notifier() -> Notifier:
    return import_string(settings.SETTLEMENT_NOTIFIER)()


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


class RecordingNotifier:
    """Keeps every message as a :class:`Notification` and logs it; sends nothing."""

    def send(self, messages: Sequence[Message]) -> None:
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(reminder_id=m.reminder_id, phone=m.phone, text=m.text, created_at=now)
                for m in messages
            ],
            ignore_conflicts=True,
        )
        for m in messages:
            logger.info("sms %s to %s: %s", m.key, mask_phone(m.phone), m.text)
