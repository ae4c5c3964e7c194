"""Settings, read from the environment (SPEC §13) with safe defaults.

The embedded default is a SQLite file under ``var/`` and the django-q2 ORM broker; set
``DATABASE_URL`` (PostgreSQL) and ``Q_BROKER`` (a ``redis://`` URL) to scale out.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PHOTOLIB_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(set DJANGO_DEBUG=1 for a local trial)."
        )
    SECRET_KEY = "insecure-debug-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.admin_site.PhotolibAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "csp",
    "core",
    "projects",
    "photos",
    "jobs",
    "sharing",
]

MIDDLEWARE = [
    # Outermost: under ASGI file responses (WhiteNoise's included) stream by an async iterator.
    "config.async_files.AsyncFileResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The client's X-Request-ID, echoed into the events its request writes (jobs.events).
    "config.request_id.RequestIdMiddleware",
    # Last: turns a login refused by the throttle into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "projects.context_processors.role_capabilities",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is shared by the web process, both clusters and the scheduler: WAL lets readers run
# beside the writer, IMMEDIATE takes the write lock at BEGIN so two writers queue on the busy
# timeout instead of failing on lock upgrade.
SQLITE_PATH = VAR_DIR / "photolib.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Worker processes started by tests must open the same file: never an in-memory test db.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get(
            "SQLITE_TEST_PATH", str(Path(DATABASES["default"]["NAME"]).with_suffix(".test.sqlite3"))
        )
    }
    # SQLite creates the file but not its folder: a fresh clone has no var/ yet.
    for _sqlite_file in (DATABASES["default"]["NAME"], DATABASES["default"]["TEST"]["NAME"]):
        Path(_sqlite_file).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The admin's site-wide styles and the dashboard's script (templates/ has their pages).
STATICFILES_DIRS = [BASE_DIR / "static"]
# Content-hashed names, ES module imports rewritten (config/static_storage.py): `serve` runs
# collectstatic first. With DEBUG on, `{% static %}` names the plain files, no collect needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.static_storage.HashedStaticStorage"},
}
# The ASGI server serves admin assets through WhiteNoise, straight from the app folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "admin:login"

# --- Login throttling (SPEC §14, docs/SECURITY.md#login-throttling) -------------------------
# django-axes checks every password login (the admin's form, which the workspace and the
# dashboard use too) before the password is tested: after LOGIN_FAILURE_LIMIT failures of one
# account from one address, that pair is refused for LOGIN_COOLOFF_MINUTES (a failure meanwhile
# restarts the wait). Other accounts from that address, and that account from elsewhere, are
# not affected. `manage.py axes_reset_username NAME` (or `axes_reset`) lifts a lock early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The address of a login: REMOTE_ADDR, or behind DJANGO_PROXY_COUNT reverse proxies the entry
# they appended to X-Forwarded-For (config/client_address.py).
DJANGO_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
# Attempts are logged by axes itself; its per-login success log is not needed.
AXES_DISABLE_ACCESS_LOG = True

# --- HTTPS (SPEC §14, docs/OPERATIONS.md#https) ---------------------------------------------
# Off by default so `bin/run` works over plain HTTP; the production environment of
# docs/OPERATIONS.md turns them on and passes `manage.py check --deploy` with no warning.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", False)
# "HEADER,value", e.g. "X-Forwarded-Proto,https": a request carrying it came over HTTPS. Set it
# only behind a proxy that always sets (or strips) that header.
_proxy_ssl_header = env_list("DJANGO_SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must be 'Header-Name,value', e.g. X-Forwarded-Proto,https"
        )
    _header = _proxy_ssl_header[0].upper().replace("-", "_")
    SECURE_PROXY_SSL_HEADER = (
        _header if _header.startswith("HTTP_") else f"HTTP_{_header}",
        _proxy_ssl_header[1],
    )

# --- Content-Security-Policy (SPEC §14, docs/SECURITY.md#content-security-policy) -----------
# Every page: scripts, styles, images and connections from this origin only; no inline script
# or style, no plugins, no framing. The API docs and DRF's browsable API relax style-src
# (their vendored templates carry inline styles): config/csp.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Photos ---------------------------------------------------------------------------------
PHOTOS_ROOT = Path(os.environ.get("PHOTOS_ROOT", VAR_DIR / "photos")).resolve()
# Watermarked renditions served through share links (sharing/gallery/watermark.py): a cache,
# outside PHOTOS_ROOT, safe to delete at any time.
SHARE_RENDITIONS_ROOT = Path(
    os.environ.get("SHARE_RENDITIONS_ROOT", VAR_DIR / "cache" / "share-renditions")
).resolve()
# How long an image URL of a gallery stays valid (seconds; URLs change once an hour at most,
# so browsers cache them).
SHARE_IMAGE_URL_SECONDS = env_int("SHARE_IMAGE_URL_SECONDS", 2 * 3600)
PHOTOS_MAX_UPLOAD_BYTES = env_int("PHOTOS_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("PHOTOS_MAX_UPLOAD_FILES", 500)
# Exports (SPEC §18): ZIPs and their staging folders, never inside PHOTOS_ROOT (a scan would
# take an export's JPEGs for photos); deleted by maintenance EXPORT_TTL_HOURS after completion.
EXPORTS_ROOT = Path(os.environ.get("EXPORTS_ROOT", VAR_DIR / "exports")).resolve()
if EXPORTS_ROOT == PHOTOS_ROOT or EXPORTS_ROOT.is_relative_to(PHOTOS_ROOT):
    raise ImproperlyConfigured("EXPORTS_ROOT must not be inside PHOTOS_ROOT")
EXPORT_TTL_HOURS = env_int("EXPORT_TTL_HOURS", 72)
# Request body caps, enforced by the ASGI app before Django reads the body (413 past them):
# every request, and authenticated uploads to /api/projects/<id>/upload (config/body_limit.py).
PIPELINE_MAX_BODY_BYTES = env_int("PIPELINE_MAX_BODY_BYTES", 10 * 1024 * 1024)
PIPELINE_MAX_UPLOAD_BYTES = env_int("PIPELINE_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024)

# --- Pipeline knobs (SPEC §7, §8, §13) ------------------------------------------------------
PIPELINE_PRIORITY_THRESHOLD = env_int("PIPELINE_PRIORITY_THRESHOLD", 90)
PIPELINE_PRIORITY_WORKERS = env_int("PIPELINE_PRIORITY_WORKERS", 1)
PIPELINE_DEFAULT_WORKERS = env_int("PIPELINE_DEFAULT_WORKERS", 1)
PIPELINE_HEARTBEAT_SECONDS = env_int("PIPELINE_HEARTBEAT_SECONDS", 5)
PIPELINE_STALE_SECONDS = env_int("PIPELINE_STALE_SECONDS", 60)
# At most one job_progress event per running job per this many seconds (and one at its end).
PIPELINE_PROGRESS_EVENT_SECONDS = env_int("PIPELINE_PROGRESS_EVENT_SECONDS", 1)
PIPELINE_WAKE_RESEND_SECONDS = env_int("PIPELINE_WAKE_RESEND_SECONDS", 30)
# A wake-up sent less than this long ago and not yet taken by a worker makes the next ones
# unnecessary (jobs.lanes.wake_lane_coalesced); 0 sends one message per enqueue.
PIPELINE_WAKE_COALESCE_SECONDS = env_int("PIPELINE_WAKE_COALESCE_SECONDS", 5)
PIPELINE_MAX_ATTEMPTS = env_int("PIPELINE_MAX_ATTEMPTS", 3)
PIPELINE_RETRY_BASE_SECONDS = env_int("PIPELINE_RETRY_BASE_SECONDS", 10)
PIPELINE_RETRY_MAX_SECONDS = env_int("PIPELINE_RETRY_MAX_SECONDS", 3600)
# A django-q2 task keeps claiming jobs of its lane for up to this long, then hands over.
PIPELINE_WORKER_BATCH_SECONDS = env_int("PIPELINE_WORKER_BATCH_SECONDS", 60)
# django-q2 kills a task after this long; it must exceed the longest single job.
PIPELINE_TASK_TIMEOUT_SECONDS = env_int("PIPELINE_TASK_TIMEOUT_SECONDS", 6 * 3600)
PIPELINE_TRASH_TTL_SECONDS = env_int("PIPELINE_TRASH_TTL_SECONDS", 24 * 3600)
# Resumable (tus) uploads not written to for this long are deleted by maintenance with their
# partial files (photos/tus.py).
PIPELINE_UPLOAD_TTL_HOURS = float(os.environ.get("PIPELINE_UPLOAD_TTL_HOURS", "24"))
PIPELINE_EVENT_RETENTION_DAYS = env_int("PIPELINE_EVENT_RETENTION_DAYS", 30)
PIPELINE_JOB_RETENTION_DAYS = env_int("PIPELINE_JOB_RETENTION_DAYS", 30)
PIPELINE_MANIFEST_CHUNK = env_int("PIPELINE_MANIFEST_CHUNK", 2000)
# Photos per transaction of the per-photo work: a commit (file_removal), a revert, a move
# (image_move_files) and the derivatives jobs. A batch's files change first, then its rows,
# events and item statuses commit together.
PIPELINE_COMMIT_BATCH = env_int("PIPELINE_COMMIT_BATCH", 100)
# The longest a batch of derivative work runs before its rows are written: a thumbnail made
# is announced (its row and `item` event) within about this many seconds.
PIPELINE_BATCH_SECONDS = env_int("PIPELINE_BATCH_SECONDS", 1)
# How often a running job reads its row for a cancel request between the heartbeat's beats
# (``JobContext.check_cancel``); 0: at every item boundary.
PIPELINE_CANCEL_POLL_SECONDS = env_float("PIPELINE_CANCEL_POLL_SECONDS", 1.0)
# The longest an upload's preview step waits, before each photo, while thumbnails of the same
# tenant are queued or being made (thumbnails first across uploads, SPEC §6); 0: never waits.
PIPELINE_PREVIEW_YIELD_SECONDS = env_float("PIPELINE_PREVIEW_YIELD_SECONDS", 30.0)
# Check every project in maintenance_global, changed or not (network filesystems whose folder
# mtimes cannot be trusted); `manage.py maintenance --full` does it for one run.
PIPELINE_MAINTENANCE_FULL = env_bool("PIPELINE_MAINTENANCE_FULL", False)
# Frames of one camera less than this many seconds apart (sub-seconds counted) are a burst.
PIPELINE_BURST_SECONDS = env_float("PIPELINE_BURST_SECONDS", 1.0)
PIPELINE_THUMB_SIZE = env_int("PIPELINE_THUMB_SIZE", 800)
PIPELINE_THUMB_QUALITY = env_int("PIPELINE_THUMB_QUALITY", 50)
PIPELINE_PREVIEW_SIZE = env_int("PIPELINE_PREVIEW_SIZE", 5000)
PIPELINE_PREVIEW_QUALITY = env_int("PIPELINE_PREVIEW_QUALITY", 60)
# Full-size renditions for the loupe's 100 % view (HEIC, PNG/TIFF, RAW), made on demand.
PIPELINE_FULLSIZE_CACHE_DIR = Path(
    os.environ.get("PIPELINE_FULLSIZE_CACHE_DIR", VAR_DIR / "cache" / "fullsize")
)
# The loupe's fitted view: the preview fitted within this many pixels, made on demand (SPEC §17).
PIPELINE_SCREEN_SIZE = env_int("PIPELINE_SCREEN_SIZE", 2048)
PIPELINE_SCREEN_CACHE_DIR = Path(
    os.environ.get("PIPELINE_SCREEN_CACHE_DIR", VAR_DIR / "cache" / "screen")
)
# Derivative engine: "auto" (pyvips when it can be imported, else Pillow), "pyvips", "pillow".
PIPELINE_IMAGE_ENGINE = os.environ.get("PIPELINE_IMAGE_ENGINE", "").strip().lower() or "auto"
if PIPELINE_IMAGE_ENGINE not in {"auto", "pyvips", "pillow"}:
    raise ImproperlyConfigured("PIPELINE_IMAGE_ENGINE must be auto, pyvips or pillow")
# Write ratings and colour labels set through the API back to the photos' XMP sidecars
# (only xmp:Rating and xmp:Label change; the rest of the XMP is kept).
PIPELINE_WRITE_XMP = env_bool("PIPELINE_WRITE_XMP", False)
PIPELINE_MAINTENANCE_INTERVAL_MINUTES = env_int("PIPELINE_MAINTENANCE_INTERVAL_MINUTES", 60)
PIPELINE_SCAVENGE_INTERVAL_MINUTES = env_int("PIPELINE_SCAVENGE_INTERVAL_MINUTES", 60)
PIPELINE_DISCOVERY_INTERVAL_MINUTES = env_int("PIPELINE_DISCOVERY_INTERVAL_MINUTES", 5)
PIPELINE_SWEEP_INTERVAL_MINUTES = env_int("PIPELINE_SWEEP_INTERVAL_MINUTES", 1)
PIPELINE_PRUNE_INTERVAL_MINUTES = env_int("PIPELINE_PRUNE_INTERVAL_MINUTES", 24 * 60)
# The model job items and events name (``JobItem.photo``, ``Event.photo``); its app registers the
# item source (``jobs.registry.item_source_register``).
PIPELINE_ITEM_MODEL = "photos.Photo"
# Modules whose import registers job handlers; extra ones (tests, plugins) come from the env.
PIPELINE_HANDLER_MODULES = [
    "photos.handlers",
    "sharing.handlers",
    *env_list("PIPELINE_EXTRA_HANDLER_MODULES"),
]

# --- django-q2 ------------------------------------------------------------------------------
# One cluster per lane and one for the schedules. The main cluster is the `default` lane;
# Q_CLUSTER_NAME=priority runs the priority lane and Q_CLUSTER_NAME=scheduler the scheduler
# (jobs.scheduling.SCHEDULE_CLUSTER): its one worker runs only the schedules' own short
# functions (start a task, sweep, prune), so a tick never waits behind a long job (SPEC §8).
# `serve` starts all three.
PIPELINE_SCHEDULER_TIMEOUT_SECONDS = env_int("PIPELINE_SCHEDULER_TIMEOUT_SECONDS", 30 * 60)
Q_BROKER = os.environ.get("Q_BROKER", "orm")
Q_CLUSTER: dict = {
    "name": "photolib",
    "cluster_name": "default",
    "workers": PIPELINE_DEFAULT_WORKERS,
    "recycle": 500,
    "timeout": PIPELINE_TASK_TIMEOUT_SECONDS,
    "retry": PIPELINE_TASK_TIMEOUT_SECONDS + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 200,
    "poll": 0.2,
    "label": "Task queue",
    # The lanes look for no schedules; the scheduler cluster does.
    "scheduler": False,
    "ALT_CLUSTERS": {
        "priority": {
            "workers": PIPELINE_PRIORITY_WORKERS,
            "timeout": PIPELINE_TASK_TIMEOUT_SECONDS,
            "retry": PIPELINE_TASK_TIMEOUT_SECONDS + 60,
        },
        "scheduler": {
            "workers": 1,
            "scheduler": True,
            "timeout": PIPELINE_SCHEDULER_TIMEOUT_SECONDS,
            "retry": PIPELINE_SCHEDULER_TIMEOUT_SECONDS + 60,
            # A tick waits up to 30 s for the scheduler's look anyway: poll the ORM broker
            # once a second, not five times.
            "poll": 1.0,
        },
    },
}
if Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
elif Q_BROKER.startswith(("redis://", "rediss://", "unix://")):
    Q_CLUSTER["redis"] = Q_BROKER
else:
    raise ImproperlyConfigured(f"Q_BROKER must be 'orm' or a redis:// URL, got {Q_BROKER!r}")

# --- Cache ----------------------------------------------------------------------------------
# API throttle counts live here, so every web process must see the same cache: the database on
# the embedded default (table created by migration jobs 0003), Redis when the broker is Redis
# (PIPELINE_CACHE_URL picks another Redis database or server).
PIPELINE_CACHE_TABLE = "pipeline_cache"
if Q_BROKER == "orm":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": PIPELINE_CACHE_TABLE,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("PIPELINE_CACHE_URL") or Q_BROKER,
            "KEY_PREFIX": "photolib",
        }
    }

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with ``WWW-Authenticate: Token``.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view: signed in, and the role allows the view's declared action (SPEC §14); a
    # write without a declaration is refused (projects/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "projects.api.permissions.RolePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # DRF's, with the inline styles its templates need (core/api/renderers.py).
        "core.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageSizePagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "commit": os.environ.get("THROTTLE_COMMIT", "10/5min"),
        "project_write": os.environ.get("THROTTLE_PROJECT_WRITE", "10/5min"),
        "maintenance": os.environ.get("THROTTLE_MAINTENANCE", "5/10min"),
        "bulk": os.environ.get("THROTTLE_BULK", "120/min"),
        # Resumable uploads started: one per file, so a folder of a shoot counts each photo.
        "uploads": os.environ.get("THROTTLE_UPLOADS", "1200/min"),
        "export": os.environ.get("THROTTLE_EXPORT", "20/10min"),
        # The client's gallery (/s/<token>/, sharing/gallery/): every request per client
        # address (a 300-photo gallery loads 300 thumbnails), and password attempts per
        # address and link.
        "gallery": os.environ.get("THROTTLE_GALLERY", "1200/min"),
        "gallery_password": os.environ.get("THROTTLE_GALLERY_PASSWORD", "5/15min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Photo library API",
    "DESCRIPTION": "Projects, photos and the job pipeline of a self-hosted photo library.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets are served by this server, not fetched from a CDN: self-hosted and
    # offline installs get working API docs.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        # Jobs and task runs share one set of statuses.
        "RunStatusEnum": "jobs.models.JobStatus",
        "JobItemStatusEnum": "jobs.models.JobItemStatus",
        "ProjectStatusEnum": "projects.models.Project.Status",
        "DerivativeStatusEnum": "photos.models.DerivativeStatus",
    },
}
# Server-Sent Events (GET /api/events/stream): how often a stream polls the outbox, how often
# it sends a heartbeat comment, and how long one response lasts before the client reconnects
# with Last-Event-ID (0: no limit).
EVENTS_STREAM_POLL_SECONDS = float(os.environ.get("EVENTS_STREAM_POLL_SECONDS", "1"))
EVENTS_STREAM_HEARTBEAT_SECONDS = float(os.environ.get("EVENTS_STREAM_HEARTBEAT_SECONDS", "15"))
EVENTS_STREAM_MAX_SECONDS = float(os.environ.get("EVENTS_STREAM_MAX_SECONDS", "3600"))
# How open streams learn of new events (jobs/wakeups.py): "auto" (PostgreSQL LISTEN/NOTIFY on
# PostgreSQL, else Redis pub/sub with a Redis broker, else polling), "postgres", "redis" or
# "poll". Woken streams still look every EVENTS_STREAM_SAFETY_POLL_SECONDS.
EVENTS_WAKEUP = os.environ.get("EVENTS_WAKEUP", "auto").strip().lower()
if EVENTS_WAKEUP not in {"auto", "postgres", "redis", "poll"}:
    raise ImproperlyConfigured("EVENTS_WAKEUP must be auto, postgres, redis or poll")
EVENTS_WAKEUP_REDIS_URL = os.environ.get("EVENTS_WAKEUP_REDIS_URL") or (
    Q_BROKER if Q_BROKER != "orm" else "redis://127.0.0.1:6379/0"
)
EVENTS_STREAM_SAFETY_POLL_SECONDS = float(os.environ.get("EVENTS_STREAM_SAFETY_POLL_SECONDS", "20"))
# Open event streams per user and per web process (SPEC §14): 429 with Retry-After beyond
# either (jobs/api/stream_slots.py). Each open stream holds a socket (a file descriptor), so
# the per-process cap must stay well under the process's LimitNOFILE (docs/OPERATIONS.md).
EVENT_STREAMS_PER_USER = env_int("EVENT_STREAMS_PER_USER", 8)
EVENT_STREAMS_PER_PROCESS = env_int("EVENT_STREAMS_PER_PROCESS", 200)

# The console shows one line when a job starts, one when it ends, and warnings. django-q2 logs
# a line per wake-up message at INFO: shown only with PIPELINE_LOG_LEVEL=DEBUG.
PIPELINE_LOG_LEVEL = os.environ.get("PIPELINE_LOG_LEVEL", "").strip().upper() or "INFO"
if PIPELINE_LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise ImproperlyConfigured("PIPELINE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
# Loggers that write a line per request or per failed attempt, and so can flood the log when
# something goes wrong at scale (refused streams, 4xx answers, accept() out of file
# descriptors, an ASGI error per request): each message (logger + level + template) passes at
# most LOG_REPEAT_LIMIT times per LOG_REPEAT_SECONDS, then one line says how many were held
# back (config/log_filters.py). A filter on a logger sees only that logger's own records.
LOG_REPEAT_LIMIT = env_int("LOG_REPEAT_LIMIT", 20)
LOG_REPEAT_SECONDS = env_int("LOG_REPEAT_SECONDS", 60)
FLOODABLE_LOGGERS = [
    "asyncio",
    "django.request",
    "django.security.DisallowedHost",
    "django.server",
    "jobs.api.stream",
    "jobs.api.stream_slots",
    "jobs.wakeups",
    "uvicorn.error",
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "repeats": {
            "()": "config.log_filters.RepeatedMessageFilter",
            "limit": LOG_REPEAT_LIMIT,
            "seconds": LOG_REPEAT_SECONDS,
        },
        "share_tokens": {"()": "config.log_filters.ShareTokenFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["share_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "jobs": {"level": PIPELINE_LOG_LEVEL},
        "photos": {"level": PIPELINE_LOG_LEVEL},
        "projects": {"level": PIPELINE_LOG_LEVEL},
        "django-q": {"level": "DEBUG" if PIPELINE_LOG_LEVEL == "DEBUG" else "WARNING"},
        # Login failures and lockouts (INFO/WARNING) stay; not the version line at each start.
        "axes.apps": {"level": "WARNING"},
        # Only filters: a logger configured here keeps its level and propagation, and its
        # records still reach the handlers above (or uvicorn's own, for uvicorn.error).
        **{name: {"filters": ["repeats"]} for name in FLOODABLE_LOGGERS},
    },
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    X_FRAME_OPTIONS = "DENY"
