"""Configuration classes. Settings come from the environment; tests subclass `Config`."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
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
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
