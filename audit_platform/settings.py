"""Settings, read from the environment.

With no environment at all the service runs on its embedded default: a SQLite
file under ``var/``, Celery tasks executed in-process, uploads in ``var/media``.
``DJANGO_ENV=production`` demands the secrets and hosts a real deployment needs
and turns on every ``check --deploy`` protection. Every variable is listed in
README.md.
"""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from audit_platform.env import (
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_str,
    worker_classes,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env_choice("DJANGO_ENV", "development", ("development", "production"))
PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production-0123456789abcdefghijkl"
SECRET_KEY = env_str("SECRET_KEY", required=PRODUCTION) or _DEV_SECRET_KEY
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be a fresh random value of at least 50 characters")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ("127.0.0.1", "localhost", "[::1]", "testserver"))
if PRODUCTION and not env_str("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin, for operators of the installation only (superusers): OperatorAdminSite.
    "audit_platform.apps.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # The web UI's libraries: htmx request details, tables that page and sort, filters.
    "django_htmx",
    "django_tables2",
    "django_filters",
    # Second factor (TOTP) for the people who approve and close incidents; failed-login
    # lock-out.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "apps.tenancy",
    "apps.ledger",
    "apps.tasks",
    "apps.registry",
    "apps.reports",
    "apps.inference",
    "apps.explainability",
    "apps.compliance",
    "apps.integrations",
    "django_celery_beat",
    "apps.monitoring",
    "apps.fleet",
    "apps.web",
    "apps.demo",
]

MIDDLEWARE = [
    "audit_platform.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policy too.
    "csp.middleware.CSPMiddleware",
    # Static files (admin, API docs) from the application server itself: gunicorn in
    # production and under bin/serve, no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session logged in with a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "audit_platform.urls"
WSGI_APPLICATION = "audit_platform.wsgi.application"

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
                "apps.web.context.web",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {exc}") from exc
if _database["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured("DATABASE_URL must be postgres://... or sqlite:///...")
_options = _database.setdefault("OPTIONS", {})
DB_POOL = False
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # Appends serialize on the log head; SQLite has no row locks, so writers queue on the
    # database lock instead and must wait for it rather than fail at once.
    _options.update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    _database["CONN_MAX_AGE"] = 0
else:
    # Each process borrows connections from its own pool (psycopg_pool through Django)
    # and hands each back at the end of the request, so a process never holds more than
    # DB_POOL_MAX_SIZE connections however many clients it serves. A gunicorn worker
    # runs WEB_THREADS requests at once: keep the pool at least that large, and
    # WEB_CONCURRENCY x DB_POOL_MAX_SIZE (plus the Celery workers) under PostgreSQL's
    # max_connections.
    DB_POOL = env_bool("DB_POOL", True)
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8, minimum=1)
    DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1, minimum=0)
    if DB_POOL_MIN_SIZE > DB_POOL_MAX_SIZE:
        raise ImproperlyConfigured(
            f"DB_POOL_MIN_SIZE ({DB_POOL_MIN_SIZE}) must not exceed "
            f"DB_POOL_MAX_SIZE ({DB_POOL_MAX_SIZE})"
        )
    if DB_POOL:
        _options["pool"] = {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": DB_POOL_MAX_SIZE,
            # Seconds a request waits for a free connection before it fails.
            "timeout": env_int("DB_POOL_TIMEOUT", 30, minimum=1),
        }
        # Pooled connections go back to the pool after each request: Django refuses
        # persistent connections (CONN_MAX_AGE) with a pool, and checks each one the
        # pool hands out.
        _database["CONN_MAX_AGE"] = 0
        _database["CONN_HEALTH_CHECKS"] = True
    if env_bool("DB_PREPARED_STATEMENTS", True):
        # The ledger sends its append statement with the parameters apart from the
        # text, hundreds of times a second. Prepared once per connection with a generic
        # plan, it is neither parsed nor planned again: that halves the database's CPU
        # per append (docs/benchmarks.md). Django's own queries bind client-side and are
        # never prepared. Our pool keeps whole server sessions, so a pooled connection
        # keeps its prepared statements from one request to the next. Turn off behind
        # an external pooler in transaction mode that cannot keep prepared statements
        # (PgBouncer before 1.21).
        _options.setdefault("prepare_threshold", 5)
        _options["options"] = " ".join(
            filter(None, [_options.get("options"), "-c plan_cache_mode=force_generic_plan"])
        )
DATABASES = {"default": _database}
# Every model of ours declares ``id = uuid_primary_key()`` (audit_platform/ids.py): sequential
# ids would tell one organization how many records the others make. Django needs an
# AutoField here; a model that forgets its id gets one and fails
# tests/platform/test_identifiers.py.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A person's id, like every other, is a UUIDv7. Groups and permissions of
# django.contrib.auth keep their integer ids: they are the installation's, the same for
# every organization, so their numbering tells nobody about anyone's activity.
AUTH_USER_MODEL = "tenancy.User"

# --- Files ----------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development WhiteNoise serves straight from the apps' static folders (no
# collectstatic); in production from STATIC_ROOT, filled by `manage.py collectstatic`.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    # Nothing is collected in development; an empty STATIC_ROOT is expected there.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
# Uploads are spooled to disk and hashed as they arrive; this is the largest accepted.
ARTIFACT_MAX_BYTES = env_int("ARTIFACT_MAX_BYTES", 2 * 1024**3, minimum=1)
FILE_UPLOAD_HANDLERS = ["apps.registry.artifacts.HashingUploadHandler"]
# Largest JSON/form body a request may carry; file uploads have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("API_MAX_BODY_BYTES", 1_048_576, minimum=1024)

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# No broker means the embedded default: tasks run in-process, right after the commit
# that queued them.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
if CELERY_TASK_ALWAYS_EAGER:
    # Eager .delay() still borrows a producer from the broker pool (Celery 5.3+); an
    # in-memory transport keeps that from reaching for an AMQP server on localhost.
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A test's worker may take its work on a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "default")
CELERY_TASK_ROUTES = {
    "apps.reports.*": {"queue": "reports"},
    "apps.inference.*": {"queue": "gpu"},
    "apps.explainability.*": {"queue": "gpu"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long a task taken by a worker that died (acks_late) waits before redelivery.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)
}
CELERY_TASK_IGNORE_RESULT = True
# Periodic housekeeping, sent by one `celery beat` process (README.md, Production).
CELERY_BEAT_SCHEDULE = {
    "idempotency-records-purge": {
        "task": "apps.tenancy.idempotency_records_purge",
        "schedule": 3600,
        # A purge still queued when the next one is due is redundant: with the workers
        # down for a day, one purge runs when they return, not twenty-four.
        "options": {"expires": 3600},
    },
    # Retraining triggers unanswered past their deadline escalate (docs/monitoring.md).
    "monitoring-triggers-sweep": {
        "task": "apps.monitoring.triggers_sweep",
        "schedule": 900,
        "options": {"expires": 900},
    },
    # Online decisions waiting longer than FLEET_SEAL_SECONDS are sealed into a batch
    # (docs/online-serving.md); a full batch is sealed as soon as it fills.
    "fleet-online-seal": {
        "task": "apps.fleet.online_seal",
        "schedule": env_int("FLEET_SEAL_SECONDS", 60, minimum=1),
        "options": {"expires": env_int("FLEET_SEAL_SECONDS", 60, minimum=1)},
    },
    # A queue whose oldest job waits past FLEET_QUEUE_WAIT_ALERT_SECONDS raises an alert.
    "fleet-queue-wait-check": {
        "task": "apps.fleet.queue_wait_check",
        "schedule": 60,
        "options": {"expires": 60},
    },
}
# Schedules are rows an operator sees and edits in the admin (django-celery-beat); each
# monitoring policy's window job is one of them.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Post-market monitoring ------------------------------------------------------
# Outside DEBUG, webhook URLs that resolve to loopback, link-local or private
# addresses are refused; this lets loopback through (a local receiver, tests).
MONITORING_WEBHOOK_ALLOW_LOOPBACK = env_bool("MONITORING_WEBHOOK_ALLOW_LOOPBACK", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "monitoring@localhost")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)

