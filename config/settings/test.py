"""Test settings: real PostgreSQL and Redis when they are reachable, SQLite otherwise.

An explicit ``DATABASE_URL``/``REDIS_URL`` wins. Otherwise the standard local services
(PostgreSQL on 127.0.0.1:5432 as ``postgres``, Redis on 127.0.0.1:6379) are probed; what is not
reachable is replaced (SQLite, no Redis) and the tests that need it are skipped, saying so —
except under ``CI=true``, where ``conftest.py`` turns such a skip into a failure.
"""

import os
import socket

import dj_database_url

from .base import *  # noqa: F403


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


if os.environ.get("DATABASE_URL"):
    TEST_DATABASE_URL = os.environ["DATABASE_URL"]
elif _reachable("127.0.0.1", 5432):
    TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/territory"
else:
    TEST_DATABASE_URL = "sqlite:///:memory:"
DATABASES = {"default": dj_database_url.parse(TEST_DATABASE_URL)}
TEST_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

if os.environ.get("REDIS_URL"):
    TEST_REDIS_URL = os.environ["REDIS_URL"]
elif _reachable("127.0.0.1", 6379):
    TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
else:
    TEST_REDIS_URL = None
TEST_REDIS = TEST_REDIS_URL is not None
# The real-worker tests use their own Redis database, flushed first (RECIPES.md); under
# pytest-xdist each worker process has its own (gw0 the given one, gw1 the one below, …),
# as each has its own test database.
TEST_WORKER_REDIS_DB = int(os.environ.get("TEST_WORKER_REDIS_DB", "15"))
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw"):
    TEST_WORKER_REDIS_DB = (TEST_WORKER_REDIS_DB - int(_XDIST_WORKER[2:])) % 16

# Unit tests run Celery eagerly; the real-worker tests point the app at Redis themselves, and
# start their worker subprocess with TEST_CELERY_BROKER_URL set.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = "TEST_CELERY_BROKER_URL" not in os.environ
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
LANGUAGE_CODE = "en"

# Test-only tasks (a poison message…) for the real-worker tests; the worker imports them too.
CELERY_IMPORTS = ["tests.celery_tasks"]
