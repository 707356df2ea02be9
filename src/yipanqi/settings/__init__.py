"""Settings for yipanqi, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_choice, env_int, env_list, env_str, env_time, env_url

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("YIPANQI_HOME", str(PACKAGE_DIR.parent.parent)) or ".").resolve()
VAR_DIR = Path(env_str("YIPANQI_VAR_DIR", str(BASE_DIR / "var")) or "var").resolve()

# "development" is the embedded default (make run); "production" demands real secrets and passes check --deploy.
MODE = env_choice("YIPANQI_MODE", "development", ("development", "production", "test"))
PRODUCTION = MODE == "production"
DEBUG = env_bool("DEBUG", default=MODE == "development")

_secret = env_str("SECRET_KEY")
if PRODUCTION:
    if not _secret or len(_secret) < 50 or len(set(_secret)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 50 characters in production mode"
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production mode")
SECRET_KEY = _secret or "development-only-insecure-key-yipanqi-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names yipanqi is served under")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "yipanqi.core",
    "yipanqi.directory",
    "yipanqi.ledger",
    "yipanqi.meetings",
    "yipanqi.assistance",
    "yipanqi.intake",
    "yipanqi.evidence",
]

MIDDLEWARE = [
    "yipanqi.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yipanqi.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yipanqi.urls"
WSGI_APPLICATION = "yipanqi.wsgi.application"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "yipanqi.core.context_processors.navigation",
                "yipanqi.core.context_processors.notifications",
            ],
        },
    },
]

# --- Database: SQLite file under var/ by default, PostgreSQL (or anything dj-database-url knows) by URL.
_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if _db.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://…) or SQLite (sqlite:///…)")
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["CONN_HEALTH_CHECKS"] = True
        # Every model choice list (ModelChoiceField iterates its queryset with .iterator()) would otherwise open a
        # server-side cursor WITH HOLD: three round trips and a materialised result for a dozen rows. Nothing here
        # streams results too big for memory; it also keeps transaction-pooling PgBouncer usable.
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "yipanqi.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("TEST", {})["NAME"] = None  # in-memory test database
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
_cache_url = env_str("CACHE_URL")
if _cache_url:
    if not _cache_url.startswith("db://"):
        raise ImproperlyConfigured("CACHE_URL supports db://TABLE_NAME (shared by all app servers)")
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": _cache_url.removeprefix("db://") or "yipanqi_cache",
    }

# --- Passwords: argon2 first.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("LOGIN_THROTTLE", default=True)

# --- Internationalisation: simplified Chinese first, English switchable; time in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "yipanqi_language"

# --- Static files: front-end packages are copied from node_modules into static/vendor by `make assets`.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")) or "static")
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Matplotlib (bulletin charts) keeps its font cache here unless told otherwise: a home directory may be read-only.
os.environ.setdefault("MPLCONFIGDIR", str(VAR_DIR / "matplotlib"))
# Outside production, whitenoise serves straight from the finders (no collectstatic needed for make run / tests).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Security.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 12, minimum=1) * 3600
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
CSRF_FAILURE_VIEW = "yipanqi.core.views.csrf_failure"  # Django's own page needs an inline style the CSP blocks
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024, minimum=1024)

# --- REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "yipanqi.core.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["yipanqi.core.api.permissions.IsAuthenticatedWithScope"],
    "DEFAULT_PAGINATION_CLASS": "yipanqi.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "yipanqi.core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "yipanqi API",
    "DESCRIPTION": "一盘棋：跨区域执法司法协作平台 API (yipanqi cross-regional cooperation platform)",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],  # people and agency systems
    # Several models have a "status" with its own choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "AgreementStatusEnum": "yipanqi.ledger.models.AgreementStatus",
        "MeasureStatusEnum": "yipanqi.ledger.models.MeasureStatus",
        "ShareStatusEnum": "yipanqi.ledger.models.ShareStatus",
        "SupervisionStatusEnum": "yipanqi.ledger.models.SupervisionStatus",
        "AgreementKindEnum": "yipanqi.ledger.models.AgreementKind",
        "SeriesKindEnum": "yipanqi.meetings.models.SeriesKind",
        "DecisionKindEnum": "yipanqi.meetings.models.DecisionKind",
        "RequestStatusEnum": "yipanqi.assistance.models.RequestStatus",
        "EventKindEnum": "yipanqi.assistance.models.EventKind",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our own static files (installed from npm), never from a CDN.
    "SWAGGER_UI_DIST": "/" + STATIC_URL + "vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/" + STATIC_URL + "yipanqi/favicon.svg",
}

# --- Mail: notifications are mailed by the task worker (core/notifications.py). EMAIL_BACKEND takes a short name or
# a dotted path; development prints mails on the worker's console, production sends them over SMTP.
_EMAIL_BACKENDS = {
    name: f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("smtp", "console", "filebased", "locmem", "dummy")
}
_email_backend = (env_str("EMAIL_BACKEND") or ("smtp" if PRODUCTION else "console")).strip()
if _email_backend not in _EMAIL_BACKENDS and "." not in _email_backend:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={_email_backend!r} must be one of {', '.join(_EMAIL_BACKENDS)} or a dotted path to a backend"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = VAR_DIR / "mail"  # for the filebased backend
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other; turn one of them off")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1, maximum=600)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "yipanqi@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in mails (a mail has no request to build them from); production defaults to the first allowed host.
_site_host = ALLOWED_HOSTS[0] if ALLOWED_HOSTS and ALLOWED_HOSTS[0].strip(".*") == ALLOWED_HOSTS[0] else ""
SITE_URL = env_url("SITE_URL", f"https://{_site_host}" if PRODUCTION and _site_host else "http://127.0.0.1:8000")

# --- Background work: Django's tasks API (the django-tasks backport), stored in the database and run by
# `yipanqi db_worker` (docs/worker.md). Daily jobs run once a day at DAILY_JOBS_AT, China Standard Time.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DAILY_JOBS_AT = env_time("DAILY_JOBS_AT", "07:00")

# --- API keys: last use is written at most this often per key, so reads never become writes.
API_KEY_LAST_USED_RESOLUTION_SECONDS = env_int("API_KEY_LAST_USED_RESOLUTION_SECONDS", 300, minimum=0)
# Cached reads of slowly changing data: how long a process trusts its copy of a data version, how long list pages of
# reference data (regions, agencies) and verified API keys stay cached (0 turns the caches off).
DATA_VERSION_TTL_SECONDS = env_int("DATA_VERSION_TTL_MS", 1000, minimum=0) / 1000
API_LIST_CACHE_SECONDS = env_int("API_LIST_CACHE_SECONDS", 300, minimum=0)
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 60, minimum=0)

# Ledger lights (三色督办): blue within N working days of the deadline, yellow when progress trails elapsed time by
# more than the margin (percentage points) or no report came within the reporting cycle plus the grace days.
LEDGER_NEAR_WORKDAYS = env_int("LEDGER_NEAR_WORKDAYS", 5, minimum=0, maximum=60)
LEDGER_BEHIND_MARGIN = env_int("LEDGER_BEHIND_MARGIN", 20, minimum=0, maximum=100)
LEDGER_REPORT_GRACE_DAYS = env_int("LEDGER_REPORT_GRACE_DAYS", 5, minimum=0, maximum=60)
LEDGER_REMIND_WORKDAYS = env_int("LEDGER_REMIND_WORKDAYS", 3, minimum=0, maximum=30)
LEDGER_IMPORT_MAX_BYTES = env_int("LEDGER_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# Assistance requests: the largest attachment, and a dotted path to a callable(file) that scans uploads (e.g. a
# ClamAV client) and raises django.core.exceptions.ValidationError for a file it refuses.
ASSISTANCE_MAX_UPLOAD_BYTES = env_int("ASSISTANCE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
ASSISTANCE_SCAN_HOOK = env_str("ASSISTANCE_SCAN_HOOK", "")
# The deadline sweep (lights, reminders, escalation) runs this often, in minutes.
ASSISTANCE_SWEEP_MINUTES = env_int("ASSISTANCE_SWEEP_MINUTES", 15, minimum=1, maximum=1440)

# Evidence log (存证): the log's origin (the first line of every checkpoint: name it after the host that serves it),
# its signing key (a note signer key "PRIVATE+KEY+…", from EVIDENCE_SIGNING_KEY or the file EVIDENCE_SIGNING_KEY_FILE;
# development creates one in the var directory, tests one per process; production refuses to sign without one), the
# verifier keys of keys rotated out (their checkpoints still verify), and the sequencer's batches.
EVIDENCE_ORIGIN = env_str("EVIDENCE_ORIGIN", "yipanqi.local/evidence") or "yipanqi.local/evidence"
EVIDENCE_SIGNING_KEY = env_str("EVIDENCE_SIGNING_KEY", "") or ""
EVIDENCE_SIGNING_KEY_FILE = env_str("EVIDENCE_SIGNING_KEY_FILE", "" if PRODUCTION else str(VAR_DIR / "evidence.key"))
EVIDENCE_PREVIOUS_KEYS = env_list("EVIDENCE_PREVIOUS_KEYS", [])
EVIDENCE_BATCH_SIZE = env_int("EVIDENCE_BATCH_SIZE", 10000, minimum=1, maximum=100000)
EVIDENCE_BATCH_SECONDS = env_int("EVIDENCE_BATCH_SECONDS", 60, minimum=1, maximum=3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "yipanqi.core.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        # Document rendering libraries narrate every step at INFO (pages laid out, fonts subset).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "matplotlib": {"level": "WARNING"},
    },
}
