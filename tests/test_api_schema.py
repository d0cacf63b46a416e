"""The API against its own OpenAPI schema: valid, fuzzed without a 5xx, conventions kept.

schemathesis drives every operation in-process through WSGI (RECIPES.md) with a supervisor's
token and without credentials, and runs all of its checks on each answer: no server error,
status codes, content types, headers and bodies as documented, schema-valid input accepted,
invalid input rejected, authentication enforced, undeclared methods answered with 405.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.views import APIView

from config.api.permissions import ReadOnlyToken
from config.api.testing import api_token

# Loaded at import time: schemathesis' fixture loader breaks on pytest 9.2 (RECIPES.md).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())

FUZZ = hypothesis_settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def in_process(settings, demo):
    """Keep the test's connection across WSGI requests; no throttling while fuzzing."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/minute"
        ),
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield demo
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def prepare(case) -> None:
    """A cursor is opaque and signed: a generated one can never be valid (it is a 400, which
    the unit tests pin), so schema-valid cases go without one."""
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        case.query.pop("cursor", None)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_with_a_supervisor_token(case, in_process):
    prepare(case)
    # A fresh token each time: DELETE /auth/token/ revokes the one it is sent with.
    token = api_token(in_process["supervisor"])
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_without_credentials(case, in_process):
    prepare(case)
    case.call_and_validate()


def test_the_schema_is_valid_openapi_3(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate_schema(document)


def test_the_docs_page_serves_its_assets_locally(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "//cdn" not in body
    assert "unpkg" not in body


def test_every_operation_documents_the_standard_errors():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)


def _api_views(resolver: URLResolver | None = None, prefix: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if view is not None and issubclass(view, APIView) and prefix.startswith("api/"):
                yield prefix + str(entry.pattern), view


def test_every_writing_api_view_refuses_read_only_tokens():
    """A view that replaces ``permission_classes`` must keep ``config.api.permissions.DEFAULT``."""
    views = list(_api_views())
    assert len(views) >= 3
    for route, view in views:
        writes = {"post", "put", "patch", "delete"} & {
            m for m in view.http_method_names if hasattr(view, m)
        }
        if not writes or getattr(view, "read_only_token_allowed", False):
            continue
        assert ReadOnlyToken in view.permission_classes, route
