"""POST/DELETE /api/v1/auth/token/, token authentication, read-only tokens, throttling."""

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from accounts.tests.factories import UserFactory
from config.api.testing import api_token, bearer, error_of

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
BRANDS_URL = "/api/v1/brands/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def rates(settings, **changes):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **changes,
        },
    }


def test_urls_are_under_api_v1():
    assert reverse("api:auth-token") == TOKEN_URL
    assert reverse("api:brand-list") == BRANDS_URL


def test_post_with_username_and_password_returns_a_token_stored_only_as_a_digest(client, demo):
    before = timezone.now()
    response = client.post(
        TOKEN_URL, {"username": "manager", "password": "demo1234", "name": "ordering platform"}
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"token", "key_id", "name", "read_only", "created_at", "expires_at"}
    raw = body["token"]
    key_id, secret = raw.split(".")
    assert key_id == body["key_id"]
    assert len(key_id) == 12
    assert len(secret) == 43
    token = ApiToken.objects.get(key_id=key_id)
    assert token.user == demo["manager"]
    assert token.name == "ordering platform"
    assert token.read_only is False
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(secret in value for value in stored)
    lifetime = token.expires_at - before
    assert dt.timedelta(days=30) <= lifetime < dt.timedelta(days=30, minutes=1)
    assert body["read_only"] is False


def test_post_as_json_with_read_only_and_lifetime(client, demo, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    response = client.post(
        TOKEN_URL,
        {"username": "supervisor", "password": "demo1234", "read_only": True, "expires_in_days": 2},
        content_type="application/json",
    )
    assert response.status_code == 201
    token = ApiToken.objects.get(key_id=response.json()["key_id"])
    assert token.read_only is True
    left = token.expires_at - timezone.now()
    assert dt.timedelta(days=1, hours=23) < left <= dt.timedelta(days=2)


def test_default_lifetime_comes_from_settings(client, demo, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    response = client.post(TOKEN_URL, {"username": "manager", "password": "demo1234"})
    token = ApiToken.objects.get(key_id=response.json()["key_id"])
    left = token.expires_at - timezone.now()
    assert dt.timedelta(days=6, hours=23) < left <= dt.timedelta(days=7)


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "manager", "password": "wrong"},
        {"username": "nobody", "password": "demo1234"},
        {"username": "MANAGER", "password": "demo1234"},
    ],
)
def test_wrong_credentials_are_a_401_and_create_nothing(client, demo, credentials):
    response = client.post(TOKEN_URL, credentials)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response) == {
        "status": 401,
        "code": "authentication_failed",
        "message": "Wrong username or password.",
        "fields": {},
    }
    assert ApiToken.objects.count() == 0


def test_a_disabled_account_gets_no_token(client, demo):
    user = UserFactory(username="gone", is_active=False)
    response = client.post(TOKEN_URL, {"username": user.username, "password": "pw-123456"})
    assert response.status_code == 401
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"username", "password"}),
        ({"username": "manager"}, {"password"}),
        ({"username": "man\x00ager", "password": "demo1234"}, {"username"}),
        (
            {"username": "manager", "password": "demo1234", "expires_in_days": "0"},
            {"expires_in_days"},
        ),
        (
            {"username": "manager", "password": "demo1234", "expires_in_days": "366"},
            {"expires_in_days"},
        ),
        (
            {"username": "manager", "password": "demo1234", "expires_in_days": "x"},
            {"expires_in_days"},
        ),
        ({"username": "manager", "password": "demo1234", "read_only": "maybe"}, {"read_only"}),
        ({"username": "x" * 151, "password": "demo1234"}, {"username"}),
    ],
)
def test_bad_token_requests_are_400_naming_the_field(client, demo, data, fields):
    response = client.post(TOKEN_URL, data)
    assert response.status_code == 400
    body = error_of(response)
    assert body["code"] == "invalid"
    assert set(body["fields"]) == fields
    assert ApiToken.objects.count() == 0