# --- Inference and explanations (gpu queue) -------------------------------------
# "auto" uses CUDA on a gpu-queue worker that has it; "cpu" never touches CUDA.
INFERENCE_DEVICE = env_choice("INFERENCE_DEVICE", "auto", ("auto", "cpu", "cuda"))
MODEL_CACHE_SIZE = env_int("MODEL_CACHE_SIZE", 4, minimum=1)
# Explanations through the permutation explainer estimated above this are refused.
SHAP_MAX_COST_SECONDS = env_int("SHAP_MAX_COST_SECONDS", 600, minimum=1)
# Rows scored per step of a batch.
INFERENCE_CHUNK_ROWS = env_int("INFERENCE_CHUNK_ROWS", 16_384, minimum=1)
# Least time between a batch's progress updates: each is a committed write (an fsync on
# the embedded SQLite) in the scoring loop, and a step takes milliseconds.
INFERENCE_PROGRESS_MS = env_int("INFERENCE_PROGRESS_MS", 500)
# The GPU's draw is sampled this long before a job; that idle baseline (and other
# tenants' draw at the time) is subtracted from the job's energy (apps/inference/telemetry).
INFERENCE_ENERGY_BASELINE_MS = env_int("INFERENCE_ENERGY_BASELINE_MS", 500)

