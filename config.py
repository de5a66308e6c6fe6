"""Configuration classes, driven by ``LMS_*`` environment variables.

Pick one with ``LMS_ENV`` (``development``, ``testing`` or ``production``) or pass a
class or mapping to :func:`lms.create_app`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("LMS_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, *, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sì"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _development_secret_key() -> str:
    """Return a random key kept in ``instance/``, so sessions survive a restart.

    Never a key written in the source: a development server reachable from a
    network must not accept cookies forged with a public key.
    """
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key, encoding="ascii")
    path.chmod(0o600)
    return key


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("LMS_SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "LMS_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}  # noqa: RUF012
    #: PostgreSQL: psycopg prepares a statement after its fifth run on a connection,
    #: and PostgreSQL then plans it once for all (lms.core.sql.custom_plans says
    #: where it must not). Off (``0``) only for a PgBouncer in transaction mode
    #: older than 1.21, which cannot keep prepared statements (docs/deploy.md).
    DATABASE_PREPARED_STATEMENTS = _env_bool("LMS_DATABASE_PREPARED_STATEMENTS", default=True)
    CONTENT_DIR = os.environ.get("LMS_CONTENT_DIR", str(BASE_DIR / "content"))
    ANNUAL_HOURS_TARGET = _env_int("LMS_ANNUAL_HOURS_TARGET", 40)
    #: Public address of the site, used in links sent by e-mail or printed by the CLI.
    BASE_URL = os.environ.get("LMS_BASE_URL", "http://127.0.0.1:5000")
    ALLOW_SQLITE_IN_PRODUCTION = _env_bool("LMS_ALLOW_SQLITE_IN_PRODUCTION")

    # Sessions and cookies
    SESSION_COOKIE_NAME = "lms_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("LMS_SECURE_COOKIES", default=True)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("LMS_SESSION_HOURS", 8))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _env_bool("LMS_SECURE_COOKIES", default=True)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)

    # Forms
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Languages
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")

    # Login throttling (Flask-Limiter). Redis in production: redis://host:6379/0
    RATELIMIT_STORAGE_URI = os.environ.get("LMS_RATELIMIT_STORAGE_URL", "memory://")
    #: Prefix of the counters' keys: tells apart deployments that share one Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("LMS_RATELIMIT_KEY_PREFIX", "lms")
    #: When Redis does not answer, count in this process's memory until it is back,
    #: instead of failing every sign-in with a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LMS_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LMS_LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")

    # One-time links to set a password
    PASSWORD_TOKEN_HOURS = _env_int("LMS_PASSWORD_TOKEN_HOURS", 72)
    PASSWORD_MIN_LENGTH = 10

    # Outgoing mail: links are e-mailed only when a host is configured.
    SMTP_HOST = os.environ.get("LMS_SMTP_HOST", "")
    SMTP_PORT = _env_int("LMS_SMTP_PORT", 587)
    SMTP_USER = os.environ.get("LMS_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("LMS_SMTP_PASSWORD", "")
    SMTP_STARTTLS = _env_bool("LMS_SMTP_STARTTLS", default=True)
    MAIL_FROM = os.environ.get("LMS_MAIL_FROM", "formazione@example.invalid")

    # Reminders and digests: see lms/notifications and docs/notifications.md.
    #: Days before a due date on which learners are reminded (comma-separated,
    #: largest first; a standing rule may set its own).
    REMINDER_DAYS = os.environ.get("LMS_REMINDER_DAYS", "14,3")
    #: How many times the overdue notice is repeated, a week apart, after the first one.
    REMINDER_OVERDUE_REPEATS = _env_int("LMS_REMINDER_OVERDUE_REPEATS", 3)
    #: The day of the week digests go out: 0 Monday ... 6 Sunday.
    DIGEST_WEEKDAY = _env_int("LMS_DIGEST_WEEKDAY", 0)
    #: Messages sent over one SMTP connection by one batch.
    NOTIFY_BATCH_SIZE = _env_int("LMS_NOTIFY_BATCH_SIZE", 200)
    #: Attempts before a message that the server keeps deferring is given up.
    NOTIFY_MAX_ATTEMPTS = _env_int("LMS_NOTIFY_MAX_ATTEMPTS", 8)
    #: Where people report accessibility problems (the accessibility statement);
    #: empty: MAIL_FROM.
    ACCESSIBILITY_CONTACT = os.environ.get("LMS_ACCESSIBILITY_CONTACT", "")
    #: The administration responsible for the platform, named in the statement.
    ACCESSIBILITY_ORGANISATION = os.environ.get("LMS_ACCESSIBILITY_ORGANISATION", "")

    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # uploads (rosters) up to 32 MiB

    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers
    #: are trusted (0: none). Needed for per-address login limits behind a proxy.
    PROXY_COUNT = _env_int("LMS_PROXY_COUNT", 0)

    # SPID and CIE sign-in (lms/spid, docs/spid.md): enabled when SPID_IDP_METADATA is set.
    #: A metadata file, or a folder of them (*.xml), one identity provider each.
    SPID_IDP_METADATA = os.environ.get("LMS_SPID_IDP_METADATA", "")
    #: The SP's entity ID; empty: BASE_URL + /spid/metadata.
    SPID_ENTITY_ID = os.environ.get("LMS_SPID_ENTITY_ID", "")
    #: PEM files of the SP's signing key and certificate (lms spid certificate writes them).
    SPID_KEY = os.environ.get("LMS_SPID_KEY", "")
    SPID_CERT = os.environ.get("LMS_SPID_CERT", "")
    #: The administration's IndicePA code (a public SP), its name and contact.
    SPID_IPA_CODE = os.environ.get("LMS_SPID_IPA_CODE", "")
    SPID_ORGANIZATION = os.environ.get("LMS_SPID_ORGANIZATION", "")
    SPID_CONTACT_EMAIL = os.environ.get("LMS_SPID_CONTACT_EMAIL", "")
    #: Optional contact telephone (+39..., no spaces) in the metadata.
    SPID_CONTACT_PHONE = os.environ.get("LMS_SPID_CONTACT_PHONE", "")
    #: The seat's municipality, as a cadastral code (CIE's metadata asks for it) and name
    #: (the certificate's localityName).
    SPID_MUNICIPALITY = os.environ.get("LMS_SPID_MUNICIPALITY", "H501")
    SPID_LOCALITY = os.environ.get("LMS_SPID_LOCALITY", "Roma")
    #: The SPID level asked for: https://www.spid.gov.it/SpidL1, SpidL2 or SpidL3.
    SPID_LEVEL = os.environ.get("LMS_SPID_LEVEL", "https://www.spid.gov.it/SpidL2")
    #: How long an identity provider may take to answer an AuthnRequest.
    SPID_REQUEST_MINUTES = _env_int("LMS_SPID_REQUEST_MINUTES", 15)
    #: Entity IDs of identity providers to show under "Entra con CIE" besides CIE's own
    #: (comma-separated; e.g. a test IdP standing for CIE's).
    SPID_CIE_IDPS = os.environ.get("LMS_SPID_CIE_IDPS", "")
    #: The xmlsec1 program pysaml2 calls (Debian's xmlsec1; scripts/install-xmlsec.sh).
    SPID_XMLSEC_BINARY = os.environ.get("LMS_SPID_XMLSEC_BINARY", "")

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Refuse settings that are unsafe for this environment."""


