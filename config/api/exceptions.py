"""One exception handler for the whole API: every error answers in the same JSON shape.

::

    {"error": {"status": 400, "code": "invalid", "message": "star: Select a valid choice. …",
               "fields": {"star": ["Select a valid choice. 9 is not one of the …"]}}}

``fields`` is always present (empty when the error is not about a field). Services raise
:class:`config.errors.ApplicationError` or Django's ``ValidationError``; both become 400s here,
so API views never catch them (STYLE.md habit 4).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from config.errors import ApplicationError

#: Keys that carry messages about the request as a whole rather than one field.
NON_FIELD_KEYS = ("non_field_errors", "__all__")


def error_body(
    *, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The one error shape of the API (documented as the ``Error`` component)."""
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str, into: dict[str, list[str]]) -> None:
    """Nested serializer errors become dotted keys: ``{"lines.0.cartons": ["..."]}``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            into.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                _flatten(item, f"{prefix}.{index}" if prefix else str(index), into)
    else:
        into.setdefault(prefix, []).append(str(detail))


def _validation_body(detail: Any, code: str = "invalid") -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    _flatten(detail if isinstance(detail, dict) else {"": detail}, "", fields)
    general = [
        m
        for key in (*NON_FIELD_KEYS, api_settings.NON_FIELD_ERRORS_KEY, "")
        for m in fields.pop(key, [])
    ]
    if general:
        message = " ".join(dict.fromkeys(general))
    elif len(fields) == 1:
        name, messages = next(iter(fields.items()))
        message = f"{name}: {messages[0]}"
    else:
        message = gettext("Invalid input: %(fields)s.") % {"fields": ", ".join(fields)}
    return error_body(status=400, code=code, message=message, fields=fields)


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: domain and HTTP errors as one JSON shape."""
    if isinstance(exc, ApplicationError):
        detail: dict[str, Any] = {"non_field_errors": [exc.message], **exc.extra}
        set_rollback()
        return Response(_validation_body(detail), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response(
            _validation_body(_django_validation_detail(exc)), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, SuspiciousOperation):
        # e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE, or too many fields.
        set_rollback()
        return Response(
            error_body(status=400, code="bad_request", message=gettext("The request was refused.")),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        # Http404's own text may name the model; "not found" says all a client may know.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let it be a 500 and be reported

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(status=exc.status_code, code=code, message=str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt  # it changes nothing, and must answer 404 (not a CSRF 403 page) to any method
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any unknown path under the API answers a JSON 404, not the site's HTML page."""
    message = _("Not found.")
    return JsonResponse(error_body(status=404, code="not_found", message=str(message)), status=404)
