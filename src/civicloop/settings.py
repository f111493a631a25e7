"""Settings for CivicLoop, read from the environment (CIVICLOOP_*, DATABASE_URL).

Defaults give a working laptop install on SQLite; production must set a secret.
"""

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

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

# Uploaded files (portal photos, case attachments) go through Django's storage API: the
# local disk by default, an S3-compatible bucket when CIVICLOOP_S3_BUCKET is set.
S3_VARIABLES = (
    "CIVICLOOP_S3_BUCKET",
    "CIVICLOOP_S3_ENDPOINT_URL",
    "CIVICLOOP_S3_REGION",
    "CIVICLOOP_S3_ACCESS_KEY",
    "CIVICLOOP_S3_SECRET_KEY",
    "CIVICLOOP_S3_PREFIX",
    "CIVICLOOP_S3_ADDRESSING_STYLE",
)
_S3_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def s3_storage(environ: Mapping[str, str]) -> dict | None:
    """STORAGES["default"] for the bucket CIVICLOOP_S3_BUCKET names, or None when it is unset.

    A configuration that cannot work raises ImproperlyConfigured at start-up rather than
    failing a citizen's first upload.
    """

    def value(name: str) -> str:
        return (environ.get(name) or "").strip()

    bucket = value("CIVICLOOP_S3_BUCKET")
    if not bucket:
        stray = [name for name in S3_VARIABLES if value(name)]
        if stray:
            raise ImproperlyConfigured(
                f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} set but "
                "CIVICLOOP_S3_BUCKET is not: set the bucket to keep uploads in object storage, "
                "or unset them to keep uploads on the local disk."
            )
        return None
    if not _S3_BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise ImproperlyConfigured(
            f"CIVICLOOP_S3_BUCKET={bucket!r} is not a bucket name: 3 to 63 lowercase letters, "
            "digits, dots or hyphens, starting and ending with a letter or digit (the bucket's "
            "name alone, not its URL)."
        )
    missing = [n for n in ("CIVICLOOP_S3_ACCESS_KEY", "CIVICLOOP_S3_SECRET_KEY") if not value(n)]
    if missing:
        raise ImproperlyConfigured(
            f"CIVICLOOP_S3_BUCKET is set but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not: object storage needs both keys."
        )
    endpoint = value("CIVICLOOP_S3_ENDPOINT_URL")
    if endpoint:
        problem = ""
        try:
            parts = urlsplit(endpoint)
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        except ValueError:
            problem = "it cannot be read as a URL"
        else:
            if parts.scheme not in ("http", "https"):
                problem = "it must start with https:// or http://"
            elif not parts.hostname:
                problem = "it names no host"
            elif parts.username is not None or parts.password is not None:
                problem = "put the keys in CIVICLOOP_S3_ACCESS_KEY and CIVICLOOP_S3_SECRET_KEY"
            elif parts.query or parts.fragment:
                problem = "it must not carry a query or a fragment"
        if problem:
            shown = "" if "@" in endpoint else f"={endpoint!r}"  # never repeat a password
            raise ImproperlyConfigured(
                f"CIVICLOOP_S3_ENDPOINT_URL{shown} is not an S3 endpoint URL ({problem}); "
                "e.g. https://minio.example.org:9000, or leave it unset for Amazon S3."
            )
    addressing_style = value("CIVICLOOP_S3_ADDRESSING_STYLE")
    if addressing_style not in ("", "auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"CIVICLOOP_S3_ADDRESSING_STYLE={addressing_style!r}: use path, virtual or auto."
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint or None,
            "region_name": value("CIVICLOOP_S3_REGION") or None,
            "access_key": value("CIVICLOOP_S3_ACCESS_KEY"),
            "secret_key": value("CIVICLOOP_S3_SECRET_KEY"),
            "location": value("CIVICLOOP_S3_PREFIX").strip("/"),
            "addressing_style": addressing_style or None,
            # Private objects: no ACL header (the bucket's own, private, policy applies;
            # buckets that enforce ownership refuse ACLs), and any URL made is signed.
            "default_acl": None,
            "querystring_auth": True,
            # Two uploads of the same name both survive: the second gets a new name.
            "file_overwrite": False,
        },
    }


STORAGES = {
    "default": s3_storage(os.environ)
    or {
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