class DevelopmentConfig(Config):
    """``make run``: SQLite under ``instance/``, plain HTTP on loopback."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = _env_bool("LMS_SECURE_COOKIES", default=False)
    REMEMBER_COOKIE_SECURE = _env_bool("LMS_SECURE_COOKIES", default=False)

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Give development a persistent random key when none is set."""
        if not settings.get("SECRET_KEY"):
            settings["SECRET_KEY"] = _development_secret_key()


class TestingConfig(Config):
    """The test suite: its own database, no rate limit unless a test asks for it."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-key"  # noqa: S105 - used only by the test suite
    SQLALCHEMY_DATABASE_URI = os.environ.get("LMS_TEST_DATABASE_URL", "sqlite://")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_ENABLED = False
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    """Behind a reverse proxy with HTTPS, on PostgreSQL."""

    ENV_NAME = "production"
    #: SQL parameters (names, codici fiscali) stay out of error messages and logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}  # noqa: RUF012

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Refuse to start without a secret key, or on SQLite unless allowed."""
        if not settings.get("SECRET_KEY"):
            raise RuntimeError("LMS_SECRET_KEY must be set in production")
        uri = str(settings.get("SQLALCHEMY_DATABASE_URI", ""))
        if uri.startswith("sqlite") and not settings.get("ALLOW_SQLITE_IN_PRODUCTION"):
            raise RuntimeError(
                "production runs on PostgreSQL: set LMS_DATABASE_URL, "
                "or LMS_ALLOW_SQLITE_IN_PRODUCTION=1 to accept SQLite knowingly"
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Return the configuration class named by ``LMS_ENV`` (development by default)."""
    name = os.environ.get("LMS_ENV", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"LMS_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
