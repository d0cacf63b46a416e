"""Authentication backends: Django's, behind the login lockout (``accounts.lockout``)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts import lockout
from config.http import client_ip
from config.logs import AUTH, log_event


class LockoutModelBackend(ModelBackend):
    """Username and password, refused while the username or the address is locked out.

    A refused login raises ``PermissionDenied``, which stops ``authenticate()`` (no other
    backend is asked, no password is checked) and marks the request for the view's 429.
    Logins without a request (the test client's ``login()``, shell scripts) are not limited.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        address = client_ip(request)
        where = {"username": username[:150], "ip": address, "path": request.path}
        seconds = lockout.seconds_locked(username=username, address=address)
        if seconds:
            lockout.mark(request, seconds)
            log_event(AUTH, "login_refused_locked", level=logging.WARNING, **where)
            raise PermissionDenied
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            log_event(AUTH, "login_failed", level=logging.WARNING, **where)
            seconds = lockout.failure_record(username=username, address=address)
            if seconds:
                lockout.mark(request, seconds)
        else:
            lockout.success_record(username=username)
        return user
