"""Switchboard settings: every value comes from the environment (see .env.example).

With nothing configured the hub runs on embedded defaults: SQLite, a local-memory cache, the
in-memory channel layer and Celery tasks executed in-process. Setting DATABASE_URL, REDIS_URL
and CELERY_BROKER_URL switches to the production stack (PostgreSQL, Redis, a Celery worker).
"""

import datetime
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and (DEBUG or env.bool("SWITCHBOARD_ALLOW_INSECURE_KEY", default=False)):
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
# With DEBUG off and no key, commands that need none (makemigrations, check) still run; Django
# refuses any use of the empty key, and the HTTP servers refuse to start (config/startup.py).

# Machine credentials (device keys, provisioning secrets, API tokens) are stored as
# HMAC-SHA256 digests under this key: fast to check on hot paths, useless if the table leaks.
CREDENTIAL_HASH_KEY = env.str("CREDENTIAL_HASH_KEY", default=SECRET_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A CSRF failure on an API or device path is answered as JSON, like every other error there.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our own static files: the docs work without a CDN.
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "config.apps.SwitchboardConfig",
    "devices",
    "integrations",
    "bots",
]

MIDDLEWARE = [
    # HTTP server metrics for /metrics (django-prometheus): first and last, to time everything.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Innermost: turns a login that django-axes locked out into the 429 (config/login_throttle.py),
    # before the metrics count its status.
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# prometheus_client's multiprocess mode needs its directory to exist before the first metric
# is written; each container of docker-compose has one of its own (config/metrics.py says why).
if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    Path(env.str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="sb"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [env.str("CHANNELS_REDIS_URL", default=REDIS_URL)],
                "prefix": env.str("CHANNELS_PREFIX", default="sb-asgi"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: without a broker, tasks run in-process (embedded mode); on_commit still defers them.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="switchboard")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Events are enqueued after commit inside requests: a broker that does not answer must not
# hold a registration for long (the outbox row stays and beat re-enqueues it).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Workers keep the LOGGING below (JSON lines, webhook tokens masked) instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "redispatch-stuck-device-events": {
        "task": "devices.tasks.redispatch_pending_events",
        "schedule": 60.0,
    },
    "detect-offline-devices": {
        "task": "devices.tasks.detect_offline_devices",
        "schedule": 60.0,
    },
    # A safety net: a push schedules a drain; this catches one whose task was lost.
    "drain-webhook-inbox": {
        "task": "integrations.webhooks.tasks.drain_webhook_inbox",
        "schedule": 30.0,
    },
    "redispatch-unprocessed-webhook-deliveries": {
        "task": "integrations.webhooks.tasks.redispatch_unprocessed_deliveries",
        "schedule": 60.0,
    },
    # Runs whose task the broker lost, and runs whose worker died (integrations/runs.py).
    "recover-integration-runs": {
        "task": "integrations.run_tasks.recover_integration_runs",
        "schedule": env.float("INTEGRATIONS_RUN_RECOVER_SECONDS", default=30.0),
    },
    # Cached device records a change could not drop while the cache was unreachable.
    "retry-delivery-invalidations": {
        "task": "devices.tasks.retry_delivery_invalidations",
        "schedule": env.float("DEVICES_DELIVERY_REPAIR_SECONDS", default=10.0),
    },
    # A safety net for the Telegram update inbox, as for the webhook inbox.
    "drain-telegram-updates": {
        "task": "bots.telegram.tasks.drain_telegram_updates",
        "schedule": 30.0,
    },
    # The webhook state /health/ and the admin show (bots/telegram/webhook.py).
    "check-telegram-webhook": {
        "task": "bots.telegram.tasks.check_telegram_webhook",
        "schedule": env.float("BOTS_TELEGRAM_WEBHOOK_CHECK_SECONDS", default=300.0),
    },
    # Notifications a lost worker left mid-send, and pending ones whose flush task was lost.
    "recover-bot-deliveries": {
        "task": "bots.notifications.tasks.deliveries_recover_task",
        "schedule": 30.0,
    },
}

