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
    # The largest plan document an import accepts, and the largest request the app reads (that
    # document uploaded, with the form around it), in bytes. Both follow from the plan's limits
    # (planner/domain/limits.py) and are set below, so that every plan the wizard lets a team
    # build can be imported again. Not read from the environment: a smaller cap would refuse
    # backups, and a larger one serves nothing. deploy/nginx.conf allows the same.
    MAX_IMPORT_BYTES: int
    MAX_CONTENT_LENGTH: int
    WTF_CSRF_TIME_LIMIT = None  # a workshop day is longer than an hour
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")
    # Flask-Login's remember-me cookie is not used ("keep me signed in" makes the session
    # permanent instead), but should it ever be, it gets the same protection, and it names the
    # same server-side session, so it ends with it.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Every log-in is a record on the server too (planner/accounts/sessions.py), which ends at
    # log-out, at a new password, or here. Without "keep me signed in" the cookie ends with the
    # browser, and the record after 8 hours unused or 24 hours after logging in.
    SESSION_IDLE_LIFETIME = timedelta(hours=8)
    SESSION_MAX_LIFETIME = timedelta(hours=24)
    # With it: 30 days unused (the cookie's lifetime too), and 90 days after logging in at most.
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    KEPT_SESSION_MAX_LIFETIME = timedelta(days=90)
    # A session's expiry moves on when it is used, but at most this often: pages do not write.
    SESSION_TOUCH_SECONDS = 300
    # Behind a reverse proxy, trust its X-Forwarded-For/-Proto/-Host (one hop), so that
    # rate limits see the visitor's address and links use the public scheme and host.
    BEHIND_PROXY = _flag("BEHIND_PROXY")
    # The public address of the app, for links in e-mails, the log and the command line
    # ("https://planner.example.org"). Required with MAIL_SERVER: the app refuses to start
    # without it. A link never takes its host from the request's Host header unless that
    # header was checked against TRUSTED_HOSTS.
    BASE_URL = os.environ.get("BASE_URL", "").strip().rstrip("/")
    # The host names this app answers to ("planner.example.org,.example.net"; a leading dot
    # allows subdomains). Flask answers 400 to a request for any other. Empty: not checked.
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None

    # Accounts (planner/accounts). A reset link works once, for this many seconds.
    PASSWORD_RESET_MAX_AGE = 3600
    INVITATION_DAYS = 7  # how long a new invitation link works unless the facilitator picks otherwise
    # Log-in and password-reset attempts, counted in the database so all processes share them.
    # Per address is generous: a workshop room shares one address behind its router.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "planner-db://")
    RATELIMIT_STRATEGY = "fixed-window"
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes")
    # Reset links asked for one account, from every address together (each address also has
    # LOGIN_LIMIT_PER_ACCOUNT of its own for it): a stranger cannot use up the owner's.
    RESET_LIMIT_PER_ACCOUNT = os.environ.get("RESET_LIMIT_PER_ACCOUNT", "30 per day")
    # Invitations sent to addresses, per inviting account (all its plans together), and per
    # address invited (from anyone): nobody can mail-bomb through Planner.
    INVITE_LIMIT = os.environ.get("INVITE_LIMIT", "20 per hour")
    INVITE_LIMIT_PER_RECIPIENT = os.environ.get("INVITE_LIMIT_PER_RECIPIENT", "5 per day")
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
    # Limits of each app process's render process (planner/documents/render.py), so that one
    # very long plan cannot take the server: CPU seconds one PDF may take (the large plan of
    # docs/performance.md takes about 30), and the process's memory ceiling (address space; it
    # starts at about 350 MB). A PDF past either is "too long to print" until its plan changes or
    # the limit is raised.
    PDF_RENDER_TIMEOUT_SECONDS = float(os.environ.get("PDF_RENDER_TIMEOUT_SECONDS", "120"))
    PDF_RENDER_MEMORY_MB = int(os.environ.get("PDF_RENDER_MEMORY_MB", "1536"))
    # A render process whose peak memory passed this after a PDF is replaced, to give it back
    # (the large plan peaks at about 490 MB and is kept; the example plan at about 150 MB).
    PDF_RENDER_KEEP_MB = int(os.environ.get("PDF_RENDER_KEEP_MB", "512"))
    # How long a PDF download waits for the background worker before it answers "being drawn"
    # (202) instead: well under a proxy's 60 s. (The worker runs with PDF_PRERENDER off too; only
    # without a cache directory does a download draw the PDF itself.)
    PDF_WAIT_SECONDS = float(os.environ.get("PDF_WAIT_SECONDS", "15"))
    # Each app process keeps values step pages work out from a plan, per plan revision
    # (planner/plans/cached.py). PAGE_CACHE=0 works every page out anew, to compare.
    PAGE_CACHE = _flag("PAGE_CACHE", default=True)
    # The workshop's live streams (planner/workshop/live.py, docs/workshop.md), counted in each
    # app process. Past a cap the oldest stream ends, and its page polls, then streams again.
    # Per participant (and per facilitator account, per projector link): a phone, a laptop and
    # a reloaded tab whose old stream the server has not yet seen close, and one spare.
    WORKSHOP_STREAMS_PER_PARTICIPANT = int(os.environ.get("WORKSHOP_STREAMS_PER_PARTICIPANT", "4"))
    # Per session: a room of 1,000, a second device for some, projectors and the console.
    WORKSHOP_STREAMS_PER_SESSION = int(os.environ.get("WORKSHOP_STREAMS_PER_SESSION", "1200"))
    # Per process, all sessions together; 0 is no ceiling. gunicorn.conf.py sets it for each
    # gthread worker to its threads less a reserve, so that streams never take every thread.
    WORKSHOP_STREAMS_PER_PROCESS = int(os.environ.get("WORKSHOP_STREAMS_PER_PROCESS", "0"))
    # How many states a second each process sends, in all, to the phones of one session: in a
    # big room each phone's gap between states grows to keep to it (planner/workshop/live.py).
    WORKSHOP_PHONE_STATES_PER_SECOND = float(os.environ.get("WORKSHOP_PHONE_STATES_PER_SECOND", "200"))


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
    PDF_WAIT_SECONDS = 0.5


# Set here, after the classes: importing planner (for its limits) imports this module too.
from planner.domain import limits  # noqa: E402

Config.MAX_IMPORT_BYTES = limits.import_bytes()
Config.MAX_CONTENT_LENGTH = limits.request_bytes()
