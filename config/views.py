from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import OperationalError as KombuOperationalError

from config import services
from config.api.throttling import CACHE_ERRORS
from config.celery import app as celery_app


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts its day on."""
    if request.user.is_account_manager:
        return redirect("visits:today")
    return redirect("retailers:district-summary")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except (KombuOperationalError, OSError) as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_cache() -> str:
    """A round trip through the cache: Redis when ``REDIS_URL`` is set, else this process's."""
    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return "local"
    try:
        cache.set("health:ping", "pong", timeout=10)
        if cache.get("health:ping") != "pong":
            return "error: no round trip"
    except CACHE_ERRORS as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_worker() -> tuple[str, int | None]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager", None
    try:
        return services.worker_heartbeat_state()
    except DatabaseError:
        return "unknown", None


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """What the app needs: the database, the cache, the Celery broker, and a working worker.

    ``status`` is ``ok``; or ``degraded`` when only the worker heartbeat is late (``stale``) or
    absent (``missing``) — a 200, so that a web process is not taken out of service for a
    worker's fault, unless ``HEALTH_REQUIRE_WORKER`` is set; or ``error`` (503) when the
    database, the cache or the broker cannot be reached.
    """
    worker, age = _check_worker()
    checks = {
        "database": _check_database(),
        "cache": _check_cache(),
        "broker": _check_broker(),
        "worker": worker,
    }
    broken = any(value.startswith("error") for key, value in checks.items() if key != "worker") or (
        settings.HEALTH_REQUIRE_WORKER and worker not in ("ok", "eager")
    )
    if broken:
        status = "error"
    elif worker in ("ok", "eager"):
        status = "ok"
    else:
        status = "degraded"
    return JsonResponse(
        {"status": status, "checks": checks, "worker_heartbeat_age_seconds": age},
        status=503 if broken else 200,
    )
