"""Test set-up shared by every app: services, markers, and the rule that CI skips nothing."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)

# live_server + sync Playwright share the event loop thread (RECIPES.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing() -> dict[str, str]:
    missing = {}
    if not settings.TEST_POSTGRES:
        missing["postgres"] = "PostgreSQL is not reachable on 127.0.0.1:5432 (tests ran on SQLite)"
    if not settings.TEST_REDIS:
        missing["redis"] = "Redis is not reachable on 127.0.0.1:6379"
    if CHROMIUM is None:
        missing["browser"] = "Debian's chromium is not installed (apt-get install -y chromium)"
    return missing


def pytest_report_header(config) -> list[str]:
    db = settings.DATABASES["default"]
    lines = [f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}"]
    lines.append(f"redis: {settings.TEST_REDIS_URL or 'not reachable'}")
    lines.append(f"chromium: {CHROMIUM or 'not installed'}")
    return lines


def pytest_collection_modifyitems(config, items) -> None:
    missing = _missing()
    # Under CI the whole suite must run on real PostgreSQL and Redis; a browser is required
    # only when browser tests were collected.
    needed = {name for name in missing if name in ("postgres", "redis")}
    needed |= {name for item in items for name in missing if item.get_closest_marker(name)}
    if needed and IN_CI:
        reasons = "; ".join(missing[name] for name in sorted(needed))
        raise pytest.UsageError(f"CI=true forbids skipping tests for missing services: {reasons}")
    for item in items:
        for name, reason in missing.items():
            if item.get_closest_marker(name):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter) -> None:
    missing = _missing()
    if missing:
        terminalreporter.write_line("")
        for reason in missing.values():
            terminalreporter.write_line(f"NOTE: {reason}; tests that need it were skipped.")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _seed_demo() -> None:
    from django.core.management import call_command

    call_command("seed_demo", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the demo district once into the test database; tests roll back on top of it."""
    with django_db_blocker.unblock():
        _seed_demo()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: failed logins of one test (the API fuzzing's, say)
    must not lock the demo users or 127.0.0.1 out of the next (accounts/lockout.py)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def demo(db):
    """The demo district (DESIGN §1), seeded again if a transactional test flushed it."""
    from accounts.models import User

    if not User.objects.filter(username="supervisor").exists():
        _seed_demo()
    return {
        u.username: u
        for u in User.objects.filter(username__in=["admin", "supervisor", "manager", "manager2"])
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Browsers here are set to Chinese, as the branch's phones are."""
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture
def celery_worker(transactional_db, tmp_path, settings):
    """A real Celery worker subprocess on Redis against the test database (RECIPES.md).

    Tests using it need ``@pytest.mark.redis`` and ``@pytest.mark.postgres`` and run in a
    transactional database (the worker is another process and must see committed rows).
    Tasks sent with ``.delay()`` from the test go to this worker, not eagerly.
    """
    from tests.worker import Worker, flush, point_app_at, spare_broker_url

    broker = spare_broker_url()
    flush(broker)
    point_app_at(broker)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker = Worker(broker_url=broker, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        point_app_at(None)
        flush(broker)
