"""Production settings: the same as base, but refuse to start without the secrets.

``python manage.py check --deploy --fail-level WARNING`` passes with these settings and the
required environment (``tests/test_security_settings.py`` runs it).
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

from .base import *  # noqa: F403
from .base import LOGGING

SECRET_KEY = env_str("SECRET_KEY", required=True)
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", required=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [], required=True)
if env_bool("DEBUG", default=False):
    raise ImproperlyConfigured("DEBUG must not be on in production (config.settings.production).")
DEBUG = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS: a TLS-terminating proxy in front sets X-Forwarded-Proto (and must overwrite any the
# client sent). Plain-HTTP requests are redirected, except the health probe from inside.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# JSON log lines by default (config/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"
