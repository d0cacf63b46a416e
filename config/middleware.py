"""Audit of refused requests: 403s, and 404s answered to signed-in users (``audit.authz``).

Scoped objects answer 404 to whoever may not see them (DESIGN §3), so a signed-in user's 404s
are where probing for other people's data shows; anonymous 404s are only noise and are not
logged. The middleware never loads a user for the log: it names the user only when the request
already knew who it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from config.audit import client_ip_var
from config.http import client_ip
from config.logs import AUTHZ, log_event


def known_user(request: HttpRequest) -> Any:
    """The request's user if it is already loaded (never a query), else ``None``."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)  # SimpleLazyObject: loaded or not
    if wrapped is empty or wrapped is None:
        return None
    return wrapped


class AuthzAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Audit entries written while serving this request name its client address.
        token = client_ip_var.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            client_ip_var.reset(token)
        if response.status_code in (403, 404):
            user = known_user(request)
            signed_in = user is not None and user.is_authenticated
            if response.status_code == 403 or signed_in:
                log_event(
                    AUTHZ,
                    "permission_denied" if response.status_code == 403 else "not_found",
                    level=logging.WARNING if response.status_code == 403 else logging.INFO,
                    status=response.status_code,
                    method=request.method,
                    path=request.path[:300],
                    user_id=user.pk if signed_in else None,
                    ip=client_ip(request),
                )
        return response
