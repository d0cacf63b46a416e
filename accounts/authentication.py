"""DRF authentication by API token: ``Authorization: Bearer <token>`` (or ``Token <token>``)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.selectors import api_token_for
from accounts.services import api_token_mark_used
from accounts.tokens import parse_token
from config.http import client_ip
from config.logs import AUTH, log_event

SCHEMES = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates a request by an :class:`~accounts.models.ApiToken`.

    A request without an ``Authorization`` header of these schemes is left to the next
    authenticator (the browser's session); one with a bad, expired or revoked token is refused
    with a 401 that says which.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as: Authorization: Bearer <token>.")
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        token = api_token_for(raw)
        if token is None:
            self.refuse(request, "invalid", key_id=parse_token(raw))
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if token.revoked_at is not None:
            self.refuse(request, "revoked", key_id=token.key_id)
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if token.expires_at <= now:
            self.refuse(request, "expired", key_id=token.key_id)
            raise exceptions.AuthenticationFailed(_("This token has expired; get a new one."))
        if not token.user.is_active:
            self.refuse(request, "user_disabled", key_id=token.key_id)
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        api_token_mark_used(token=token, now=now)
        return token.user, token

    @staticmethod
    def refuse(request: Request, reason: str, *, key_id: str | None) -> None:
        """Audit a refused token: which key id (never the secret), why, from where."""
        log_event(
            AUTH,
            "token_refused",
            level=logging.WARNING,
            reason=reason,
            key_id=key_id,
            ip=client_ip(request),
            path=request.path,
        )

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _("An API token from POST /api/v1/auth/token/, sent as `Bearer <token>`.")
            ),
        }