# Fleet notifications (bots/notifications/services.py). A first event waits this long for
# others to gather into a digest; after a digest, the chat's next flush waits the interval.
NOTIFICATIONS_GATHER_SECONDS = env.float("NOTIFICATIONS_GATHER_SECONDS", default=1.5)
NOTIFICATIONS_DIGEST_INTERVAL_SECONDS = env.float("NOTIFICATIONS_DIGEST_INTERVAL_SECONDS", default=10.0)
# …doubled after each digest of the last five minutes, up to this: a long storm is a digest a minute.
NOTIFICATIONS_DIGEST_MAX_INTERVAL_SECONDS = env.float("NOTIFICATIONS_DIGEST_MAX_INTERVAL_SECONDS", default=60.0)
# Up to this many pending events are sent one message each; more make a digest.
NOTIFICATIONS_SINGLE_MAX = env.int("NOTIFICATIONS_SINGLE_MAX", default=3)
NOTIFICATIONS_DIGEST_IDS_PER_KIND = env.int("NOTIFICATIONS_DIGEST_IDS_PER_KIND", default=10)
# Sends that failed (no answer, 5xx, refused) are retried after base · 2^(n-1) s, this many times.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.float("NOTIFICATIONS_RETRY_BASE_SECONDS", default=5.0)
# The recovery beat: pending this long with no flush scheduled; "sending" this long (its worker died).
NOTIFICATIONS_RECOVER_PENDING_AFTER_SECONDS = env.int("NOTIFICATIONS_RECOVER_PENDING_AFTER_SECONDS", default=60)
NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS = env.int("NOTIFICATIONS_RECOVER_SENDING_AFTER_SECONDS", default=120)
# Telegram's limits, a little below its own (bots/telegram/ratelimit.py says why): per chat a
# token bucket (one per interval, this burst), per group per minute, per bot per second.
TELEGRAM_CHAT_INTERVAL_SECONDS = env.float("TELEGRAM_CHAT_INTERVAL_SECONDS", default=1.1)
TELEGRAM_CHAT_BURST = env.int("TELEGRAM_CHAT_BURST", default=2)
TELEGRAM_GROUP_PER_MINUTE = env.int("TELEGRAM_GROUP_PER_MINUTE", default=18)
TELEGRAM_BOT_PER_SECOND = env.int("TELEGRAM_BOT_PER_SECOND", default=25)

# The client's address is the N-th from the right of X-Forwarded-For when N proxies that append
# to it stand in front of the hub (docker-compose's nginx: 1); 0 = REMOTE_ADDR, the header ignored.
# Used by the login and registration throttles (config/client_address.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed logins (POST /api/v1/auth/token/ and the admin login) are throttled by django-axes, per
# account and per client address, in the database (config/login_throttle.py has the semantics).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = datetime.timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"
AXES_VERBOSE = False

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
STATIC_ROOT = BASE_DIR / "staticfiles"

# Request bodies: devices send a few hundred bytes; anything over this is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=64 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "devices.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.permissions.ModelPermissions"],
    # DRF's JSON parser, refusing too deep nesting, NUL and unpaired surrogates (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Device registry, config delivery and the management API of the Switchboard hub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are public and the same for everyone: no credential is read, so a
    # malformed Authorization header cannot turn the page into a 401 in OpenAPI or HTML.
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # The documentation pages load nothing from outside the hub (drf-spectacular-sidecar's pinned
    # builds; templates/drf_spectacular/redoc.html drops the web fonts). Swagger UI's validator
    # badge would send the schema's URL to swagger.io.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Two choice sets of fields named `role`: a bot user's (none, manager, administrator) and the
    # two an invitation gives.
    "ENUM_NAME_OVERRIDES": {
        "BotUserRoleEnum": "bots.models.Role",
        "InvitationRoleEnum": "bots.api.serializers.INVITATION_ROLE_CHOICES",
    },
}

