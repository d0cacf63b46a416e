import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.selectors import api_token_for
from accounts.services import api_token_create, api_token_mark_used, api_token_revoke
from accounts.tests.factories import UserFactory
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_api_token_create_returns_the_secret_once_and_keeps_its_digest():
    user = UserFactory()
    token, raw = api_token_create(user=user, name="BI", read_only=True, lifetime_days=3)
    assert raw.startswith(f"{token.key_id}.")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert (token.name, token.read_only, token.revoked_at, token.last_used_at) == (
        "BI",
        True,
        None,
        None,
    )
    assert token.expires_at - token.created_at == pytest.approx(
        dt.timedelta(days=3), abs=dt.timedelta(seconds=1)
    )
    assert api_token_for(raw) == token


def test_two_tokens_never_share_a_key_or_a_secret():
    user = UserFactory()
    (a, raw_a), (b, raw_b) = api_token_create(user=user), api_token_create(user=user)
    assert a.key_id != b.key_id
    assert raw_a.split(".")[1] != raw_b.split(".")[1]


@pytest.mark.parametrize("days", [0, -1, 366])
def test_api_token_create_refuses_a_lifetime_out_of_bounds(days):
    user = UserFactory()
    with pytest.raises(ApplicationError) as caught:
        api_token_create(user=user, lifetime_days=days)
    assert caught.value.extra == {"expires_in_days": ["Choose a lifetime from 1 to 365 days."]}
    assert ApiToken.objects.count() == 0


def test_api_token_create_refuses_a_disabled_account():
    user = UserFactory(is_active=False)
    with pytest.raises(ApplicationError, match="disabled"):
        api_token_create(user=user)
    assert ApiToken.objects.count() == 0


def test_api_token_for_finds_only_the_exact_secret():
    token, raw = api_token_create(user=UserFactory())
    assert api_token_for(raw) == token
    assert api_token_for(raw + "x") is None
    assert api_token_for(raw.upper()) is None
    assert api_token_for("") is None
    assert api_token_for(f"{token.key_id}.{'A' * 43}") is None


def test_api_token_revoke_is_idempotent():
    token, _raw = api_token_create(user=UserFactory())
    first = api_token_revoke(token=token).revoked_at
    assert first is not None
    assert api_token_revoke(token=token).revoked_at == first


def test_api_token_mark_used_writes_at_most_once_per_interval(settings):
    settings.API_TOKEN_TOUCH_SECONDS = 60
    token, _raw = api_token_create(user=UserFactory())
    now = timezone.now()
    api_token_mark_used(token=token, now=now)
    api_token_mark_used(token=token, now=now + dt.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == now
    later = now + dt.timedelta(seconds=61)
    api_token_mark_used(token=token, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later