def test_wrong_content_type_is_415_and_malformed_json_is_400(client, demo):
    response = client.post(TOKEN_URL, "username=manager", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    response = client.post(TOKEN_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    response = client.post(TOKEN_URL, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token"])
def test_the_token_authenticates_in_either_scheme(client, demo, scheme):
    raw = api_token(demo["manager"])
    response = client.get(BRANDS_URL, HTTP_AUTHORIZATION=f"{scheme} {raw}")
    assert response.status_code == 200


def test_no_credentials_is_a_401_with_the_error_shape(client, demo):
    response = client.get(BRANDS_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", "Send the token as: Authorization: Bearer <token>."),
        ("Bearer a b", "Send the token as: Authorization: Bearer <token>."),
        ("Bearer nonsense", "Invalid token."),
        ("Bearer 0123456789ab." + "A" * 43, "Invalid token."),
        ("Bearer caf\u00e9", "Invalid token."),
    ],
)
def test_malformed_or_unknown_tokens_are_401(client, demo, header, message):
    response = client.get(BRANDS_URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_of(response)["message"] == message


def test_a_tampered_secret_is_refused(client, demo):
    raw = api_token(demo["manager"])
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    response = client.get(BRANDS_URL, **bearer(tampered))
    assert response.status_code == 401
    assert error_of(response)["message"] == "Invalid token."


def test_an_expired_token_is_refused(client, demo):
    token, raw = api_token_create(user=demo["manager"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(BRANDS_URL, **bearer(raw))
    assert response.status_code == 401
    assert error_of(response)["message"] == "This token has expired; get a new one."


def test_a_token_of_a_disabled_account_is_refused(client, demo):
    user = UserFactory(username="leaver")
    raw = api_token(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(BRANDS_URL, **bearer(raw))
    assert response.status_code == 401
    assert error_of(response)["message"] == "This account is disabled."


def test_delete_revokes_the_token_used_and_only_that_one(client, demo):
    token, raw = api_token_create(user=demo["manager"])
    other = api_token(demo["manager"])
    response = client.delete(TOKEN_URL, **bearer(raw))
    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = client.get(BRANDS_URL, **bearer(raw))
    assert response.status_code == 401
    assert error_of(response)["message"] == "This token was revoked."
    assert client.delete(TOKEN_URL, **bearer(raw)).status_code == 401
    assert client.get(BRANDS_URL, **bearer(other)).status_code == 200


def test_delete_needs_a_token_not_a_session(client, demo):
    client.force_login(demo["manager"])
    assert client.get(BRANDS_URL).status_code == 200
    response = client.delete(TOKEN_URL)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_a_read_only_token_reads_cannot_write_and_can_revoke_itself(client, demo):
    token, raw = api_token_create(user=demo["supervisor"], read_only=True)
    assert client.get(BRANDS_URL, **bearer(raw)).status_code == 200
    response = client.post(BRANDS_URL, {}, **bearer(raw))
    assert response.status_code == 403
    assert error_of(response) == {
        "status": 403,
        "code": "read_only_token",
        "message": "This API token is read-only.",
        "fields": {},
    }
    writable = api_token(demo["supervisor"])
    response = client.post(BRANDS_URL, {}, **bearer(writable))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert client.delete(TOKEN_URL, **bearer(raw)).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_last_used_is_recorded_at_most_once_a_minute(client, demo, django_assert_num_queries):
    token, raw = api_token_create(user=demo["manager"])
    assert token.last_used_at is None
    # token + user; last used; page of brands
    with django_assert_num_queries(3):
        client.get(BRANDS_URL, **bearer(raw))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    with django_assert_num_queries(2):
        client.get(BRANDS_URL, **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == first


def test_revoking_twice_keeps_the_first_time(demo):
    token, _raw = api_token_create(user=demo["manager"])
    first = api_token_revoke(token=token).revoked_at
    assert api_token_revoke(token=token).revoked_at == first


def test_token_requests_are_throttled_per_client_address(client, demo, settings):
    rates(settings, auth="2/minute")
    data = {"username": "manager", "password": "wrong"}
    assert client.post(TOKEN_URL, data).status_code == 401
    assert client.post(TOKEN_URL, data).status_code == 401
    response = client.post(TOKEN_URL, data)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert error_of(response)["code"] == "throttled"
    # Even the right password waits: guessing is what this limit is for.
    good = {"username": "manager", "password": "demo1234"}
    assert client.post(TOKEN_URL, good).status_code == 429
    assert client.post(TOKEN_URL, good, REMOTE_ADDR="10.0.0.9").status_code == 201


def test_requests_are_throttled_per_token(client, demo, settings):
    rates(settings, user="3/minute")
    first, second = api_token(demo["manager"]), api_token(demo["manager"])
    for _ in range(3):
        assert client.get(BRANDS_URL, **bearer(first)).status_code == 200
    response = client.get(BRANDS_URL, **bearer(first))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert client.get(BRANDS_URL, **bearer(second)).status_code == 200


def test_anonymous_requests_are_throttled_per_address_not_per_x_forwarded_for(
    client, demo, settings
):
    # Requests without credentials reach only the public endpoints: getting a token, the schema.
    rates(settings, anon="2/minute", auth="100/minute")
    data = {"username": "manager", "password": "wrong"}
    for n in range(2):
        response = client.post(TOKEN_URL, data, HTTP_X_FORWARDED_FOR=f"10.1.1.{n}")
        assert response.status_code == 401
    assert client.post(TOKEN_URL, data, HTTP_X_FORWARDED_FOR="10.1.1.9").status_code == 429
    assert client.get("/api/v1/schema/").status_code == 429
    assert client.post(TOKEN_URL, data, REMOTE_ADDR="10.2.2.2").status_code == 401


def test_behind_a_proxy_the_forwarded_address_is_counted(client, demo, settings):
    rates(settings, anon="1/minute", auth="100/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    data = {"username": "manager", "password": "wrong"}
    assert client.post(TOKEN_URL, data, HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 401
    assert client.post(TOKEN_URL, data, HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 429
    assert client.post(TOKEN_URL, data, HTTP_X_FORWARDED_FOR="10.1.1.2").status_code == 401


def test_unknown_api_paths_are_json_404s(client, demo):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert error_of(response) == {
        "status": 404,
        "code": "not_found",
        "message": "Not found.",
        "fields": {},
    }
    assert client.get("/api/v1/brands")["Location"] == BRANDS_URL