# --- Online serving receipts (apps/fleet, docs/online-serving.md) -------------------
# A deployment's logged decisions are sealed into a prediction batch (one ledger entry,
# one rows root) every FLEET_SEAL_ROWS decisions, or once the oldest has waited
# FLEET_SEAL_SECONDS.
FLEET_SEAL_ROWS = env_int("FLEET_SEAL_ROWS", 10_000, minimum=1)
FLEET_SEAL_SECONDS = env_int("FLEET_SEAL_SECONDS", 60, minimum=1)
# A logged request without its response (or the reverse) is reported as unpaired after
# this long; it is never sealed unless its other half arrives.
FLEET_UNPAIRED_SECONDS = env_int("FLEET_UNPAIRED_SECONDS", 300, minimum=1)
# Worker classes: name -> the queues its workers consume, and the one of them its
# batch and explanation jobs are sent to ("job_queue", for classes that take them). A
# heartbeat from a worker of no declared class, or consuming a queue its class does not
# declare, is refused; a job goes to the class whose online workers' free GPU memory
# fits its model version (docs/fleet.md). JSON, e.g.
# {"gpu-small": {"queues": ["gpu-small"], "job_queue": "gpu-small"}, ...}.
FLEET_WORKER_CLASSES = worker_classes(
    env_str("FLEET_WORKER_CLASSES"),
    default={
        "default": {"queues": ["default", "reports"]},
        "gpu": {"queues": ["gpu"], "job_queue": "gpu"},
    },
)
# What a job needs is its version's measured peak GPU memory plus this margin (percent).
FLEET_ROUTING_MARGIN_PERCENT = env_int("FLEET_ROUTING_MARGIN_PERCENT", 20, minimum=0)
# A queue whose oldest job has waited this long raises an alert (checked every minute).
FLEET_QUEUE_WAIT_ALERT_SECONDS = env_int("FLEET_QUEUE_WAIT_ALERT_SECONDS", 600, minimum=1)
# A worker's class, where its queues alone do not say it (several classes share them).
FLEET_WORKER_CLASS = env_str("FLEET_WORKER_CLASS")
# Each worker reports every FLEET_HEARTBEAT_SECONDS; one silent for FLEET_OFFLINE_SECONDS
# is shown offline.
FLEET_HEARTBEAT_SECONDS = env_int("FLEET_HEARTBEAT_SECONDS", 30, minimum=1)
FLEET_OFFLINE_SECONDS = env_int("FLEET_OFFLINE_SECONDS", 90, minimum=1)
# The price of a kWh for energy accounting (docs/fleet.md), a decimal text, and its
# currency; the cost of a batch is its measured energy times this price.
FLEET_ENERGY_PRICE_PER_KWH = env_decimal("FLEET_ENERGY_PRICE_PER_KWH", "0.00")
FLEET_ENERGY_CURRENCY = env_str("FLEET_ENERGY_CURRENCY", "EUR") or "EUR"
# Largest JSON Lines or CloudEvents batch body, in bytes.
FLEET_MAX_BODY_BYTES = env_int("FLEET_MAX_BODY_BYTES", 64 * 1024**2, minimum=1024)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first, so that a request with no credentials gets 401 with a
        # WWW-Authenticate challenge rather than the session's 403.
        "apps.tenancy.authentication.ApiKeyAuthentication",
        "apps.tenancy.authentication.OrganizationSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["audit_platform.permissions.HasOrganizationRole"],
    "DEFAULT_PARSER_CLASSES": ["audit_platform.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "audit_platform.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["apps.tenancy.throttling.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": env_str("API_THROTTLE_RATE", "1200/min")},
    "EXCEPTION_HANDLER": "audit_platform.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "audit_platform.schema.Schema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# How long the answer to a write sent with an Idempotency-Key is kept for replays; a
# retry after that counts as a new request. Longer than any pipeline's retries last.
IDEMPOTENCY_RETENTION_HOURS = env_int("IDEMPOTENCY_RETENTION_HOURS", 24, minimum=1)
# After a rotation, the old API key keeps working this long, so that pipelines can
# switch to the new secret without downtime; then it stops (README, "API keys").
API_KEY_ROTATION_GRACE_HOURS = env_int("API_KEY_ROTATION_GRACE_HOURS", 24, minimum=0)
# How long an invitation's one-time link stays valid, and the page the link opens
# (the web UI's accept page; the token follows as ?token=...).
INVITATION_TTL_HOURS = env_int("INVITATION_TTL_HOURS", 72, minimum=1)
INVITATION_ACCEPT_URL = (
    env_str("INVITATION_ACCEPT_URL", "http://localhost:8000/invitations/accept") or ""
)
SPECTACULAR_SETTINGS = {
    "TITLE": "AI audit-trail service API",
    "DESCRIPTION": "Pipeline hooks and ledger access for the EU AI Act audit-trail service.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "Role": "audit_platform.roles.Role",
        "MemberRole": "audit_platform.roles.MEMBER_ROLE_CHOICES",
        "AISystemRole": "apps.registry.models.AISystem.Role",
        "AISystemStatus": "apps.registry.models.AISystem.Status",
        "ModelSignerKind": "apps.registry.models.ModelSigner.Kind",
        "SignatureState": "apps.registry.models.ModelVersion.SignatureState",
        "LineageJobKind": "apps.integrations.models.LineageJobMapping.Kind",
        "TrainingRunStatus": "apps.registry.models.TrainingRun.Status",
        "DeploymentStatus": "apps.registry.models.Deployment.Status",
        "PredictionBatchStatus": "apps.registry.models.PredictionBatch.Status",
        "ReportKind": "apps.reports.models.Report.Kind",
        "ReportStatus": "apps.reports.models.Report.Status",
        "ClassificationCategory": "apps.compliance.models.Classification.Category",
        "AssessmentKind": "apps.compliance.models.Assessment.Kind",
        "AssessmentStatus": "apps.compliance.models.Assessment.Status",
        "ApprovalStatus": "apps.compliance.models.ApprovalRequest.Status",
        "ApprovalDecisionChoice": "apps.compliance.models.ApprovalDecision.Decision",
        "ClassificationDecision": [("confirm", "confirm"), ("decline", "decline")],
        "RiskStatus": "apps.compliance.models.Risk.Status",
        "IncidentKind": "apps.compliance.models.Incident.Kind",
        "IncidentStatus": "apps.compliance.models.Incident.Status",
        "IncidentReportKind": "apps.compliance.models.IncidentReport.Kind",
        "MonitoringAction": "apps.monitoring.models.MonitoringPolicy.OnDecay",
        "MonitoringTask": "apps.monitoring.models.MonitoringPolicy.Task",
        "AlertSeverity": "apps.monitoring.models.Alert.Severity",
        # Monitoring's alerts and the fleet's queue-wait alerts share their statuses.
        "AlertStatus": "apps.monitoring.models.Alert.Status",
        "RiskSeverity": "apps.compliance.models.Risk.Severity",
        "AssessmentTask": "apps.compliance.models.Assessment.Task",
    },
}

