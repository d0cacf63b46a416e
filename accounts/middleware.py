"""Session lifetime: 30 minutes idle, 12 hours at most after login (SECURITY.md).

Django's own session expiry (``SESSION_COOKIE_AGE``) runs from the last time the session was
saved. This middleware records the login time and the last time the user was seen in the
session, logs the user out when either limit has passed, and refreshes "last seen" (which
saves the session and so moves its expiry and its cookie's) at most once a minute, rather than
writing the session on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

#: Session keys: when the user logged in, and when they were last seen (epoch seconds).
LOGIN_AT = "_auth_login_at"
SEEN_AT = "_auth_seen_at"
#: Attribute on the request that says why it logged the user out (for the audit log).
LOGOUT_REASON = "logout_reason"


def session_start(session, now: float | None = None) -> None:
    """Called at login (``accounts.signals``): the session's clocks start now."""
    now = time.time() if now is None else now
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def session_expired_because(session, now: float) -> str | None:
    """``"absolute"`` or ``"idle"`` when the session has outlived its limits, else ``None``."""
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        # A session from before these limits, or tampered with: it ends, to be safe.
        return "unknown"
    if now - login_at >= settings.SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    if now - seen_at >= settings.SESSION_IDLE_SECONDS:
        return "idle"
    return None


class SessionTimeoutMiddleware:
    """Ends signed-in sessions that have been idle or alive too long (after auth, messages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # No session cookie, no session to load: anonymous requests cost nothing here.
        if session is not None and session.session_key and SESSION_KEY in session:
            now = time.time()
            reason = session_expired_because(session, now)
            if reason is not None:
                setattr(request, LOGOUT_REASON, reason)
                logout(request)
                messages.info(request, _("Your session has ended; please log in again."))
            elif now - session[SEEN_AT] >= settings.SESSION_TOUCH_SECONDS:
                session[SEEN_AT] = now
        return self.get_response(request)