# Devices
DEVICES_LEGACY_API = env.str("DEVICES_LEGACY_API", default="known-owners")
DEVICES_DEFAULT_SEND_INTERVAL = env.int("DEVICES_DEFAULT_SEND_INTERVAL", default=60)
DEVICES_DEFAULT_QOS = env.int("DEVICES_DEFAULT_QOS", default=1)
# How long a rotated-out provisioning secret keeps working, so a fleet can be re-flashed.
DEVICES_SECRET_ROTATION_GRACE_SECONDS = env.int("DEVICES_SECRET_ROTATION_GRACE_SECONDS", default=7 * 24 * 3600)
# Hot-path cache of what a device fetches at boot; invalidated explicitly on every change.
DEVICES_DELIVERY_CACHE_SECONDS = env.int("DEVICES_DELIVERY_CACHE_SECONDS", default=24 * 3600)
# "Last seen" is written at most this often per device, to keep writes off the hot path.
DEVICES_LAST_SEEN_RESOLUTION_SECONDS = env.int("DEVICES_LAST_SEEN_RESOLUTION_SECONDS", default=60)
# A device silent for longer than max(this, DEVICES_OFFLINE_AFTER_INTERVALS × its send interval)
# goes offline (device.offline event), and online again when it next calls in. 0 turns the
# detection off: "seen" is any authenticated device call, so enable it where devices call in
# at least that often.
DEVICES_OFFLINE_AFTER_SECONDS = env.int("DEVICES_OFFLINE_AFTER_SECONDS", default=0)
DEVICES_OFFLINE_AFTER_INTERVALS = env.int("DEVICES_OFFLINE_AFTER_INTERVALS", default=3)
# Registrations refused for their provisioning secret (401/403), counted per client address and
# per owner in fixed windows: past a limit, further refusals are answered 429. An accepted
# registration is never throttled (devices/registration_throttle.py). 0 turns a limit off.
DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS = env.int("DEVICES_REGISTRATION_FAILURE_WINDOW_SECONDS", default=300)
DEVICES_REGISTRATION_FAILURES_PER_CLIENT = env.int("DEVICES_REGISTRATION_FAILURES_PER_CLIENT", default=20)
DEVICES_REGISTRATION_FAILURES_PER_OWNER = env.int("DEVICES_REGISTRATION_FAILURES_PER_OWNER", default=100)

# Production hardening, in force whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # The webhook receiver's URL token is masked in every record (config/logging.py). A filter
    # on a handler sees every record that handler prints, whichever logger it came from: every
    # handler gets it, and no logger keeps one of Django's default handlers (those have no filter).
    "filters": {"mask_webhook_tokens": {"()": "config.logging.WebhookTokenFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["mask_webhook_tokens"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults give "django" a console handler (when DEBUG) and mail_admins (no
        # ADMINS are set), and "django.server" (runserver's request lines) its own handler:
        # replaced, so that their records reach only the filtered console.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # Secret-bearing headers never reach these loggers: Django logs only path (webhook tokens
        # masked) and status.
        "django.request": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO: API keys in query strings, bot tokens in paths.
        "httpx": {"level": "WARNING"},
        # django-axes narrates every login at INFO; its WARNINGs (each failure, each lockout, with
        # username and address masked) remain, beside config.login_throttle's one line per lockout.
        "axes": {"level": "WARNING"},
    },
}

