"""Production settings pass Django's deploy checks; each protection is needed to pass them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

SECRET = "p7Qe-2mZr_Lx9vKt4Wn8Yb3Hc6Jd1Fg5Sa0Uo" * 2  # long and random-looking
FERNET = "t8Y2Vq0bJ3dS1wL6mZkX9nC4rH7pF5gA2eU0iO3yTsQ="


def production(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "SECURE_", "CELERY_", "DEBUG", "LOG_"))
        # The test run's own switches (conftest sets DJANGO_ALLOW_ASYNC_UNSAFE) are no deploy's.
        and k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "REDIS_URL")
        and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "TEST_CELERY_BROKER_URL")
    }
    wanted = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": SECRET,
        "FIELD_ENCRYPTION_KEY": FERNET,
        "ALLOWED_HOSTS": "territory.example.org",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **{k: v for k, v in wanted.items() if v is not None}},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


DEPLOY_CHECK = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]


def test_production_settings_pass_the_deploy_checks():
    result = production(DEPLOY_CHECK)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "check_id"),
    [
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"SECRET_KEY": "short-and-plain"}, "security.W009"),
        ({"CELERY_TASK_TIME_LIMIT": "2400"}, "config.E001"),
    ],
)
def test_the_deploy_checks_fail_without_a_protection(env, check_id):
    result = production(DEPLOY_CHECK, **env)
    assert result.returncode != 0
    assert check_id in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG must not be on in production"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must be set"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"FIELD_ENCRYPTION_KEY": None}, "FIELD_ENCRYPTION_KEY must be set"),
    ],
)
def test_production_refuses_to_start_unsafely(env, message):
    result = production(["-c", "import django; django.setup()"], **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_values():
    names = [
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_AGE",
        "SESSION_IDLE_SECONDS",
        "SESSION_ABSOLUTE_SECONDS",
        "LOGIN_LOCKOUT_FAILURES",
        "LOGIN_LOCKOUT_SECONDS",
        "AUTHENTICATION_BACKENDS",
        "LOG_FORMAT",
    ]
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        f"print(repr([getattr(s, n) for n in {names!r}]))"
    )
    result = production(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        [
            False,
            True,
            ("HTTP_X_FORWARDED_PROTO", "https"),
            31536000,
            True,
            True,
            True,
            True,
            2100,
            1800,
            43200,
            5,
            900,
            ["accounts.backends.LockoutModelBackend"],
            "json",
        ]
    )


@pytest.fixture
def https_only(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts(client, https_only):
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"

    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    # The health probe from inside the network speaks plain HTTP.
    assert client.get("/health/").status_code == 200
