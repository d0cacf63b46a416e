"""Structured logs: JSON lines in UTC, one logger per concern, secrets redacted.

Loggers (``settings.LOGGING``; SECURITY.md lists the events)::

    audit.auth   logins, failed logins, lockouts, logouts, API tokens
    audit.authz  refused (403) and not-found (404) answers to signed-in users
    audit.changes  audited changes and reveals (``config.audit.record``; no values logged)
    jobs         Celery task start, success, failure, retry, dead letters, heartbeats
    imports      file imports: previewed, applied, rejected (call :func:`log_import`)

Write an event with :func:`log_event`: the event name is the message and the ``event`` field,
and the keyword arguments become fields of the JSON line::

    log_event(AUTH, "login_failed", level=logging.WARNING, username="manager", ip="10.0.0.7")
    → {"time": "2026-11-27T01:02:03.456Z", "level": "WARNING", "logger": "audit.auth",
       "message": "login_failed", "event": "login_failed", "username": "manager", "ip": …}

:class:`RedactingFilter` sits on every handler: values under keys that name a secret
(password, token, authorization, cookie, account number, …) become ``[REDACTED]``, and runs of
13 or more digits (bank account and card numbers, even written in groups) keep only their last
four. Never pass a secret on purpose all the same: the filter is the net, not the plan.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

AUTH = logging.getLogger("audit.auth")
AUTHZ = logging.getLogger("audit.authz")
JOBS = logging.getLogger("jobs")
IMPORTS = logging.getLogger("imports")

REDACTED = "[REDACTED]"
#: Keys whose values are never logged, wherever they appear in a record's fields.
SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)|^pwd$|secret|token|authori[sz]ation|cookie|csrf|session|"
    r"account_?(number|no)|card_?(number|no)|api_?key|credential|digest|fernet",
    re.IGNORECASE,
)
#: 13+ digits, optionally in space-separated groups: longer than a licence number (12) or a
#: phone number (11), as long as a bank account or card number. Hyphens do not join groups,
#: so a UUID's digits never qualify.
LONG_DIGITS = re.compile(r"(?<!\d)\d(?:[ \u3000]?\d){12,}(?!\d)")
_MAX_DEPTH = 6

# Attributes every LogRecord has: an extra field by one of these names would be refused.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def mask_digits(text: str) -> str:
    """Long digit runs keep only their last four digits: ``6222 0212 3456 7890`` → ``****7890``."""
    return LONG_DIGITS.sub(lambda m: "****" + re.sub(r"\D", "", m.group())[-4:], text)


def redact(value: Any, *, key: str = "", depth: int = 0) -> Any:
    """``value`` with secrets removed: by key name, and long digit runs in strings."""
    if key and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return mask_digits(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {k: redact(v, key=str(k), depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth=depth + 1) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Redacts the message and the extra fields of every record (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: log it as it is
            message = str(record.msg)
        if isinstance(record.msg, Mapping):
            record.msg = redact(record.msg)
        else:
            record.msg = mask_digits(message)
        record.args = None
        for name, value in list(record.__dict__.items()):
            if name not in _RECORD_ATTRS:
                record.__dict__[name] = redact(value, key=name)
        return True


def utc_timestamp(created: float) -> str:
    return (
        dt.datetime.fromtimestamp(created, tz=dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    then the record's extra fields (``event``, …) and ``exc_info`` when there is one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = utc_timestamp(record.created)
        super().add_fields(log_data, record, message_dict)

    def formatException(self, ei) -> str:
        return mask_digits(super().formatException(ei))


class PlainFormatter(logging.Formatter):
    """Human-readable lines for the quick start: UTC time, level, logger, message, fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS}
        fields.pop("event", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line

    def formatException(self, ei) -> str:
        return mask_digits(super().formatException(ei))


def log_event(
    logger: logging.Logger,
    event: str,
    *,
    level: int = logging.INFO,
    exc_info: Any = None,
    **fields: Any,
) -> None:
    """Log ``event`` with ``fields`` as a structured record (see the module docstring)."""
    extra = {"event": event}
    for key, value in fields.items():
        # A field named like a LogRecord attribute would be refused by logging.
        extra[f"{key}_" if key in _RECORD_ATTRS else key] = value
    logger.log(level, event, extra=extra, exc_info=exc_info)


def log_import(
    *,
    kind: str,
    outcome: str,
    rows: int = 0,
    errors: int = 0,
    user: Any = None,
    source: str = "",
    **fields: Any,
) -> None:
    """One line in the ``imports`` log for a file import.

    ``outcome`` is ``previewed``, ``applied`` or ``rejected`` (the event is ``import_<outcome>``);
    ``kind`` names what was imported (``orders``, ``balances``, ``retailers``…); ``source`` is the
    file name or command. Call it from the service that checks or applies the file.
    """
    log_event(
        IMPORTS,
        f"import_{outcome}",
        level=logging.WARNING if outcome == "rejected" else logging.INFO,
        kind=kind,
        outcome=outcome,
        rows=rows,
        errors=errors,
        user_id=getattr(user, "pk", None),
        source=str(source)[:200],
        **fields,
    )
