"""Settings for the portal, read from the environment (12-factor).

Secure by default: without ``DJANGO_DEBUG=1`` the settings are production settings and refuse to
load without ``DJANGO_SECRET_KEY``, ``FIELD_ENCRYPTION_KEYS``, ``DATABASE_URL`` and ``REDIS_URL``
(``make run`` and the tests set ``DJANGO_DEBUG=1``). With DEBUG, or in production with
``PORTAL_EMBEDDED=1``, storage falls back to the embedded mode that runs on a bare machine: SQLite,
a file-based cache and a Celery broker on the local filesystem, all under ``var/``; see
docs/configuration.md.

Every missing or malformed value raises ``ImproperlyConfigured`` naming its variable; the entry
points (manage.py, portal.wsgi, portal.celery) print that one line instead of a traceback.
"""

import logging
import warnings
import zoneinfo
from decimal import Decimal, InvalidOperation
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from licensing.tokens import public_keys_from_pem

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """django-environ, but a malformed value is refused naming its variable.

    django-environ raises a bare ``ValueError`` ("invalid literal for int()…") that does not say
    which variable is wrong, and reads any unknown word as a false boolean, so a mistyped
    ``DJANGO_SECURE_SSL_REDIRECT=ture`` would quietly turn the redirect off.
    """

    EXPECTED = {int: "a whole number", float: "a number", bool: "true or false (1 or 0)"}
    BOOLEAN_FALSE_STRINGS = ("false", "off", "no", "n", "0", "")

    def get_value(
        self,
        var: str,
        cast: object = None,
        default: object = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> object:
        if cast is bool and var in self.ENVIRON:
            word = self.ENVIRON[var].strip().lower()
            if word not in self.BOOLEAN_TRUE_STRINGS + self.BOOLEAN_FALSE_STRINGS:
                raise ImproperlyConfigured(f"{var} must be {self.EXPECTED[bool]}.")
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            expected = self.EXPECTED.get(cast, "well-formed")
            raise ImproperlyConfigured(f"{var} must be {expected}.") from exc


env = _Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _database(var: str, default: str) -> dict[str, object]:
    """``env.db()`` that refuses a URL it cannot read (it would return an empty config, or take
    an unknown scheme for the name of a database backend and fail at the first query)."""
    try:
        with warnings.catch_warnings():
            # django-environ's warning about an unknown scheme prints the URL, password included.
            warnings.simplefilter("ignore")
            config = env.db(var, default=default)
    except ValueError:
        config = {}
    if config.get("ENGINE") not in set(environ.Env.DB_SCHEMES.values()):
        raise ImproperlyConfigured(
            f"{var} must be a database URL such as postgres://user:password@host:5432/portal."
        )
    return config


def _redis_url(var: str) -> str:
    url = env.str(var, default="")
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{var} must be a Redis URL such as redis://host:6379/0.")
    return url


def _fernet_keys(var: str) -> list[str]:
    """The keys, each checked now: a bad one would otherwise fail the first save of a secret."""
    keys = env.list(var, default=[])
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            raise ImproperlyConfigured(
                f"{var} key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes); see docs/configuration.md."
            ) from None
    return keys


def _log_level(var: str) -> str:
    level = env.str(var, default="INFO").upper()
    if not isinstance(logging.getLevelNamesMapping().get(level), int):
        raise ImproperlyConfigured(f"{var} must be a log level such as DEBUG, INFO or WARNING.")
    return level


def _time_zone(var: str) -> str:
    name = env.str(var, default="UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{var} must be an IANA time zone such as UTC.") from None
    return name


VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 - DEBUG only
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY or (not DEBUG and SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value when DEBUG is off."
    )

# Production runs on PostgreSQL and Redis. Falling back to SQLite and files under var/ only when
# asked: a forgotten DATABASE_URL would otherwise start an empty, unbacked-up database.
PORTAL_EMBEDDED = env.bool("PORTAL_EMBEDDED", default=False)
if not DEBUG and not PORTAL_EMBEDDED:
    for _name in ("DATABASE_URL", "REDIS_URL"):
        if not env.str(_name, default=""):
            raise ImproperlyConfigured(
                f"{_name} must be set when DEBUG is off, or set PORTAL_EMBEDDED=1 to run on "
                "SQLite, a file cache and a filesystem broker under PORTAL_VAR_DIR."
            )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal.accounts.apps.PortalAdminConfig",  # django.contrib.admin, with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "portal.core",
    "portal.accounts",
    "portal.store",
    "portal.billing",
    "portal.notifications",
    "portal.demo",
    "provisioning",
    "provisioning.client_area",
    "licensing",
    "portal.dashboard",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "portal.core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.accounts.middleware.StaffTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.core.context_processors.branding",
            ],
        },
    },
]

