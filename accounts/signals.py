"""Auth events: session clocks start at login; logins and logouts go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.middleware import LOGOUT_REASON, session_start
from config.http import client_ip
from config.logs import AUTH, log_event


def _where(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    return {"ip": client_ip(request), "path": getattr(request, "path", "")}


@receiver(user_logged_in, dispatch_uid="accounts.session_start")
def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_start(request.session)
    log_event(
        AUTH, "login_succeeded", user_id=user.pk, username=user.get_username(), **_where(request)
    )


@receiver(user_logged_out, dispatch_uid="accounts.audit_logout")
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log_event(
        AUTH,
        "logout",
        user_id=getattr(user, "pk", None),
        reason=getattr(request, LOGOUT_REASON, "user"),
        **_where(request),
    )
