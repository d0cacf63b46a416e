"""The form of an API token, in one place: ``<key id>.<secret>``, kept as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import re
import secrets

#: 12 hex characters of key id, a dot, 43 URL-safe characters (256 bits) of secret.
TOKEN_PATTERN = re.compile(r"(?P<key_id>[0-9a-f]{12})\.(?P<secret>[A-Za-z0-9_-]{43})")


def new_token() -> tuple[str, str]:
    """A fresh ``(key_id, token)``; the token is to be shown once and never stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{key_id}.{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_token(raw: str) -> str | None:
    """The key id of a well-formed token, else ``None``."""
    match = TOKEN_PATTERN.fullmatch(raw)
    return match["key_id"] if match else None
