"""Reads for accounts."""

from __future__ import annotations

import hmac

from accounts.models import ApiToken
from accounts.tokens import parse_token, token_digest


def api_token_for(raw: str) -> ApiToken | None:
    """The token whose secret form is ``raw`` (with its user), whatever its state, or ``None``.

    The row is found by its public key id; the digest is then compared in constant time.
    """
    key_id = parse_token(raw)
    if key_id is None:
        return None
    token = ApiToken.objects.select_related("user").filter(key_id=key_id).first()
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    return token
