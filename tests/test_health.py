"""/health/: the database, the cache (Redis), the Celery broker and a worker heartbeat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config import services
from config.celery import app

pytestmark = pytest.mark.django_db

URL = "/health/"


@pytest.fixture
def queued(settings):
    """Tasks go to a broker (the in-memory one), as in production, not run in-process."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def broker_at():
    previous = app.conf.broker_url

    def point(url: str) -> None:
        app.conf.broker_url = url

    yield point
    app.conf.broker_url = previous


def test_the_quick_start_is_healthy_without_a_worker(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "local", "broker": "eager", "worker": "eager"},
        "worker_heartbeat_age_seconds": None,
    }


def test_a_fresh_heartbeat_is_ok(client, queued):
    services.heartbeat_record(hostname="celery@w1", now=timezone.now() - dt.timedelta(seconds=42))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"] == "ok"
    assert body["checks"]["broker"] == "ok"
    assert 42 <= body["worker_heartbeat_age_seconds"] <= 45


@pytest.mark.parametrize(("age", "worker"), [(None, "missing"), (301, "stale"), (3600, "stale")])
def test_a_missing_or_stale_heartbeat_is_degraded_but_up(client, queued, age, worker):
    if age is not None:
        services.heartbeat_record(now=timezone.now() - dt.timedelta(seconds=age))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["checks"]["worker"]) == ("degraded", worker)
    assert body["worker_heartbeat_age_seconds"] == (
        None if age is None else pytest.approx(age, abs=3)
    )


def test_with_a_required_worker_a_stale_heartbeat_is_a_503(client, queued, settings):
    settings.HEALTH_REQUIRE_WORKER = True
    services.heartbeat_record(now=timezone.now() - dt.timedelta(minutes=6))
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 600
    assert client.get(URL).status_code == 200


def test_a_broken_broker_is_a_503(client, queued, broker_at):
    broker_at("redis://127.0.0.1:1/0")
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


def redis_cache(settings, url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }


@pytest.mark.redis
def test_a_redis_cache_is_really_pinged(client, settings):
    base = settings.TEST_REDIS_URL.rsplit("/", 1)[0]
    redis_cache(settings, f"{base}/{settings.TEST_WORKER_REDIS_DB}")
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"


def test_an_unreachable_redis_cache_is_a_503(client, settings):
    redis_cache(settings, "redis://127.0.0.1:1/0")
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error: ConnectionError"


@pytest.mark.redis
def test_a_real_redis_broker_is_reached(client, queued, broker_at, settings):
    broker_at(settings.TEST_REDIS_URL)
    assert client.get(URL).json()["checks"]["broker"] == "ok"