DATABASES = {"default": _database("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable database must fail fast (health check → 503), not after the TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write concurrently in the embedded mode.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: Redis when configured, else kombu's filesystem transport so that a real worker runs
# without any server. Messages carry ids only, so JSON is the only serializer accepted.
# The host part means nothing to the filesystem transport; without it kombu warns on every use.
EMBEDDED_BROKER_URL = "filesystem://localhost/"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or EMBEDDED_BROKER_URL
CELERY_RESULT_BACKEND = (
    env.str("CELERY_RESULT_BACKEND", default="")
    or REDIS_URL
    or f"file://{VAR_DIR / 'celery-results'}"
)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL == EMBEDDED_BROKER_URL:
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Countdowns of task retries must stay below this, or Redis redelivers the message early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Exactly one beat sends the schedule (docs/operations.md, "One beat"): with Redis, any other
# beat stands by on a lock under BEAT_REDIS_KEY_PREFIX and takes over within its TTL once the
# holder dies. Without Redis (embedded mode) the scheduler is celery's file-backed one.
CELERY_BEAT_SCHEDULER = "portal.core.beat:LockedScheduler"
BEAT_REDIS_KEY_PREFIX = env.str("BEAT_REDIS_KEY_PREFIX", default="portal:beat")
BEAT_LOCK_TTL_SECONDS = env.float("BEAT_LOCK_TTL_SECONDS", default=30.0)
if not 1 <= BEAT_LOCK_TTL_SECONDS <= 300:
    raise ImproperlyConfigured("BEAT_LOCK_TTL_SECONDS must be between 1 and 300.")

# Panel client (vpnpanel): every call has both timeouts; only safe methods are retried.
PANEL_CONNECT_TIMEOUT = env.float("PANEL_CONNECT_TIMEOUT", default=5.0)
PANEL_READ_TIMEOUT = env.float("PANEL_READ_TIMEOUT", default=20.0)
PANEL_RETRY_ATTEMPTS = env.int("PANEL_RETRY_ATTEMPTS", default=3)
PANEL_RETRY_BACKOFF = env.float("PANEL_RETRY_BACKOFF", default=0.5)
PANEL_RETRY_MAX_BACKOFF = env.float("PANEL_RETRY_MAX_BACKOFF", default=8.0)
PANEL_RETRY_JITTER = env.float("PANEL_RETRY_JITTER", default=0.25)
# Calls a page or an admin button waits on: one attempt, and these shorter timeouts.
PANEL_INTERACTIVE_CONNECT_TIMEOUT = env.float("PANEL_INTERACTIVE_CONNECT_TIMEOUT", default=3.0)
PANEL_INTERACTIVE_READ_TIMEOUT = env.float("PANEL_INTERACTIVE_READ_TIMEOUT", default=8.0)

# Provisioning: a worker's lease on a service is renewed by every panel call, so it only has to
# outlive one call with its retries; the sweeper re-queues pending work overdue by SWEEP_AFTER.
# MAX_RETRIES bounds the runs of one request (counted on the row); countdowns stay well below the
# broker's visibility timeout.
PROVISIONING_LEASE_SECONDS = env.int("PROVISIONING_LEASE_SECONDS", default=900)
PROVISIONING_SWEEP_AFTER_SECONDS = env.int("PROVISIONING_SWEEP_AFTER_SECONDS", default=300)
PROVISIONING_MAX_RETRIES = env.int("PROVISIONING_MAX_RETRIES", default=6)
PROVISIONING_RETRY_BASE_SECONDS = env.float("PROVISIONING_RETRY_BASE_SECONDS", default=10.0)
PROVISIONING_RETRY_MAX_SECONDS = env.float("PROVISIONING_RETRY_MAX_SECONDS", default=600.0)
MODULE_LOG_RETENTION_DAYS = env.int("MODULE_LOG_RETENTION_DAYS", default=90)
# A watched service page polls client/online every few seconds: log one success per panel per
# this many minutes (failures always), not ~17,000 rows a day. 0 logs every poll.
MODULE_LOG_POLL_OK_MINUTES = env.int("MODULE_LOG_POLL_OK_MINUTES", default=10)
if MODULE_LOG_POLL_OK_MINUTES < 0:
    raise ImproperlyConfigured("MODULE_LOG_POLL_OK_MINUTES must be 0 or more.")
# Usage pull: panels are small appliances; ask each for at most this many services at once.
USAGE_PULL_CONCURRENCY_PER_PANEL = env.int("USAGE_PULL_CONCURRENCY_PER_PANEL", default=4)
if USAGE_PULL_CONCURRENCY_PER_PANEL < 1:
    raise ImproperlyConfigured("USAGE_PULL_CONCURRENCY_PER_PANEL must be at least 1.")

# Client area: how often a customer's page polls live data. Every panel is asked for its online
# sessions at most once per interval however many customers watch, so this bounds panel load.
CLIENT_AREA_POLL_SECONDS = env.int("CLIENT_AREA_POLL_SECONDS", default=5)
if CLIENT_AREA_POLL_SECONDS < 1:
    raise ImproperlyConfigured("CLIENT_AREA_POLL_SECONDS must be at least 1.")
# The service page asks the panel in parallel and renders after at most this long; blocks still
# waiting say so. Above the interactive connect timeout, so a dead panel reads as unreachable;
# two rounds of calls (client and network, then configs) of up to 3 s each still fit.
CLIENT_AREA_PANEL_BUDGET_SECONDS = env.float("CLIENT_AREA_PANEL_BUDGET_SECONDS", default=6.0)
if CLIENT_AREA_PANEL_BUDGET_SECONDS <= 0:
    raise ImproperlyConfigured("CLIENT_AREA_PANEL_BUDGET_SECONDS must be positive.")

# Encryption at rest for panel tokens and other secrets. Several comma-separated keys rotate:
# the first encrypts, all decrypt. Derived from SECRET_KEY only in DEBUG.
FIELD_ENCRYPTION_KEYS = _fernet_keys("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")

# Billing: one currency; invoice numbers are given at payment from these formats ({year},
# {number}); an unpaid invoice is due this many days after it is issued.
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="EUR").upper()
BILLING_CURRENCY_DECIMALS = env.int("BILLING_CURRENCY_DECIMALS", default=None)
BILLING_INVOICE_NUMBER_FORMAT = env.str(
    "BILLING_INVOICE_NUMBER_FORMAT", default="INV-{year}-{number:06d}"
)
BILLING_CREDIT_NOTE_NUMBER_FORMAT = env.str(
    "BILLING_CREDIT_NOTE_NUMBER_FORMAT", default="CN-{year}-{number:06d}"
)
BILLING_INVOICE_DUE_DAYS = env.int("BILLING_INVOICE_DUE_DAYS", default=7)
# A renewal invoice is issued this many days before the service's due date (and due on it).
BILLING_RENEWAL_DAYS_BEFORE = env.int("BILLING_RENEWAL_DAYS_BEFORE", default=7)
if BILLING_RENEWAL_DAYS_BEFORE < 0:
    raise ImproperlyConfigured("BILLING_RENEWAL_DAYS_BEFORE must be 0 or more.")
# Dunning: an unpaid invoice is reminded of this many days after its due date (each once).
BILLING_OVERDUE_REMINDER_DAYS = sorted(
    set(env.list("BILLING_OVERDUE_REMINDER_DAYS", cast=int, default=[1, 3, 7]))
)
if any(days < 1 for days in BILLING_OVERDUE_REMINDER_DAYS):
    raise ImproperlyConfigured(
        "BILLING_OVERDUE_REMINDER_DAYS are days after the due date (1 or more)."
    )
# Dunning: a service whose renewal is this many days overdue is suspended, and terminated (its
# renewal invoice cancelled) this many days after the due date.
BILLING_SUSPEND_AFTER_DAYS = env.int("BILLING_SUSPEND_AFTER_DAYS", default=5)
BILLING_TERMINATE_AFTER_DAYS = env.int("BILLING_TERMINATE_AFTER_DAYS", default=30)
# An order's invoice nothing was paid on is cancelled this many days after its due date.
BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS = env.int(
    "BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS", default=14
)
if BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS < 1:
    raise ImproperlyConfigured("BILLING_CANCEL_UNPAID_ORDER_AFTER_DAYS must be 1 or more.")
if not 1 <= BILLING_SUSPEND_AFTER_DAYS < BILLING_TERMINATE_AFTER_DAYS:
    raise ImproperlyConfigured(
        "BILLING_SUSPEND_AFTER_DAYS must be 1 or more and less than BILLING_TERMINATE_AFTER_DAYS."
    )
# A customer's cancellation is approved as it is asked (self-service, what VPN customers
# expect); off, each waits for an admin's approval in the admin.
BILLING_CANCELLATION_AUTO_APPROVE = env.bool("BILLING_CANCELLATION_AUTO_APPROVE", default=True)
# Shown to a customer who pays by bank transfer (account holder, IBAN, BIC…); empty: not offered.
BILLING_BANK_TRANSFER_INSTRUCTIONS = env.str("BILLING_BANK_TRANSFER_INSTRUCTIONS", default="")


def _amount(var: str, default: str) -> Decimal:
    raw = env.str(var, default=default)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{var} must be an amount such as 10 or 9.50.") from None


BILLING_ADD_FUNDS_MIN = _amount("BILLING_ADD_FUNDS_MIN", "5")
BILLING_ADD_FUNDS_MAX = _amount("BILLING_ADD_FUNDS_MAX", "1000")
# Reverse charge needs a checksum-valid EU VAT id; with this on, also one VIES knows (online).
BILLING_VIES_CHECK = env.bool("BILLING_VIES_CHECK", default=False)
BILLING_VIES_URL = env.str(
    "BILLING_VIES_URL",
    default="https://ec.europa.eu/taxation_customs/vies/rest-api/check-vat-number",
)
# The demo gateway pays at once: for `make run` only, never with production settings.
BILLING_DEMO_GATEWAY = env.bool("BILLING_DEMO_GATEWAY", default=DEBUG)
if BILLING_DEMO_GATEWAY and not DEBUG:
    raise ImproperlyConfigured("BILLING_DEMO_GATEWAY cannot be on in production (DEBUG off).")
# Stripe Checkout is offered when both are set: the secret API key and the signing secret of the
# webhook endpoint. One without the other is a half-done setup: refused rather than silently off.
# Secrets: never logged, shown or put in a message (the errors below do not quote them).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
if bool(STRIPE_SECRET_KEY) != bool(STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set together (Stripe Checkout) or not "
        "at all."
    )
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY must be a secret key (sk_live_..., sk_test_... or a restricted rk_...), "
        "not the publishable pk_... one."
    )
