"""Audit history: one service to record who changed what, when, from where (SECURITY.md).

Callers are services, inside the transaction of the change they record::

    audit.record(actor=by, action=AuditAction.POLICY_CHANGED, target=policy,
                 before=before, after=policy.snapshot(), reason=reason)

The request's client address is taken from :data:`client_ip_var`, set for each request by
``config.middleware.AuthzAuditMiddleware``; jobs and commands have none. This module imports no
app (every app may import it); the page that reads the history is ``config.audit_views``.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import ipaddress
import json
import logging
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from config.logs import log_event, redact
from config.models import AuditEntry

AUDIT = logging.getLogger("audit.changes")

#: The client address of the request being served ("" outside a request).
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("audit_client_ip", default="")


def _jsonable(value: Any) -> Any:
    """Values as JSON keeps them: decimals and dates as text, model instances as their pk."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | dt.date | dt.datetime | dt.time):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    json.dumps(value)  # anything else must already be JSON (fails loudly otherwise)
    return value


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, from both sides."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    district_id: int | None = None,
    label: str | None = None,
    ip: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Write one audit entry and its log line (the log line without ``before``/``after``)."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    entry = AuditEntry.objects.create(
        actor=actor,
        actor_name=(actor.get_username() if actor else "")[:150],
        at=at or timezone.now(),
        action=str(action),
        target_type=ContentType.objects.get_for_model(type(target)) if target else None,
        target_id=str(target.pk) if target else "",
        target_label=(label if label is not None else str(target or ""))[:200],
        district_id=district_id,
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        reason=(reason or "")[:500],
        ip=_valid_ip(ip if ip is not None else client_ip_var.get()),
    )
    log_event(
        AUDIT,
        "audit_" + entry.action.replace(".", "_"),
        audit_id=entry.pk,
        user_id=actor.pk if actor else None,
        target=(
            f"{entry.target_type.app_label}.{entry.target_type.model}:{entry.target_id}"
            if entry.target_type
            else ""
        ),
        label=redact(entry.target_label),
        ip=entry.ip,
    )
    return entry
