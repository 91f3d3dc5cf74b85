"""Configuration classes. Settings come from the environment; tests subclass `Config`."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return value in ("1", "true", "yes", "on") if value else default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'planner.sqlite'}"
    # Hosting platforms often hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def instance_secret_key(path: Path = INSTANCE_DIR / "secret_key") -> str:
    """The key kept in instance/secret_key, made on first use (mode 0600), for when SECRET_KEY
    is not set: `make run` works with no setup, and sessions outlive a restart. Every process
    on this machine reads the same file; several machines need SECRET_KEY instead."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: a process that starts at the same moment reads
    # either no file or the whole key, and only one key ever wins.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


class Config:
    # Empty: create_app uses instance_secret_key(). Production sets it (docs/deploy.md).
    SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # The largest request the app reads: a JSON import or a long form.
    # Room for a full-size import plus the multipart envelope around it.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024 + 64 * 1024
    # The largest plan document an import accepts, in bytes.
    MAX_IMPORT_BYTES = 2 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # a workshop day is longer than an hour
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")
    # Flask-Login's remember-me cookie is not used ("keep me signed in" makes the session
    # permanent instead), but should it ever be, it gets the same protection.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # How long "keep me signed in" lasts; without it, the session ends with the browser.
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    # Behind a reverse proxy, trust its X-Forwarded-For/-Proto/-Host (one hop), so that
    # rate limits see the visitor's address and links use the public scheme and host.
    BEHIND_PROXY = _flag("BEHIND_PROXY")
    # The public address of the app, for links in e-mails and from the command line
    # ("https://planner.example.org"). Empty: links use the address of the request.
    BASE_URL = os.environ.get("BASE_URL", "").strip().rstrip("/")

    # Accounts (planner/accounts). A reset link works once, for this many seconds.
    PASSWORD_RESET_MAX_AGE = 3600
    INVITATION_DAYS = 7  # how long a new invitation link works unless the facilitator picks otherwise
    # Log-in and password-reset attempts, counted in the database so all processes share them.
    # Per address is generous: a workshop room shares one address behind its router.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "planner-db://")
    RATELIMIT_STRATEGY = "fixed-window"
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes")
    # Outgoing mail (password resets). Without MAIL_SERVER the link goes to the log instead,
    # and `flask --app app user reset-link EMAIL` prints one. See docs/accounts.md.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "").strip()
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", default=True)  # STARTTLS; or MAIL_USE_SSL=1 for port 465
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Planner <planner@localhost>")
    # Where rendered PDFs are kept until their plan changes (planner/documents/cache.py); every
    # app process on a machine should share it. Empty switches the cache off.
    PDF_CACHE_DIR = os.environ.get("PDF_CACHE_DIR", str(INSTANCE_DIR / "pdf-cache"))
    # Draw each plan's PDF into that cache ahead of the download (planner/documents/prerender.py):
    # once PDF_SETTLE_SECONDS have passed since the plan's last edit, and at once when someone
    # waits for it. Settled 20 s, a large plan's PDF (about 30 s to draw) is ready within a minute.
    PDF_PRERENDER = _flag("PDF_PRERENDER", default=True)
    PDF_SETTLE_SECONDS = float(os.environ.get("PDF_SETTLE_SECONDS", "20"))
    # How often each app process looks for PDFs to draw; 0 starts no worker (tests call sweep()).
    PDF_PRERENDER_POLL_SECONDS = 2.0
    # Plans edited within this many days are kept drawn, each new day (the cover's date) too.
    PDF_PRERENDER_DAYS = 7
    # Each app process keeps what step pages draw the same for everyone, per plan revision
    # (planner/pagecache.py). PAGE_CACHE=0 draws every page anew, to compare.
    PAGE_CACHE = _flag("PAGE_CACHE", default=True)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    # Off, so that tests never write into the instance folder; the cache's tests give each
    # test its own temporary directory.
    PDF_CACHE_DIR = ""
    # No background drawing unless a test asks for it, and then it drives `prerender.sweep`.
    PDF_PRERENDER = False
    PDF_SETTLE_SECONDS = 0.2
    PDF_PRERENDER_POLL_SECONDS = 0.0