if STRIPE_WEBHOOK_SECRET and not STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_...)."
    )
# The shop asks the panels whether a plan has room; the answer is kept this long for the pages
# (checkout always asks again).
STORE_AVAILABILITY_SECONDS = env.int("STORE_AVAILABILITY_SECONDS", default=30)

HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=3.0)
# /healthz tells anyone only ok or failing; staff, and monitoring that sends this token as
# "Authorization: Bearer …", also see each check. Empty: no token is accepted.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
if HEALTHZ_TOKEN and len(HEALTHZ_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTHZ_TOKEN must be at least 32 characters long, or empty.")
# /metrics (Prometheus; docs/operations.md): a scrape must send this token as "Authorization:
# Bearer …" and/or come from these networks (client address as PORTAL_TRUSTED_PROXY_COUNT reads
# it). Each one set must pass; neither set: the endpoint is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters long, or empty.")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
try:
    for _cidr in METRICS_ALLOWED_IPS:
        ip_network(_cidr, strict=False)
except ValueError:
    raise ImproperlyConfigured(
        "METRICS_ALLOWED_IPS must be addresses or networks such as 10.0.0.0/8,2001:db8::/32."
    ) from None

# Licensing (docs/licensing.md): the licence server a product's key is checked against (empty:
# offline verification only), the issuer public keys (PEM blocks; in one line, \n between lines)
# that verify keys offline and, on an issuer's own server, answer /licensing/verify/; how long an
# expired key still verifies offline; and the issuer's revoked licensees or key fingerprints.
LICENSING_SERVER_URL = env.str("LICENSING_SERVER_URL", default="")
if LICENSING_SERVER_URL and urlsplit(LICENSING_SERVER_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("LICENSING_SERVER_URL must be an http(s) URL, or empty.")
LICENSING_PUBLIC_KEYS = env.str("LICENSING_PUBLIC_KEYS", default="", multiline=True)
try:
    public_keys_from_pem(LICENSING_PUBLIC_KEYS)
except ValueError:
    raise ImproperlyConfigured(
        "LICENSING_PUBLIC_KEYS must be Ed25519 public keys in PEM (-----BEGIN PUBLIC KEY-----)."
    ) from None
LICENSING_GRACE_DAYS = env.int("LICENSING_GRACE_DAYS", default=14)
LICENSING_TIMEOUT_SECONDS = env.float("LICENSING_TIMEOUT_SECONDS", default=5.0)
if LICENSING_GRACE_DAYS < 0 or LICENSING_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured(
        "LICENSING_GRACE_DAYS must be 0 or more and LICENSING_TIMEOUT_SECONDS positive."
    )
LICENSING_REVOKED = env.list("LICENSING_REVOKED", default=[])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = _time_zone("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
# Static files are served by whitenoise, with hashed names (cached for a year) and gzip/brotli
# copies made by `collectstatic`, which production needs before it starts. DEBUG serves them
# from the source folders as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "portal.core.storage.StaticFilesStorage"
    },
}
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
# Uploads (the shop's logo). Served by Django in DEBUG; in production by the web server in front.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/services/"

# Accounts (django-allauth; docs/accounts.md): customers sign up with an email address and a
# password and sign in with either their username or their email. A sign-up cannot sign in
# until its address is confirmed (accounts made by staff are not held); the account and its
# Customer are made together.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "portal.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "portal.accounts.forms.LoginForm",
    "signup": "portal.accounts.forms.SignupForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Failed passwords are counted by the portal's own sign-in throttle (per name, address and
# both; LOGIN_THROTTLE_* below), on the customer and the admin login alike. allauth's
# "login_failed" limit then counts only wrong two-factor codes (5 per account per 5 minutes).
ACCOUNT_RATE_LIMITS = {"login": None}
MFA_ADAPTER = "portal.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Staff must set up two-factor authentication before using the admin: on unless DEBUG (the demo
# and the tests), where the setting can still turn it on.
PORTAL_STAFF_REQUIRE_2FA = env.bool("PORTAL_STAFF_REQUIRE_2FA", default=not DEBUG)

# Sign-in throttling (portal/accounts/throttle.py): failed attempts per window, counted per
# (username, client address), per username across all addresses (a ceiling one address cannot
# reach alone, so one attacker cannot lock the real user out), and per client address.
LOGIN_THROTTLE_WINDOW_SECONDS = env.int("LOGIN_THROTTLE_WINDOW_SECONDS", default=900)
LOGIN_THROTTLE_PER_USER_AND_IP = env.int("LOGIN_THROTTLE_PER_USER_AND_IP", default=5)
LOGIN_THROTTLE_PER_USER = env.int("LOGIN_THROTTLE_PER_USER", default=20)
LOGIN_THROTTLE_PER_IP = env.int("LOGIN_THROTTLE_PER_IP", default=30)
for _name in (
    "LOGIN_THROTTLE_WINDOW_SECONDS",
    "LOGIN_THROTTLE_PER_USER_AND_IP",
    "LOGIN_THROTTLE_PER_USER",
    "LOGIN_THROTTLE_PER_IP",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")
# Reverse proxies in front of the portal that append to X-Forwarded-For. At 0 the header is
# ignored (anyone can send it) and the client address is REMOTE_ADDR; behind a proxy that is the
# proxy's, shared by every client, so set this there.
PORTAL_TRUSTED_PROXY_COUNT = env.int("PORTAL_TRUSTED_PROXY_COUNT", default=0)
if PORTAL_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("PORTAL_TRUSTED_PROXY_COUNT must be 0 or more.")

# REST API (docs/api.md): bearer tokens only (no session auth, so no CSRF), JSON only, one error
# body (portal.core.api.errors), pages of API_PAGE_SIZE (a client may ask up to
# API_MAX_PAGE_SIZE) and request rates per user and, without a token, per address.
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=25)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=100)
if not 1 <= API_PAGE_SIZE <= API_MAX_PAGE_SIZE:
    raise ImproperlyConfigured("API_PAGE_SIZE must be between 1 and API_MAX_PAGE_SIZE.")
