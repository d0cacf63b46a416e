from unittest import mock

import pytest
from django.db import connection

from accounts.models import ApiToken
from accounts.selectors import TOKEN_STATEMENTS, api_token_for
from accounts.services import api_token_create, api_token_revoke
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_prepared_token_lookup_loads_what_the_orm_loads():
    user = UserFactory(full_name="令牌 O'Brien %_", role="supervisor")
    token, raw = api_token_create(user=user, name="sync")
    api_token_revoke(token=token)
    TOKEN_STATEMENTS.clear()
    found = api_token_for(raw)
    with mock.patch.object(TOKEN_STATEMENTS, "statement", return_value=None):
        general = api_token_for(raw)
    assert _fields(found) == _fields(general) == _fields(ApiToken.objects.get(pk=token.pk))
    assert _fields(found.user) == _fields(general.user)
    assert found.user._state.adding is False
    assert found.user._state.db == "default"
    if connection.vendor == "postgresql":
        assert next(iter(TOKEN_STATEMENTS._statements.values())) is not None
    key_id = raw.split(".")[0]
    assert api_token_for(f"{key_id}.{'x' * 43}") is None  # the wrong secret
    assert api_token_for(raw.replace(key_id, "0" * 12)) is None  # no such key id