# ------------------------------------------------------------------------------ integrations
# Key that encrypts secret settings and credentials at rest (Fernet, urlsafe base64 of 32
# bytes); several keys, comma-separated, allow rotation (the first encrypts).
INTEGRATIONS_ENCRYPTION_KEYS = env.list("INTEGRATIONS_ENCRYPTION_KEYS", default=[])
# How long a process trusts its in-memory copy of the settings table before checking the
# shared version stamp in the cache.
INTEGRATIONS_SETTINGS_REFRESH_SECONDS = env.float("INTEGRATIONS_SETTINGS_REFRESH_SECONDS", default=2.0)
INTEGRATIONS_HTTP_TIMEOUT_SECONDS = env.float("INTEGRATIONS_HTTP_TIMEOUT_SECONDS", default=10.0)
INTEGRATIONS_RETRY_ATTEMPTS = env.int("INTEGRATIONS_RETRY_ATTEMPTS", default=4)
INTEGRATIONS_RETRY_MAX_WAIT_SECONDS = env.float("INTEGRATIONS_RETRY_MAX_WAIT_SECONDS", default=30.0)
INTEGRATIONS_BREAKER_FAIL_MAX = env.int("INTEGRATIONS_BREAKER_FAIL_MAX", default=5)
# A worker executing a side-effecting run renews its lease every third of this; a run whose
# lease ran out (its worker died) is executed again: the lease bounds that recovery.
INTEGRATIONS_RUN_LEASE_SECONDS = env.int("INTEGRATIONS_RUN_LEASE_SECONDS", default=60)
# A queued run not started this long after it was due lost its task; beat queues it again.
INTEGRATIONS_RUN_RECOVER_AFTER_SECONDS = env.int("INTEGRATIONS_RUN_RECOVER_AFTER_SECONDS", default=60)
INTEGRATIONS_BREAKER_RESET_SECONDS = env.int("INTEGRATIONS_BREAKER_RESET_SECONDS", default=30)
# Backoff between retries: exponential from this base, plus up to as much jitter.
INTEGRATIONS_RETRY_BASE_WAIT_SECONDS = env.float("INTEGRATIONS_RETRY_BASE_WAIT_SECONDS", default=0.5)
# How long a "not found" answer is cached, and how long past its freshness a cached answer may
# still be served (marked stale) while the service is failing.
INTEGRATIONS_CACHE_NOT_FOUND_SECONDS = env.int("INTEGRATIONS_CACHE_NOT_FOUND_SECONDS", default=60)
INTEGRATIONS_CACHE_STALE_SECONDS = env.int("INTEGRATIONS_CACHE_STALE_SECONDS", default=24 * 3600)
# When set, GET /metrics requires "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
WEBHOOKS_BODY_MAX_BYTES = env.int("WEBHOOKS_BODY_MAX_BYTES", default=256 * 1024)
WEBHOOKS_DEFAULT_TOLERANCE_SECONDS = env.int("WEBHOOKS_DEFAULT_TOLERANCE_SECONDS", default=300)
# How long a web process trusts its copy of a receiving endpoint and its secrets (changes made
# in the same process apply at once; 0 disables the copy).
WEBHOOKS_ENDPOINT_CACHE_SECONDS = env.int("WEBHOOKS_ENDPOINT_CACHE_SECONDS", default=5)
# Received deliveries wait in a Redis stream and are written to the database in batches by a
# Celery task (integrations/webhooks/inbox.py). By default the broker's Redis, which must not
# evict keys; empty (no Redis broker, as on the embedded defaults): each delivery is written as
# it arrives.
WEBHOOKS_INBOX_URL = env.str(
    "WEBHOOKS_INBOX_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
WEBHOOKS_INBOX_PREFIX = env.str("WEBHOOKS_INBOX_PREFIX", default=f"{CELERY_TASK_DEFAULT_QUEUE}:webhooks")
WEBHOOKS_INBOX_BATCH = env.int("WEBHOOKS_INBOX_BATCH", default=500)
# Past this many deliveries waiting (no worker drains the inbox), senders get 503 and retry,
# rather than the broker's Redis running out of memory. 0: no limit.
WEBHOOKS_INBOX_MAX_WAITING = env.int("WEBHOOKS_INBOX_MAX_WAITING", default=100_000)
# A delivery id re-sent within this window is answered 200 "duplicate" at once. Later, it is
# still never processed twice (the database's unique constraint), only recorded as a duplicate
# when written. At least each endpoint's timestamp tolerance.
WEBHOOKS_DEDUP_WINDOW_SECONDS = env.int("WEBHOOKS_DEDUP_WINDOW_SECONDS", default=24 * 3600)
# Base URLs of the built-in integrations (from the environment only: whoever can change them
# can send our tokens elsewhere). Tests point them at local fakes.
INTEGRATIONS_TELEGRAM_API_URL = env.str("INTEGRATIONS_TELEGRAM_API_URL", default="https://api.telegram.org")
INTEGRATIONS_OPENWEATHERMAP_API_URL = env.str(
    "INTEGRATIONS_OPENWEATHERMAP_API_URL", default="https://api.openweathermap.org"
)
INTEGRATIONS_EXCHANGERATE_API_URL = env.str("INTEGRATIONS_EXCHANGERATE_API_URL", default="https://open.er-api.com")
INTEGRATIONS_GITHUB_API_URL = env.str("INTEGRATIONS_GITHUB_API_URL", default="https://api.github.com")
# GET /api/v1/weather/{city} without authentication, as the original lab's endpoint was.
WEATHER_API_PUBLIC = env.bool("WEATHER_API_PUBLIC", default=False)

# Bots (bots/). Telegram updates wait in a Redis stream of the broker's Redis (the webhook
# inbox's machinery, integrations/webhooks/inbox.py) until a worker drains them.
BOTS_TELEGRAM_INBOX_PREFIX = env.str("BOTS_TELEGRAM_INBOX_PREFIX", default=f"{CELERY_TASK_DEFAULT_QUEUE}:telegram")
# Telegram redelivers an update until it gets a 2xx, for up to a day: ids are remembered longer.
BOTS_TELEGRAM_UPDATE_DEDUP_SECONDS = env.int("BOTS_TELEGRAM_UPDATE_DEDUP_SECONDS", default=2 * 24 * 3600)
BOTS_TELEGRAM_BODY_MAX_BYTES = env.int("BOTS_TELEGRAM_BODY_MAX_BYTES", default=1024 * 1024)