API_THROTTLE_RATES = {
    "user": env.str("API_THROTTLE_USER", default="120/min"),
    "anon": env.str("API_THROTTLE_ANON", default="30/min"),
}
for _scope, _rate in API_THROTTLE_RATES.items():
    _count, _, _period = _rate.partition("/")
    if not (_count.isdigit() and int(_count) > 0 and _period[:1] in ("s", "m", "h", "d")):
        raise ImproperlyConfigured(
            f"API_THROTTLE_{_scope.upper()} must be a rate such as 120/min (per s, min, h or day)."
        )
# Minting API tokens from the account page, per user.
API_TOKEN_CREATE_LIMIT = env.int("API_TOKEN_CREATE_LIMIT", default=10)
API_TOKEN_CREATE_WINDOW_SECONDS = env.int("API_TOKEN_CREATE_WINDOW_SECONDS", default=3600)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.core.api.pagination.ApiPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.core.api.throttling.ApiUserThrottle",
        "portal.core.api.throttling.ApiAnonThrottle",
    ],
    "EXCEPTION_HANDLER": "portal.core.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": PORTAL_TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VPN Portal API",
    "DESCRIPTION": "Customers' services, invoices, orders and credit; staff management under "
    "/api/v1/staff/. Authenticate with an API token: Authorization: Bearer <token>.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that several endpoints share, named once (a "status" of services and one of
    # invoices would otherwise be told apart by a hash).
    "ENUM_NAME_OVERRIDES": {
        "ServiceStatusEnum": "provisioning.models.ServiceStatus",
        "ServiceActionEnum": "provisioning.models.ServiceAction",
        "InvoiceStatusEnum": "portal.billing.models.InvoiceStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.core.api.schema.add_error_responses",
    ],
    # Only signed-in users (a browser session, for Swagger UI) or token holders read the schema
    # and its page, as only token holders learn the API's URLs from its 404s.
    "SERVE_AUTHENTICATION": [
        "portal.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI's files are vendored (drf-spectacular-sidecar) and served from STATIC_URL, so
    # the page loads under the site's CSP (script-src 'self') with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Email: every message (the portal's own, Django's and allauth's) is recorded, encrypted, by the
# queued backend and sent by a worker after the commit, so a slow or dead mail server never fails
# the request that sent it. The worker delivers through NOTIFICATIONS_DELIVERY_BACKEND: SMTP, or,
# in DEBUG without an EMAIL_HOST, files under var/mail/ (the demo has no mail server).
EMAIL_BACKEND = "portal.notifications.backends.QueuedEmailBackend"
_EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_HOST = _EMAIL_HOST or "localhost"
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
# Without it a mail server that accepts the connection and then says nothing holds a worker forever.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=20.0)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
NOTIFICATIONS_DELIVERY_BACKEND = env.str(
    "NOTIFICATIONS_DELIVERY_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend"
    if DEBUG and not _EMAIL_HOST
    else "django.core.mail.backends.smtp.EmailBackend",
)
if NOTIFICATIONS_DELIVERY_BACKEND == EMAIL_BACKEND:
    raise ImproperlyConfigured(
        "NOTIFICATIONS_DELIVERY_BACKEND must name the backend that delivers (e.g. "
        "django.core.mail.backends.smtp.EmailBackend), not the queued one."
    )
# A failed delivery is tried again with exponential backoff, MAX_ATTEMPTS times in all, then
# marked failed; the sweep re-sends a queued message overdue by SWEEP_AFTER (its task was lost).
# Countdowns stay below the broker's visibility timeout (3600 s), or Redis redelivers early.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.float("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30.0)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_MAX_SECONDS", default=1800.0)
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=300)
if NOTIFICATIONS_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("NOTIFICATIONS_MAX_ATTEMPTS must be at least 1.")
if NOTIFICATIONS_RETRY_BASE_SECONDS < 0:
    raise ImproperlyConfigured("NOTIFICATIONS_RETRY_BASE_SECONDS must be 0 or more.")
