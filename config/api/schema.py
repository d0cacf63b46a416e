"""OpenAPI documentation helpers: the error shape, and every error response documented.

:class:`AutoSchema` is the project's ``DEFAULT_SCHEMA_CLASS``. On top of what drf-spectacular
derives from a view (serializers, filters, pagination) it documents, for every operation, the
errors the shared machinery can answer, all with the :class:`ErrorSerializer` body:

- 401 (no or bad credentials) and 403 (role, read-only token, CSRF) and 429 (throttled, with a
  ``Retry-After`` header) on every operation;
- 400 when the operation takes query parameters or a body; 415 when it takes a body;
- 404 when the path has a parameter (``/retailers/{id}/``).

A view may word these more precisely with an ``error_descriptions`` attribute
(``{429: _("…")}``), and documents anything else with :func:`error_response`::

    @extend_schema(responses={200: VisitSerializer, 409: error_response(_("Already checked out."))})
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

#: Matches a string without NUL characters (PostgreSQL cannot store them; forms reject them).
NO_NUL_PATTERN = r"^[^\x00]*$"


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text=_("The HTTP status code, repeated."))
    code = serializers.CharField(help_text=_("A stable, machine-readable error code."))
    message = serializers.CharField(help_text=_("What went wrong, for a person."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per parameter or field; empty when the error is not about one."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer of the API."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: _("Bad input: a parameter or field is malformed; `fields` names each one."),
    401: _("No credentials, or an invalid, expired or revoked token."),
    403: _("Signed in, but not allowed: role, read-only token, or missing CSRF token."),
    404: _("Not found, or not visible to you."),
    415: _("The request body is not JSON or form data (urlencoded or multipart)."),
    429: _("Too many requests: wait the number of seconds in `Retry-After`."),
}


def error_response(description: Any) -> OpenApiResponse:
    """An error answer with the standard body and your description, for ``extend_schema``."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


class AutoSchema(SpectacularAutoSchema):
    def get_filter_backends(self) -> list[Any]:
        # Filters also describe non-list GET views that take them (e.g. an export).
        if self.method == "GET" and getattr(self.view, "filterset_class", None):
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def error_codes(self, operation: dict[str, Any]) -> set[int]:
        locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
        codes = {401, 403, 429}
        if "query" in locations or "requestBody" in operation:
            codes.add(400)
        if "requestBody" in operation:
            codes.add(415)
        if "path" in locations:
            codes.add(404)
        return codes

    def error_schema(self, code: int) -> dict[str, Any]:
        response: dict[str, Any] = {
            "description": str(
                getattr(self.view, "error_descriptions", {}).get(code, ERROR_DESCRIPTIONS[code])
            ),
            "content": {
                "application/json": {
                    "schema": self.resolve_serializer(ErrorSerializer, "response").ref
                }
            },
        }
        if code == 429:
            response["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                    "description": str(_("Seconds to wait before the next request.")),
                }
            }
        if code == 401:
            response["headers"] = {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": str(_("How to authenticate: a Bearer token.")),
                }
            }
        return response

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in sorted(self.error_codes(operation)):
            responses.setdefault(str(code), self.error_schema(code))
        return operation
