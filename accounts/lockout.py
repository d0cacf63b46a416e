"""Login lockout: too many failed logins lock the account, and the address, for a while.

``LOGIN_LOCKOUT_FAILURES`` (5) failed logins within ``LOGIN_LOCKOUT_SECONDS`` (15 minutes) for
one username — from any address — lock that username; as many from one address — for any
usernames — lock that address. A locked username or address may not log in, even with the right
password, until ``LOGIN_LOCKOUT_SECONDS`` after the failure that locked it; then it starts
afresh. A successful login clears its username's count of failures (not its address's: an
attacker could otherwise interleave logins to an account of their own).

Counts live in the Django cache: ``cache.add`` then ``cache.incr``, atomic on Redis, so every web
process shares them in production (``REDIS_URL``), like the API throttles. A cache that cannot
be reached lets logins through (passwords are still checked) and says so in the log.

The guard is :class:`accounts.backends.LockoutModelBackend`, so every login that goes through
``authenticate(request, …)`` is covered: the login page, the admin's and
``POST /api/v1/auth/token/``. The backend marks a refused request (:func:`seconds_locked_on`);
the views answer it with a 429 (:func:`answer_when_locked` for pages).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from config.api.throttling import CACHE_ERRORS
from config.logs import AUTH, log_event

logger = logging.getLogger(__name__)

ACCOUNT = "account"
ADDRESS = "address"
#: Attribute set on the (Django) request whose login was refused because of a lock.
MARK = "login_locked_seconds"


def _key(prefix: str, kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:40]
    return f"login-{prefix}:{kind}:{digest}"


def _subjects(username: str | None, address: str | None) -> list[tuple[str, str]]:
    subjects = []
    if username:
        subjects.append((ACCOUNT, username))
    if address:
        subjects.append((ADDRESS, address))
    return subjects


def seconds_locked(*, username: str | None, address: str | None) -> int:
    """Seconds until ``username`` and ``address`` may try again; 0 when neither is locked."""
    keys = [_key("lock", kind, value) for kind, value in _subjects(username, address)]
    try:
        found = cache.get_many(keys)
    except CACHE_ERRORS:
        logger.error("Login lockout cache unreachable: logins are not limited", exc_info=True)
        return 0
    now = time.time()
    return max((math.ceil(until - now) for until in found.values() if until > now), default=0)


def _count(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this failure starts a new count
        cache.set(key, 1, timeout=timeout)
        return 1


def failure_record(*, username: str | None, address: str | None) -> int:
    """Count a failed login; the seconds of the lockout it caused, or 0."""
    limit = settings.LOGIN_LOCKOUT_FAILURES
    period = settings.LOGIN_LOCKOUT_SECONDS
    locked = 0
    try:
        for kind, value in _subjects(username, address):
            failures = _count(_key("fail", kind, value), period)
            if failures < limit:
                continue
            until = time.time() + period
            if cache.add(_key("lock", kind, value), until, timeout=period):
                log_event(
                    AUTH,
                    "login_locked_out",
                    level=logging.WARNING,
                    scope=kind,
                    username=username,
                    ip=address,
                    failures=failures,
                    seconds=period,
                )
            cache.delete(_key("fail", kind, value))
            locked = period
    except CACHE_ERRORS:
        logger.error("Login lockout cache unreachable: failure not counted", exc_info=True)
        return 0
    return locked


def success_record(*, username: str) -> None:
    """A successful login: its username starts counting failures afresh."""
    try:
        cache.delete(_key("fail", ACCOUNT, username))
    except CACHE_ERRORS:
        logger.error("Login lockout cache unreachable", exc_info=True)


def unlock(*, username: str | None = None, address: str | None = None) -> None:
    """Lift the lock and forget the failures of ``username`` and/or ``address`` (operators)."""
    keys = [
        _key(prefix, kind, value)
        for kind, value in _subjects(username, address)
        for prefix in ("lock", "fail")
    ]
    cache.delete_many(keys)


def mark(request: Any, seconds: int) -> None:
    """Remember on the request that its login was refused for ``seconds`` more."""
    setattr(getattr(request, "_request", request), MARK, seconds)


def seconds_locked_on(request: Any) -> int:
    """Seconds of lockout that refused this request's login (0: it was not refused for that)."""
    return getattr(getattr(request, "_request", request), MARK, 0)


def locked_out_response(request: HttpRequest, seconds: int) -> HttpResponse:
    """The page that says logging in is paused: 429, with ``Retry-After``."""
    minutes = max(1, math.ceil(seconds / 60))
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "until": timezone.now() + dt.timedelta(seconds=seconds)},
        status=429,
    )
    response["Retry-After"] = str(max(1, seconds))
    return response


def answer_when_locked(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a login page: a login refused by the lockout answers the 429 page instead."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        seconds = seconds_locked_on(request)
        if seconds:
            return locked_out_response(request, seconds)
        return response

    return wrapper