if not 0 <= NOTIFICATIONS_RETRY_MAX_SECONDS < 3600:
    raise ImproperlyConfigured(
        "NOTIFICATIONS_RETRY_MAX_SECONDS must be below 3600 (the broker's visibility timeout)."
    )
if NOTIFICATIONS_SWEEP_AFTER_SECONDS < 1:
    raise ImproperlyConfigured("NOTIFICATIONS_SWEEP_AFTER_SECONDS must be at least 1.")

# The portal's public address, for the links in emails (a worker has no request to ask).
PORTAL_BASE_URL = env.str(
    "PORTAL_BASE_URL", default="http://127.0.0.1:8000" if DEBUG else ""
).rstrip("/")
if not PORTAL_BASE_URL:
    raise ImproperlyConfigured(
        "PORTAL_BASE_URL must be set when DEBUG is off: the portal's public address, such as "
        "https://portal.example.com (the links in emails)."
    )
_base = urlsplit(PORTAL_BASE_URL)
if _base.scheme not in ("http", "https") or not _base.hostname or _base.query or _base.fragment:
    raise ImproperlyConfigured(
        "PORTAL_BASE_URL must be an http(s) address such as https://portal.example.com."
    )

# One strict policy for the whole site, admin included (Django 5.2's admin loads only external
# scripts): no inline script or style anywhere, so injected markup cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if STRIPE_SECRET_KEY:
    # The Pay button's form is answered with a redirect to Stripe's hosted page, and browsers hold
    # that redirect to form-action too.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append("https://checkout.stripe.com")

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    if PORTAL_TRUSTED_PROXY_COUNT:
        # Without a proxy that sets it, X-Forwarded-Proto is whatever the client sent.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Production logs are JSON lines (portal/core/logs.py) with the request id; DEBUG keeps text.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {
            "()": "portal.core.logs.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
        "json": {"()": "portal.core.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": _log_level("LOG_LEVEL")},
    "loggers": {"vpnpanel": {"level": _log_level("PANEL_LOG_LEVEL")}},
}
