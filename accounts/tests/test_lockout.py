"""Login lockout (accounts/lockout.py): 5 failures per username and per address, 15 minutes,
on the login page, the admin's login and POST /api/v1/auth/token/; 429; logged."""

from __future__ import annotations

import logging
import time
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import ApiToken
from config.api.testing import error_of

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PASSWORD = "demo1234"


class Clock:
    """``time.time`` under the test's control (the lockout and the local cache both read it)."""

    def __init__(self, monkeypatch) -> None:
        self.now = time.time()
        monkeypatch.setattr(time, "time", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def web_login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def token_login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def events(caplog, logger="audit.auth"):
    return [(r.event, r.__dict__) for r in caplog.records if r.name == logger]


def test_five_failures_lock_the_account_on_the_login_page_for_15_minutes(client, demo, clock):
    for _ in range(4):
        response = web_login(client, "manager", "wrong")
        assert response.status_code == 200
        assert "Wrong username or password" in response.content.decode()
    response = web_login(client, "manager", "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    body = response.content.decode()
    assert "Logging in is paused" in body
    assert "logging in is paused for 15 minutes" in body

    # Locked: the right password does not help, from this address or another one.
    assert web_login(client, "manager", PASSWORD).status_code == 429
    assert web_login(client, "manager", PASSWORD, ip="10.9.9.9").status_code == 429
    assert SESSION_KEY not in client.session

    clock.advance(14 * 60 + 50)
    assert web_login(client, "manager", PASSWORD, ip="10.9.9.9").status_code == 429
    clock.advance(11)
    response = web_login(client, "manager", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(demo["manager"].pk)


def test_the_lockout_page_speaks_chinese(client, demo):
    for _ in range(5):
        response = web_login(client, "manager", "wrong", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    body = response.content.decode()
    assert "登录已暂停" in body
    assert "15 分钟" in body


def test_a_locked_account_does_not_lock_others_out_from_another_address(client, demo):
    for _ in range(5):
        web_login(client, "manager", "wrong", ip="10.0.0.1")
    assert web_login(client, "supervisor", PASSWORD, ip="10.0.0.2").status_code == 302


def test_an_address_is_locked_after_five_failures_whatever_the_usernames(client, demo):
    for name in ("a", "b", "c", "d"):
        assert web_login(client, name, "wrong", ip="10.0.0.1").status_code == 200
    assert web_login(client, "e", "wrong", ip="10.0.0.1").status_code == 429
    # That address may not log in to any account; the accounts themselves are not locked.
    assert web_login(client, "supervisor", PASSWORD, ip="10.0.0.1").status_code == 429
    assert web_login(client, "supervisor", PASSWORD, ip="10.0.0.2").status_code == 302


def test_a_successful_login_clears_the_account_failures(client, demo):
    for _ in range(4):
        web_login(client, "manager", "wrong", ip="10.0.0.1")
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.1").status_code == 302
    client.logout()
    for _ in range(4):
        assert web_login(client, "manager", "wrong", ip="10.0.0.2").status_code == 200
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.3").status_code == 302


def test_failures_older_than_the_window_are_forgotten(client, demo, clock):
    for _ in range(4):
        web_login(client, "manager", "wrong")
    clock.advance(15 * 60 + 1)
    for _ in range(4):
        assert web_login(client, "manager", "wrong").status_code == 200
    assert web_login(client, "manager", PASSWORD).status_code == 302


def test_the_token_endpoint_locks_out_with_a_429_in_the_api_error_shape(client, demo, clock):
    for _ in range(4):
        assert token_login(client, "supervisor", "wrong").status_code == 401
    response = token_login(client, "supervisor", "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert error_of(response) == {
        "status": 429,
        "code": "locked_out",
        "message": (
            "Too many failed logins for this account or from this address: logging in is "
            "paused for 15 minutes. Wait the seconds in Retry-After."
        ),
        "fields": {},
    }
    response = token_login(client, "supervisor", PASSWORD, ip="10.0.0.5")
    assert response.status_code == 429
    assert ApiToken.objects.count() == 0

    clock.advance(15 * 60 + 1)
    assert token_login(client, "supervisor", PASSWORD, ip="10.0.0.5").status_code == 201


def test_page_and_api_failures_count_together(client, demo):
    for _ in range(3):
        web_login(client, "manager", "wrong", ip="10.0.0.1")
    assert token_login(client, "manager", "wrong", ip="10.0.0.2").status_code == 401
    assert token_login(client, "manager", "wrong", ip="10.0.0.3").status_code == 429
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.4").status_code == 429


def test_the_admin_login_is_locked_out_too(client, demo):
    for _ in range(5):
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "admin", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
        )
    assert response.status_code == 429
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.7",
    )
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_without_proxies_a_forwarded_for_header_is_ignored(client, demo, settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    for n in range(5):
        response = web_login(client, f"user{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    # Every attempt came from 10.0.0.1, whatever the client wrote into the header.
    assert response.status_code == 429
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.2").status_code == 302


def test_behind_a_proxy_the_address_the_proxy_saw_counts(client, demo, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "172.18.0.2"
    for n in range(5):
        # A client may prepend anything; the proxy appends the address it saw.
        response = web_login(
            client, f"user{n}", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7"
        )
    assert response.status_code == 429
    locked = web_login(client, "manager", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    other = web_login(client, "manager", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302


def test_lockouts_are_logged_as_structured_events_without_the_password(client, demo, caplog):
    caplog.set_level(logging.INFO, logger="audit.auth")
    for _ in range(5):
        web_login(client, "manager", "s3cret-guess", ip="10.0.0.1")
    web_login(client, "manager", PASSWORD, ip="10.0.0.1")

    logged = events(caplog)
    names = [name for name, _ in logged]
    assert names == [
        *["login_failed"] * 5,
        "login_locked_out",
        "login_locked_out",
        "login_refused_locked",
    ]
    failed = logged[0][1]
    assert (failed["username"], failed["ip"], failed["path"]) == ("manager", "10.0.0.1", LOGIN)
    assert failed["levelname"] == "WARNING"
    locks = {fields["scope"]: fields for name, fields in logged if name == "login_locked_out"}
    assert set(locks) == {"account", "address"}
    assert locks["account"]["failures"] == 5
    assert locks["account"]["seconds"] == 900
    assert all("s3cret-guess" not in str(fields) for _, fields in logged)
    assert PASSWORD not in caplog.text


def test_an_unreachable_cache_lets_logins_through_and_says_so(client, demo, caplog):
    broken = mock.Mock()
    broken.get_many.side_effect = RedisConnectionError("down")
    broken.add.side_effect = RedisConnectionError("down")
    with mock.patch("accounts.lockout.cache", broken):
        for _ in range(6):
            assert web_login(client, "manager", "wrong").status_code == 200
        assert web_login(client, "manager", PASSWORD).status_code == 302
    assert "Login lockout cache unreachable" in caplog.text


def test_an_operator_can_lift_a_lockout(client, demo, capsys):
    for _ in range(5):
        web_login(client, "manager", "wrong", ip="10.0.0.1")
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.1").status_code == 429
    call_command("login_unlock", username="manager", address="10.0.0.1")
    assert "Unlocked: username=manager address=10.0.0.1" in capsys.readouterr().out
    assert web_login(client, "manager", PASSWORD, ip="10.0.0.1").status_code == 302


def test_the_schema_documents_the_lockout_on_the_token_endpoint(client):
    schema = client.get("/api/v1/schema/").json()
    answer = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["429"]
    assert "too many failed logins" in answer["description"]
    assert "locked_out" in answer["description"]
    assert answer["headers"]["Retry-After"]["required"] is True
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
