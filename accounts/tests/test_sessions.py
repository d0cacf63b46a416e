"""Sessions: a new key at login, 30 minutes idle, 12 hours at most (accounts/middleware.py)."""

from __future__ import annotations

import logging
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session

from accounts.middleware import LOGIN_AT, SEEN_AT

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
HOME = "/"
MINUTE = 60
HOUR = 60 * MINUTE


class Clock:
    def __init__(self, monkeypatch) -> None:
        self.now = time.time()
        monkeypatch.setattr(time, "time", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def log_in(client, username="supervisor"):
    response = client.post(LOGIN, {"username": username, "password": "demo1234"})
    assert response.status_code == 302
    return response


def signed_in(client) -> bool:
    """The start page sends a signed-in user on to their page, anyone else to the login."""
    response = client.get(HOME)
    assert response.status_code == 302
    return not response["Location"].startswith(LOGIN)


def test_the_session_key_changes_at_login(client, demo):
    session = client.session
    session["basket"] = "kept"
    session.save()
    before = client.cookies["sessionid"].value

    log_in(client)

    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["basket"] == "kept"
    assert client.session[SESSION_KEY] == str(demo["supervisor"].pk)


def test_login_starts_the_session_clocks(client, demo, clock):
    log_in(client)
    assert client.session[LOGIN_AT] == clock.now
    assert client.session[SEEN_AT] == clock.now


def test_the_cookie_and_the_stored_session_end_soon_after_the_idle_limit(client, demo, settings):
    """A backstop: 5 minutes after the idle limit they end even without the middleware."""
    assert settings.SESSION_IDLE_SECONDS == 30 * MINUTE
    assert settings.SESSION_COOKIE_AGE == 35 * MINUTE
    response = log_in(client)
    assert response.cookies["sessionid"]["max-age"] == 35 * MINUTE
    assert response.cookies["sessionid"]["httponly"] is True
    assert client.session.get_expiry_age() == 35 * MINUTE


def test_a_session_idle_for_30_minutes_ends(client, demo, clock, caplog):
    caplog.set_level(logging.INFO, logger="audit.auth")
    log_in(client)
    clock.advance(29 * MINUTE)
    assert signed_in(client)
    clock.advance(29 * MINUTE)  # 58 minutes after login, but only 29 idle
    assert signed_in(client)
    clock.advance(30 * MINUTE)
    assert not signed_in(client)
    assert SESSION_KEY not in client.session

    # The login page says why, and the audit log too.
    page = client.get(LOGIN).content.decode()
    assert "Your session has ended; please log in again." in page
    logout = [r for r in caplog.records if getattr(r, "event", "") == "logout"]
    assert [(r.reason, r.user_id) for r in logout] == [("idle", demo["supervisor"].pk)]


def test_a_session_ends_12_hours_after_login_however_busy(client, demo, clock, caplog):
    caplog.set_level(logging.INFO, logger="audit.auth")
    log_in(client)
    for _ in range(12 * 3 - 1):  # every 20 minutes for 11 h 40 min
        clock.advance(20 * MINUTE)
        assert signed_in(client)
    clock.advance(19 * MINUTE)
    assert signed_in(client)  # 11 h 59 min
    clock.advance(1 * MINUTE)
    assert not signed_in(client)
    assert [r.reason for r in caplog.records if getattr(r, "event", "") == "logout"] == ["absolute"]


def test_last_seen_is_saved_at_most_once_a_minute(client, demo, clock):
    log_in(client)
    started = client.session[SEEN_AT]
    clock.advance(30)
    assert signed_in(client)
    assert client.session[SEEN_AT] == started
    clock.advance(31)
    assert signed_in(client)
    assert client.session[SEEN_AT] == clock.now


def test_a_session_without_clocks_is_ended(client, demo):
    log_in(client)
    session = client.session
    del session[LOGIN_AT]
    session.save()
    assert not signed_in(client)


def test_anonymous_requests_load_no_session(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(LOGIN).status_code == 200
