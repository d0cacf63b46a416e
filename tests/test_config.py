"""Settings come from the environment; production refuses to start without its secrets."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.env import env_bool, env_int, env_list


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        # What the quick start ignores too (Makefile): the shell's services and secrets.
        if k
        not in (
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
        )
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_secret_key():
    result = run_python(
        "import django; django.setup()", DJANGO_SETTINGS_MODULE="config.settings.production"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_start_with_their_secrets():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CELERY_TASK_ALWAYS_EAGER, s.TIME_ZONE, "
        "s.DATABASES['default']['ENGINE'])"
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x" * 60,
        FIELD_ENCRYPTION_KEY="a" * 43 + "=",
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="postgres://u@db:5432/territory",
        CELERY_BROKER_URL="redis://redis:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "False",
        "Asia/Shanghai",
        "django.db.backends.postgresql",
    ]


def test_quick_start_defaults_are_sqlite_and_eager_celery():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.USE_TZ)"
    )
    result = run_python(code, DJANGO_SETTINGS_MODULE="config.settings.base")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True"]


def test_env_helpers_fail_loudly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


@pytest.mark.postgres
def test_tests_run_on_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
