"""``/api/v1/auth/token/``: get an API token with a username and password, or revoke it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.validators import RegexValidator
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import lockout
from accounts.authentication import ApiTokenAuthentication
from accounts.services import api_token_create, api_token_revoke
from config.api.schema import NO_NUL_PATTERN
from config.api.throttling import DEFAULT_THROTTLES, ScopedRateThrottle
from config.http import client_ip
from config.logs import AUTH, log_event

no_nul = RegexValidator(NO_NUL_PATTERN, _("Null characters are not allowed."))


class LoginLockedOut(exceptions.APIException):
    """429: logging in is paused for this username or address (``accounts.lockout``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, seconds: int) -> None:
        self.wait = seconds  # the exception handler turns it into Retry-After
        minutes = max(1, -(-seconds // 60))
        super().__init__(
            detail=_(
                "Too many failed logins for this account or from this address: logging in is "
                "paused for %(minutes)d minutes. Wait the seconds in Retry-After."
            )
            % {"minutes": minutes},
            code=self.default_code,
        )


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[no_nul])
    password = serializers.CharField(max_length=128, trim_whitespace=False, validators=[no_nul])
    name = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        validators=[no_nul],
        help_text=_("What the token is for, e.g. the client's name."),
    )
    read_only = serializers.BooleanField(
        required=False, default=False, help_text=_("A read-only token may only read.")
    )

    def get_fields(self):
        fields = super().get_fields()
        # Bounds from settings, read when the serializer is used (and documented from them).
        fields["expires_in_days"] = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=settings.API_TOKEN_MAX_TTL_DAYS,
            help_text=_("Days until the token expires (default %(days)d).")
            % {"days": settings.API_TOKEN_TTL_DAYS},
        )
        return fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("The secret: shown only now; send it as `Authorization: Bearer <token>`.")
    )
    key_id = serializers.CharField(help_text=_("The token's public id."))
    name = serializers.CharField()
    read_only = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class TokenApi(APIView):
    """Get a token (POST with username and password) or revoke the one in use (DELETE)."""

    authentication_classes = [ApiTokenAuthentication]
    throttle_classes = [*DEFAULT_THROTTLES, ScopedRateThrottle]
    throttle_scope = "auth"
    # Whoever holds a read-only token may still revoke it.
    read_only_token_allowed = True
    error_descriptions = {
        401: _("Wrong username or password (POST), or no valid token (DELETE)."),
        429: _(
            "Too many requests, or too many failed logins for this username or from this "
            "address (code `locked_out`): wait the number of seconds in `Retry-After`."
        ),
    }

    def get_permissions(self):
        # Only DELETE needs the token; other methods are open (and undeclared ones a 405).
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenCreateSerializer,
        responses={201: TokenSerializer},
        auth=[],
        summary=_("Get an API token"),
    )
    def post(self, request: Request) -> Response:
        form = TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            seconds = lockout.seconds_locked_on(request)
            if seconds:
                raise LoginLockedOut(seconds)
            raise exceptions.AuthenticationFailed(_("Wrong username or password."))
        token, raw = api_token_create(
            user=user,
            name=data["name"],
            read_only=data["read_only"],
            lifetime_days=data.get("expires_in_days"),
        )
        log_event(
            AUTH,
            "token_created",
            user_id=user.pk,
            username=user.get_username(),
            key_id=token.key_id,
            read_only=token.read_only,
            ip=client_ip(request),
        )
        body = TokenSerializer(
            {
                "token": raw,
                "key_id": token.key_id,
                "name": token.name,
                "read_only": token.read_only,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={204: OpenApiResponse(description=_("Revoked."))},
        summary=_("Revoke the token used for this request"),
    )
    def delete(self, request: Request) -> Response:
        api_token_revoke(token=request.auth)
        log_event(
            AUTH,
            "token_revoked",
            user_id=request.user.pk,
            key_id=request.auth.key_id,
            ip=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
]
