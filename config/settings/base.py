"""Settings shared by every environment. Every value comes from the environment.

With nothing set, ParkPay runs on SQLite in the project folder and runs Celery
tasks in-process. With ``DATABASE_URL`` and ``REDIS_URL`` set, it uses that
database and Redis as the Celery broker and result backend.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "audit",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "workforce",
    "payroll",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "workforce.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (its static files are compressed by collectstatic) and
    # before everything that writes the response.
    "config.middleware.CompressTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "workforce.middleware.DefaultChineseLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "workforce.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles, images and fonts only
# from ParkPay itself, no inline script. Inline styles are allowed: the charts
# are inline SVG with style attributes, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # Redoc runs its search in a worker it makes from a blob.
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (config/middleware.py): features no page uses, off.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
# /api/schema/, /api/docs/, /api/redoc/ for anybody, or only for signed-in
# staff (production).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workforce.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes and threads (server, background tasks) share one
    # file: a transaction takes the write lock when it begins, so a writer
    # waits for another (up to the timeout) instead of failing at once with
    # "database is locked" when it upgrades a read lock.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Locks out repeated failed logins before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Two-factor login (workforce/two_factor.py): the issuer authenticator apps show.
OTP_TOTP_ISSUER = "ParkPay"
# Users of the admin (Django staff, superusers) must use two-factor login.
ADMIN_REQUIRES_2FA = env_bool("ADMIN_REQUIRES_2FA", False)

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Media (payslip PDFs) is never served at MEDIA_URL, not even with DEBUG: only
# through the views that check who asks (payroll/payslip_files.py).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

REST_FRAMEWORK = {
    # API keys first: an anonymous API call answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "payroll.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "payroll.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "payroll.api.exceptions.exception_handler",
    # Scoped throttles of the API (payroll/api): creating keys, writes, imports.
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("API_THROTTLE_AUTH", "10/hour"),
        "write": os.environ.get("API_THROTTLE_WRITE", "120/minute"),
        "import": os.environ.get("API_THROTTLE_IMPORT", "60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ParkPay API",
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "PeriodStatusEnum": "payroll.models.PeriodStatus",
        "RunStatusEnum": "payroll.models.RunStatus",
        "SkillLevelEnum": "workforce.models.SkillLevel",
        "ContractEnum": "workforce.models.Contract",
        "GenderEnum": "workforce.models.Gender",
        "AdjustmentKindEnum": "payroll.models.AdjustmentKind",
        "IdentityToolEnum": "payroll.models.IdentityTool",
    },
}
# Largest file the import API accepts (payroll/imports/, docs/imports.md).
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "20")) * 2**20

# Celery: Redis when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# A task whose worker died is handed to another worker after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "1800")),
    # How often (seconds) a worker looks for such tasks.
    "unacked_restore_interval": int(os.environ.get("CELERY_RESTORE_INTERVAL", "10")),
}
if os.environ.get("CELERY_RESTORE_INTERVAL"):
    CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # R1.1: last month's payroll on the 1st at 02:00 park time.
    "payroll-last-month": {
        "task": "payroll.calculate_last_month",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
    "payroll-refresh-current-month": {
        "task": "payroll.refresh_current_month",
        "schedule": crontab(minute=0, hour=3),
    },
    "payroll-expire-stuck-runs": {
        "task": "payroll.expire_stuck_runs",
        "schedule": crontab(minute="*/10"),
    },
    # Work from the parks' Label Studio and CVAT servers (docs/imports.md).
    "connectors-sync": {
        "task": "payroll.sync_connectors",
        "schedule": crontab(minute="*/30"),
    },
    # R15.2: who qualified yesterday is junior from today.
    "training-qualify": {
        "task": "training.qualify",
        "schedule": crontab(minute=30, hour=0),
    },
    # R15.3: every park's training report for last month, on the 1st.
    "training-monthly-reports": {
        "task": "training.monthly_reports",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
}

# Short-lived caches (workers' earnings estimates): shared in Redis when there
# is one, so that every web process forgets an estimate at once.
CACHES = {
    "default": (
        {
            # Django's RedisCache, keeping its client between operations.
            "BACKEND": "workforce.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Sessions are read from the cache (written through to the database) when the
# cache is Redis, shared by every process; a per-process cache would keep a
# session alive in the other processes after its user logged out there.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # In-process tasks would log every task of a payroll run to the console.
    "loggers": {"celery.app.trace": {"level": "WARNING" if not REDIS_URL else "INFO"}},
}

# Payroll splits a park's workers into chunks of this size, one task each.
PAYROLL_CHUNK_SIZE = int(os.environ.get("PAYROLL_CHUNK_SIZE", "500"))
# Seconds a chunk waits before it commits: zero except in fault-injection tests,
# which kill a worker while a chunk is open.
PAYROLL_CHUNK_DELAY = float(os.environ.get("PAYROLL_CHUNK_DELAY", "0"))
# A run with no chunk finished for this long has its unfinished chunks queued
# again by the payroll.expire_stuck_runs beat job (lost broker messages); one
# with no progress for twice CELERY_TASK_TIME_LIMIT is failed instead.
PAYROLL_RUN_RESUME_AFTER_MINUTES = float(
    os.environ.get("PAYROLL_RUN_RESUME_AFTER_MINUTES", "10")
)

# Payslip PDFs (R14): rendered after every payroll run, in chunks of this size.
PAYSLIP_PDF_AFTER_RUN = env_bool("PAYSLIP_PDF_AFTER_RUN", True)
# Without Redis, tasks run in-process: in a thread of the server (payroll/queue.py)
# so that a calculation does not hold the page and its progress bar moves.
PAYROLL_TASKS_IN_THREAD = env_bool("PAYROLL_TASKS_IN_THREAD", not REDIS_URL)
PAYSLIP_PDF_CHUNK_SIZE = int(os.environ.get("PAYSLIP_PDF_CHUNK_SIZE", "200"))
