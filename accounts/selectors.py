"""Reads for accounts."""

from __future__ import annotations

import hmac

from django.db import router
from django.db.models import QuerySet

from accounts.models import ApiToken, User
from accounts.tokens import parse_token, token_digest
from config.prepared import TEXT, PreparedQueries

#: The token lookup of every API request, compiled once (``config.prepared``): building the
#: query with its user's columns cost more than running it.
TOKEN_STATEMENTS = PreparedQueries(size=4)
_TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


def _token_query(key_id: str) -> QuerySet:
    return ApiToken.objects.filter(key_id=key_id).values_list(
        *_TOKEN_FIELDS, *(f"user__{name}" for name in _USER_FIELDS)
    )[:1]


def _token_with_user(key_id: str) -> ApiToken | None:
    """The token of ``key_id`` with its user loaded (one query), as
    ``select_related("user")`` loads them."""
    using = router.db_for_read(ApiToken)
    statement = TOKEN_STATEMENTS.statement((), _build, {"key_id": TEXT}, using=using)
    if statement is None:
        return ApiToken.objects.select_related("user").filter(key_id=key_id).first()
    rows = TOKEN_STATEMENTS.rows(statement, {"key_id": key_id}, using=using)
    if not rows:
        return None
    row, width = rows[0], len(_TOKEN_FIELDS)
    token = ApiToken.from_db(using, _TOKEN_FIELDS, row[:width])
    ApiToken.user.field.set_cached_value(token, User.from_db(using, _USER_FIELDS, row[width:]))
    return token


def _build(values: dict) -> QuerySet:
    return _token_query(values["key_id"])


def api_token_for(raw: str) -> ApiToken | None:
    """The token whose secret form is ``raw`` (with its user), whatever its state, or ``None``.

    The row is found by its public key id; the digest is then compared in constant time.
    """
    key_id = parse_token(raw)
    if key_id is None:
        return None
    token = _token_with_user(key_id)
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    return token
