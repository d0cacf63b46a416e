"""A real Celery worker in a subprocess, on a spare Redis database, against the test database.

Used through the ``celery_worker`` fixture in ``conftest.py`` (RECIPES.md: not eager, not the
threaded contrib worker). The worker runs prefork with one child, ``acks_late`` and
``reject_on_worker_lost`` as in production, and a short visibility timeout so that a message
of a killed worker comes back within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kombu.pools
import redis
from django.conf import settings
from django.db import connection

from config.celery import app


class Worker:
    def __init__(self, *, broker_url: str, log_path: Path, visibility_timeout: int = 8) -> None:
        self.broker_url = broker_url
        self.log_path = log_path
        self.visibility_timeout = visibility_timeout
        self.proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": url,
            "TEST_CELERY_BROKER_URL": self.broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        }

    def start(self, timeout: float = 30) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "prefork",
                "-c",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if "ready." in text:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a crash would."""
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = ""):
    """Poll ``predicate`` until it returns a truthy value; fail with ``message`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")


def spare_broker_url() -> str:
    base = settings.TEST_REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{settings.TEST_WORKER_REDIS_DB}"


def point_app_at(broker_url: str | None):
    """Make this process's Celery app send to ``broker_url`` (``None``: back to eager)."""
    if broker_url is None:
        app.conf.task_always_eager = True
        app.conf.broker_url = "memory://"
    else:
        app.conf.task_always_eager = False
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS}
    # Drop the cached connection and producer pools so the next send uses the new broker.
    # kombu keeps them in process-wide groups keyed by broker URL: clear those too, or the
    # next test on the same broker gets the closed pool back ("Acquire on closed pool").
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


def flush(broker_url: str) -> None:
    redis.Redis.from_url(broker_url).flushdb()
