"""Settings for CivicLoop, read from the environment (CIVICLOOP_*, DATABASE_URL).

Defaults give a working laptop install on SQLite; production must set a secret.
"""

import json
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("CIVICLOOP_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("CIVICLOOP_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("CIVICLOOP_DEBUG", False)
PRODUCTION = env_bool("CIVICLOOP_PRODUCTION", False)
_DEV_SECRET = "civicloop-development-only-secret-key-change-me-in-production"
SECRET_KEY = os.environ.get("CIVICLOOP_SECRET_KEY", _DEV_SECRET)
if PRODUCTION and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured(
        "CIVICLOOP_SECRET_KEY must be set to a long random value when CIVICLOOP_PRODUCTION is on."
    )

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "CIVICLOOP_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver"
    ).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CIVICLOOP_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_tasks",
    "django_tasks_db",
    "civicloop.core",
    "civicloop.places",
    "civicloop.catalogue",
    "civicloop.staff",
    "civicloop.people",
    "civicloop.cases",
    "civicloop.trust",
    "civicloop.demo",
    "civicloop.linkage",
    "civicloop.intake",
    "civicloop.portal",
    "civicloop.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "civicloop.urls"
WSGI_APPLICATION = "civicloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicloop.staff.context.staff_context",
            ],
        },
    },
]

# Database: embedded SQLite by default, anything dj-database-url understands otherwise.
DEFAULT_SQLITE = VAR_DIR / "civicloop.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DEFAULT_SQLITE)}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; synchronous=FULL makes every commit durable.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("CIVICLOOP_TEST_SQLITE") or None}

IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "staff:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("CIVICLOOP_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("CIVICLOOP_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Outgoing email (notifications) through Django's SMTP backend; docs/notifications.md.
EMAIL_BACKEND = os.environ.get(
    "CIVICLOOP_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("CIVICLOOP_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("CIVICLOOP_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("CIVICLOOP_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CIVICLOOP_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CIVICLOOP_EMAIL_STARTTLS", False)
EMAIL_USE_SSL = env_bool("CIVICLOOP_EMAIL_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("CIVICLOOP_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("CIVICLOOP_FROM_EMAIL", "CivicLoop <no-reply@localhost>")

CIVICLOOP = {
    "AGENCY_NAME": os.environ.get("CIVICLOOP_AGENCY_NAME", "City of Riverton"),
    # The address citizens reach the site at: links in notifications start with it.
    "PUBLIC_BASE_URL": os.environ.get("CIVICLOOP_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
    # Where citizens write to; notifications name it as Reply-To.
    "INTAKE_EMAIL": os.environ.get("CIVICLOOP_INTAKE_EMAIL", ""),
    "SMS": {
        "PROVIDER": os.environ.get("CIVICLOOP_SMS_PROVIDER", "log"),  # "log" or "twilio"
        "URL": os.environ.get("CIVICLOOP_SMS_URL", "https://api.twilio.com"),
        "ACCOUNT": os.environ.get("CIVICLOOP_SMS_ACCOUNT", ""),
        "TOKEN": os.environ.get("CIVICLOOP_SMS_TOKEN", ""),
        "FROM": os.environ.get("CIVICLOOP_SMS_FROM", ""),
        "DEFAULT_COUNTRY_CODE": os.environ.get("CIVICLOOP_SMS_COUNTRY_CODE", "44"),
        "TIMEOUT": float(os.environ.get("CIVICLOOP_SMS_TIMEOUT", "10")),
    },
    "NOTIFY_MAX_ATTEMPTS": int(os.environ.get("CIVICLOOP_NOTIFY_MAX_ATTEMPTS", "5")),
    "NOTIFY_RETRY_SECONDS": int(os.environ.get("CIVICLOOP_NOTIFY_RETRY_SECONDS", "60")),
    "SEARCH_PAGE_SIZE": 20,
    # A person search counts its matches exactly up to this many; beyond, "more than".
    "SEARCH_COUNT_LIMIT": 200,
    "TIMELINE_PAGE_SIZE": 25,
    "IDEMPOTENCY_TTL_HOURS": 24,
    # Requests each client may make per window on the public endpoints and forms, as
    # "COUNT/PERIOD" by scope (core/ratelimit.py); CIVICLOOP_RATE_LIMITS (JSON) overrides.
    "RATE_LIMITS": {
        "default": "120/minute",
        "open311.read": "300/minute",
        "open311.write": "60/minute",
        "open311.client": "600/minute",
        "portal.read": "300/minute",
        "portal.form": "60/minute",
        "portal.submit": "10/hour",
        "portal.track": "30/minute",
        **json.loads(os.environ.get("CIVICLOOP_RATE_LIMITS") or "{}"),
    },
    # A report this close (metres) and recent (days) to an open one of its service may repeat it.
    "DUPLICATE_DISTANCE_M": float(os.environ.get("CIVICLOOP_DUPLICATE_DISTANCE_M", "50")),
    "DUPLICATE_DAYS": int(os.environ.get("CIVICLOOP_DUPLICATE_DAYS", "30")),
}

# Reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma separated.
CIVICLOOP_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("CIVICLOOP_TRUSTED_PROXIES", "").split(",") if p.strip()
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": sys.stderr}},
    "root": {"handlers": ["console"], "level": os.environ.get("CIVICLOOP_LOG_LEVEL", "WARNING")},
}