# --- API schema and docs ---------------------------------------------------------
# Swagger UI (/api/docs/) and ReDoc (/api/redoc/) come from drf-spectacular-sidecar's
# static files, served by us: the docs pages load nothing from another origin. The
# schema and both pages are public in development; in production (DEBUG off) only to a
# signed-in person or an API key, unless API_SCHEMA_PUBLIC=true.
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        # No badge fetched from validator.swagger.io.
        "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
        "SERVE_PERMISSIONS": [
            "rest_framework.permissions.AllowAny"
            if API_SCHEMA_PUBLIC
            else "rest_framework.permissions.IsAuthenticated"
        ],
    }
)

# --- Compliance -----------------------------------------------------------------
# Approvals by owners or compliance officers that a high-risk system's deployment needs
# before a model version may serve it (Art. 14).
COMPLIANCE_REQUIRED_APPROVALS = env_int("REQUIRED_APPROVALS", 1, minimum=1)

# --- Ledger ---------------------------------------------------------------------
LEDGER_HOST = env_str("LEDGER_HOST", required=PRODUCTION) or "localhost"
if any(ch.isspace() for ch in LEDGER_HOST) or "+" in LEDGER_HOST or "/" in LEDGER_HOST:
    raise ImproperlyConfigured("LEDGER_HOST must be a host name without spaces, '+' or '/'")
