"""Rate limits per API token (or signed-in user) and per anonymous client address.

Counting is a fixed window in the Django cache: ``cache.add`` then ``cache.incr``, both atomic
on Redis, so every web process shares one count in production (``REDIS_URL`` gives a Redis
cache; see ``config/settings/base.py``). Rates are read from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` when a request comes in, so settings (and tests
using ``override_settings``) take effect at once. A scope whose rate is ``None`` is not limited.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SAFE_KEY = re.compile(r"[\w.:\-]{1,80}", re.ASCII)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/minute"`` → ``(600, 60)``; the period is read from its first letter."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError) as exc:
        raise ImproperlyConfigured(
            f"Bad API throttle rate {rate!r}: use e.g. '60/minute'."
        ) from exc


class WindowRateThrottle(BaseThrottle):
    """Base class: ``scope`` names the rate; ``ident`` says whom a request is counted for."""

    scope = ""

    def get_scope(self, view: Any) -> str:
        return self.scope

    def ident(self, request: Request) -> str | None:
        """Whom to count this request for, or ``None`` when this throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = self.get_scope(view)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope) if scope else None
        who = self.ident(request)
        if rate is None or who is None:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        if not _SAFE_KEY.fullmatch(who):  # addresses come from headers: keep keys tame
            who = hashlib.sha256(who.encode("utf-8", "replace")).hexdigest()
        key = f"api-throttle:{scope}:{who}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens a new window
            cache.set(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self._wait = max(1, math.ceil((window + 1) * period - now))
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def client_ident(request: Request) -> str:
    """The token's key id, else the user, else the client address (``API_NUM_PROXIES`` aware)."""
    key_id = getattr(request.auth, "key_id", None)
    if key_id:
        return f"token:{key_id}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{BaseThrottle().get_ident(request)}"


class AnonRateThrottle(WindowRateThrottle):
    """Requests without credentials, per client address (scope ``anon``)."""

    scope = "anon"

    def ident(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return client_ident(request)


class ClientRateThrottle(WindowRateThrottle):
    """Authenticated requests, per API token or, for browser sessions, per user (``user``)."""

    scope = "user"

    def ident(self, request: Request) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return client_ident(request)


class ScopedRateThrottle(WindowRateThrottle):
    """An extra limit named by the view's ``throttle_scope`` (e.g. ``export``, ``auth``)."""

    def get_scope(self, view: Any) -> str:
        return getattr(view, "throttle_scope", "") or ""

    def ident(self, request: Request) -> str | None:
        return client_ident(request)


#: Add ``ScopedRateThrottle`` to these on a view with a ``throttle_scope``.
DEFAULT_THROTTLES = (AnonRateThrottle, ClientRateThrottle)
