"""Settings shared by every environment, read from the environment (DESIGN §3).

With nothing set the app runs on an embedded SQLite file and Celery runs tasks eagerly
in-process (the quick start). ``DATABASE_URL`` and ``CELERY_BROKER_URL``/``REDIS_URL`` switch
to the production shape.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "insecure-local-development-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Project apps first: their templates and translations take precedence over Django's.
    # Among themselves, the only allowed import direction (DESIGN §3).
    "accounts",
    "catalog",
    "territory",
    "retailers",
    "settlement",
    "allocation",
    "visits",
    # Operations: worker heartbeats and dead letters (config/models.py), deploy checks.
    "config",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.AuthzAuditMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Django's backend behind the login lockout (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# Failed logins per username, and per client address, before it is locked for the period.
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Sessions end after this long without a request, and this long after login whatever happens
# (accounts/middleware.py). "Last seen" is saved at most every SESSION_TOUCH_SECONDS.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_TOUCH_SECONDS = 60
# The cookie and the stored session outlive the idle limit by a few minutes, so that the
# middleware, not the browser, ends an idle session and can tell the user why; they still end
# by themselves should the middleware ever be bypassed.
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS + 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Field encryption (bank account numbers) ------------------------------------------------
# A Fernet key (urlsafe base64 of 32 bytes). Production requires it; locally it is derived
# from SECRET_KEY so that the quick start needs no set-up.
FIELD_ENCRYPTION_KEY = env_str(
    "FIELD_ENCRYPTION_KEY",
    base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode(),
)

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST API (config/api: conventions in its docstring) ----------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "not signed in" a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "config.api.permissions.ReadOnlyToken",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttling.AnonRateThrottle",
        "config.api.throttling.ClientRateThrottle",
    ],
    # Requests per token (or signed-in user), per anonymous address, and per scope.
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "600/minute"),
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "auth": env_str("API_THROTTLE_AUTH", "10/minute"),
        "export": env_str("API_THROTTLE_EXPORT", "30/hour"),
    },
    # Proxies in front that set X-Forwarded-For; 0 counts the direct peer's address.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.negotiation.JSONFallbackNegotiation",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exceptions.api_exception_handler",
    # `format` is an ordinary query parameter (the export's csv/ndjson), not renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30)
API_TOKEN_MAX_TTL_DAYS = env_int("API_TOKEN_MAX_TTL_DAYS", 365)
API_TOKEN_TOUCH_SECONDS = env_int("API_TOKEN_TOUCH_SECONDS", 60)
SPECTACULAR_SETTINGS = {
    "TITLE": "Retailer service API",
    "DESCRIPTION": (
        "Retailers, routes, districts, cycles and brands of the branch, scoped to the caller. "
        "Get a token with POST /api/v1/auth/token/ and send it as `Authorization: Bearer …`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RetailerStatusEnum": "retailers.models.RetailerStatus",
        "CycleStatusEnum": "territory.models.CycleStatus",
        "WeekdayEnum": "territory.models.Weekday",
        "GradeEnum": "accounts.models.Grade",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# No broker configured: run tasks eagerly in-process (quick start, DESIGN §3).
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 840)
# A message delivered more often than this (its workers keep dying) is recorded as a dead
# letter and not run again (config/jobs.py).
CELERY_MAX_DELIVERIES = env_int("CELERY_MAX_DELIVERIES", 3)
# Django's LOGGING (JSON in production) stays in charge of the worker's logs too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed the longest task, or a running task is delivered a second time.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # How often unacknowledged messages of dead workers are looked for (seconds ≈ a × b).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
# /health/: the worker heartbeat is sent this often and is stale after the max age; with
# HEALTH_REQUIRE_WORKER a stale or missing heartbeat makes /health/ answer 503.
HEALTH_HEARTBEAT_SECONDS = env_int("HEALTH_HEARTBEAT_SECONDS", 60)
HEALTH_WORKER_MAX_AGE_SECONDS = env_int("HEALTH_WORKER_MAX_AGE_SECONDS", 300)
HEALTH_REQUIRE_WORKER = env_bool("HEALTH_REQUIRE_WORKER", default=False)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "config-heartbeat": {
        "task": "config.tasks.heartbeat",
        "schedule": float(HEALTH_HEARTBEAT_SECONDS),
        # A heartbeat that waited in the queue says nothing about now.
        "options": {"expires": HEALTH_HEARTBEAT_SECONDS},
    },
    "retailers-apply-due-history": {
        "task": "retailers.tasks.apply_due_history",
        "schedule": crontab(hour=0, minute=5),
    },
    # Cycles are weekly, Monday to Sunday: plan the new cycle's visits at its start.
    "visits-plan-cycle": {
        "task": "visits.tasks.plan_visits",
        "schedule": crontab(hour=0, minute=30, day_of_week="mon"),
    },
    # E-settlement (DESIGN §2.3, §2.4, §6): remind the day before order day, send the
    # order-day reminders in the morning, debit the day's orders in the evening, and pay the
    # month-end rebates on the first of the month.
    "settlement-create-balance-reminders": {
        "task": "settlement.tasks.create_balance_reminders",
        "schedule": crontab(hour=15, minute=0),
    },
    "settlement-send-due-reminders": {
        "task": "settlement.tasks.send_due_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "settlement-debit-placed-orders": {
        "task": "settlement.tasks.debit_placed_orders",
        "schedule": crontab(hour=20, minute=0),
    },
    "settlement-month-end-rebates": {
        "task": "settlement.tasks.create_month_end_rebates",
        "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    # Cycle close: points of the ended cycles, then the allocation runs of the next (DESIGN §6).
    "allocation-close-cycles": {
        "task": "allocation.tasks.close_cycles",
        "schedule": crontab(hour=0, minute=30),
    },
    # Quarterly star re-rating (DESIGN §2.6): propose from the quarter that just ended.
    "allocation-propose-star-ratings": {
        "task": "allocation.tasks.propose_star_ratings",
        "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=3, minute=0),
    },
}
# Tests only: seconds a run waits after writing its lines and before committing them, so that
# a test can kill the worker in the middle of a run.
ALLOCATION_COMPUTE_DELAY = env_int("ALLOCATION_COMPUTE_DELAY", 0)

# --- E-settlement (settlement app) ----------------------------------------------------------
# Adapters, chosen by dotted path: the bank that debits orders and the SMS gateway.
SETTLEMENT_BANK = env_str("SETTLEMENT_BANK", "settlement.bank.SimulatedBank")
SETTLEMENT_NOTIFIER = env_str("SETTLEMENT_NOTIFIER", "settlement.notify.RecordingNotifier")
# The simulated bank waits this long per debit (tests use it to kill a worker mid-batch).
SETTLEMENT_SIMULATED_BANK_DELAY_MS = env_int("SETTLEMENT_SIMULATED_BANK_DELAY_MS", 0)
# Expected order amount: the average order total over the last N cycles with an order.
SETTLEMENT_REMINDER_CYCLES = env_int("SETTLEMENT_REMINDER_CYCLES", 4)
# "Large busy" retailers (reminded the day before, before the order call): star at least this,
# or an expected order amount at least this (yuan).
SETTLEMENT_LARGE_STAR = env_int("SETTLEMENT_LARGE_STAR", 4)
SETTLEMENT_LARGE_EXPECTED_AMOUNT = env_int("SETTLEMENT_LARGE_EXPECTED_AMOUNT", 8000)
# The other reminders are sent on the morning of order day, from this hour.
SETTLEMENT_ORDER_DAY_REMINDER_HOUR = env_int("SETTLEMENT_ORDER_DAY_REMINDER_HOUR", 7)
SETTLEMENT_DEBIT_CHUNK_SIZE = env_int("SETTLEMENT_DEBIT_CHUNK_SIZE", 200)
SETTLEMENT_DEBIT_SUCCESS_GOAL = env_int("SETTLEMENT_DEBIT_SUCCESS_GOAL", 95)
SETTLEMENT_IMPORT_MAX_BYTES = env_int("SETTLEMENT_IMPORT_MAX_BYTES", 2 * 1024 * 1024)

# --- Retailer roster import (retailers app) -------------------------------------------------
ROSTER_IMPORT_MAX_BYTES = env_int("ROSTER_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
ROSTER_IMPORT_MAX_ROWS = env_int("ROSTER_IMPORT_MAX_ROWS", 20_000)

# --- Demo data ------------------------------------------------------------------------------
# Seeders run by ``manage.py seed_demo`` in this order; each app adds its own (DESIGN §3).
# Terminal programs (DESIGN §2.6): about this many demonstration stores per route; the
# programs overview warns about routes above it.
DEMONSTRATION_STORES_PER_ROUTE = env_int("DEMONSTRATION_STORES_PER_ROUTE", 5)

DEMO_SEEDERS = [
    "accounts.demo.seed",
    "catalog.demo.seed",
    "territory.demo.seed",
    "retailers.demo.seed",
    "settlement.demo.seed",
    "allocation.demo.seed",
    "visits.demo.seed",
    "visits.programs.demo.seed",
]

# --- Logging --------------------------------------------------------------------------------
# JSON lines in UTC (config/logs.py) with LOG_FORMAT=json, the production default; readable
# lines otherwise. Secrets are redacted on every handler.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logs.RedactingFilter"}},
    "formatters": {
        "plain": {"()": "config.logs.PlainFormatter"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One logger per concern (config/logs.py); they reach the root handler.
        "audit.auth": {"level": "INFO"},
        "audit.authz": {"level": "INFO"},
        "audit.changes": {"level": "INFO"},
        "jobs": {"level": "INFO"},
        "imports": {"level": "INFO"},
    },
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