_kek = env_str("LEDGER_KEY_ENCRYPTION_KEY", required=PRODUCTION)
if _kek is None:
    # Development only: derive a stable key-encryption key from the dev secret.
    _kek = base64.urlsafe_b64encode(hashlib.sha256(b"ledger-kek:" + SECRET_KEY.encode()).digest())
    LEDGER_KEY_ENCRYPTION_KEY = _kek.decode()
else:
    try:
        if len(base64.urlsafe_b64decode(_kek.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "LEDGER_KEY_ENCRYPTION_KEY must be 32 bytes in URL-safe base64 "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        ) from None
    LEDGER_KEY_ENCRYPTION_KEY = _kek

# --- Reports --------------------------------------------------------------------
# A PEM certificate and private key to sign report PDFs with (PAdES). Unset: each
# organization gets a self-signed document-signing certificate on first use.
REPORT_SIGNING_CERT = env_str("REPORT_SIGNING_CERT")
REPORT_SIGNING_KEY = env_str("REPORT_SIGNING_KEY")
REPORT_SIGNING_KEY_PASSWORD = env_str("REPORT_SIGNING_KEY_PASSWORD")
if (REPORT_SIGNING_CERT is None) != (REPORT_SIGNING_KEY is None):
    raise ImproperlyConfigured("REPORT_SIGNING_CERT and REPORT_SIGNING_KEY must be set together")
for _name in ("REPORT_SIGNING_CERT", "REPORT_SIGNING_KEY"):
    _path = globals()[_name]
    if _path is not None and not Path(_path).is_file():
        raise ImproperlyConfigured(f"{_name}={_path!r} is not a readable file")
# An RFC 3161 time-stamping authority (http:// or https:// URL). Set: every report
# signature carries its timestamp and the validation data (PAdES B-LTA), so it can be
# checked after the certificates expire. Unset: baseline-B signatures only.
REPORT_TSA_URL = env_str("REPORT_TSA_URL")
if REPORT_TSA_URL is not None and not re.fullmatch(r"https?://\S+", REPORT_TSA_URL):
    raise ImproperlyConfigured("REPORT_TSA_URL must be an http:// or https:// URL")
# PEM file of trust anchors for embedding validation data: the TSA's root, and the root
# of REPORT_SIGNING_CERT when a CA issued it (a self-signed signer is its own anchor).
REPORT_TRUST_ROOTS = env_str("REPORT_TRUST_ROOTS")
if REPORT_TRUST_ROOTS is not None and not Path(REPORT_TRUST_ROOTS).is_file():
    raise ImproperlyConfigured(f"REPORT_TRUST_ROOTS={REPORT_TRUST_ROOTS!r} is not a readable file")

# --- Auth, sessions, security ---------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# People sign in on the web UI's page (the admin keeps its own, for operators); an
# expired session comes back there and then to the page it was on (?next=).
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# Failed logins (the web UI's and the admin's) lock the account out from that address
# after AXES_FAILURE_LIMIT tries, for AXES_COOLOFF_TIME; a successful login resets the
# count. Keyed on the user name and the address together, so that nobody can lock
# another person out from everywhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/auth/locked.html"
AXES_VERBOSE = False
# The label authenticator apps show next to the code.
OTP_TOTP_ISSUER = "AI audit trail"
# Tables in pages (django-tables2) render with the UI's own template.
DJANGO_TABLES2_TEMPLATE = "web/_table.html"
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and
# connections to this origin only, no inline script or style, no plugins, no framing.
# The one loosening is per view, in audit_platform/urls.py: ReDoc builds its styles
# at run time, so its page allows inline styles (never inline scripts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI and the admin draw their icons from data: URIs in their CSS.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # An HTTPS redirect turned off on purpose (TLS ends at a proxy that we do not trust
    # for the header) is a decision, not an oversight.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "audit_platform.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
