"""Helpers for API tests in any app (``config`` may be imported from every app)."""

from __future__ import annotations

from typing import Any


def api_token(user: Any, **kwargs: Any) -> str:
    """The secret form of a new API token for ``user``; ``kwargs`` go to ``api_token_create``."""
    from accounts.services import api_token_create

    return api_token_create(user=user, **kwargs)[1]


def bearer(token: str) -> dict[str, str]:
    """Test-client keyword arguments that send ``token``: ``client.get(url, **bearer(t))``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def error_of(response: Any) -> dict[str, Any]:
    """The ``error`` object of an API error response, after checking the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body  # noqa: S101 - a test helper
    assert set(body["error"]) == {"status", "code", "message", "fields"}, body  # noqa: S101
    assert body["error"]["status"] == response.status_code, body  # noqa: S101
    return body["error"]
