"""Rate limits on log-in, sign-up, password, account-change and invitation attempts, counted in the
app's own database.

`DatabaseStorage` is a storage for the `limits` library (which Flask-Limiter uses), registered
under the scheme `planner-db://`: RATELIMIT_STORAGE_URI selects it. Its counters live in the
`rate_limit_counters` table, so every app process behind a load balancer shares them, with
nothing else to install. It supports the fixed-window strategy: one counter per key, which
starts again when its window ends.

Each operation runs on a connection and transaction of its own, never the request's session:
counting an attempt must neither commit nor roll back the request's work. An increment is a
single INSERT ... ON CONFLICT DO UPDATE ... RETURNING, atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app, request, session
from limits import parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from planner.accounts.models import RateLimitCounter
from planner.accounts.users import normalize_email
from planner.extensions import db, limiter
from planner.models import utcnow

COUNTERS = RateLimitCounter.__table__
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limit_counters` table of the app's database."""

    STORAGE_SCHEME = ["planner-db"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    @staticmethod
    def _engine() -> Engine:
        # The engine of the app handling the request: Flask-SQLAlchemy binds one per app.
        return db.engine

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        engine = self._engine()
        insert = _INSERTS.get(engine.dialect.name)
        if insert is None:
            raise ConfigurationError(f"planner-db:// rate limits need SQLite or PostgreSQL, not {engine.dialect.name}")
        now = utcnow()
        stmt = insert(COUNTERS).values(key=key, count=amount, expires_at=now + timedelta(seconds=expiry))
        ended = COUNTERS.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[COUNTERS.c.key],
            set_={
                # A window that has ended starts again with this attempt.
                "count": case((ended, stmt.excluded.count), else_=COUNTERS.c.count + stmt.excluded.count),
                "expires_at": case((ended, stmt.excluded.expires_at), else_=COUNTERS.c.expires_at),
            },
        ).returning(COUNTERS.c.count)
        with engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
            # Tidy up as we go: windows that ended long ago are only clutter.
            conn.execute(delete(COUNTERS).where(COUNTERS.c.expires_at < now - timedelta(days=1)))
        return int(count)

    def _live(self, key: str) -> tuple[int, datetime] | None:
        with self._engine().connect() as conn:
            row = conn.execute(
                select(COUNTERS.c.count, COUNTERS.c.expires_at).where(
                    COUNTERS.c.key == key, COUNTERS.c.expires_at > utcnow()
                )
            ).first()
        return (int(row[0]), row[1]) if row else None

    def get(self, key: str) -> int:
        live = self._live(key)
        return live[0] if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        expires = live[1] if live else utcnow()
        return expires.replace(tzinfo=UTC).timestamp()

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(select(func.count()).select_from(COUNTERS))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(COUNTERS).where(COUNTERS.c.key == key))


# ---------------------------------------------------------------- the limits on attempts


def _account_key_for(email: str) -> str:
    """The counters' name for an account, from its e-mail address. Hashed: the counters table
    need not hold anyone's address, and a long address still fits the key column."""
    return "account:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def _account_key() -> str:
    """The account an attempt is about, from the form's e-mail field."""
    return _account_key_for(request.form.get("email", ""))


def _reset_key() -> str:
    """Reset requests are counted apart from log-in attempts, and per account AND address:
    someone who used up an account's log-in attempts, or its reset requests from their own
    address, must not be able to stop its owner from asking for a reset link."""
    return "reset:" + _account_key().removeprefix("account:") + ":" + _address_key()


def _reset_account_key() -> str:
    """Reset requests for an account, from any address: RESET_LIMIT_PER_ACCOUNT."""
    return "reset:" + _account_key().removeprefix("account:")


def _address_key() -> str:
    # Behind a proxy, ProxyFix (BEHIND_PROXY) has already put the visitor's address here.
    return "address:" + (request.remote_addr or "unknown")


def _signed_in_id() -> str | None:
    """The signed-in account's id, read from the signed session, not `current_user`: loading
    the account would begin the request's write transaction (planner/sqlite.py), and the
    counter's own connection would wait for it."""
    user_id = str(session.get("_user_id", "")).partition(":")[0]
    return user_id if user_id.isdigit() else None


def _signed_in_key() -> str:
    """The signed-in account, for its own forms: what they name may be a new address."""
    user_id = _signed_in_id()
    return f"user:{user_id}" if user_id else _account_key()


def _inviter_key() -> str:
    """Invitations sent, per inviting account, whatever the plan: a new plan starts no new count."""
    return f"invite:{_signed_in_id() or _address_key()}"


def _recipient_key() -> str:
    """Invitations sent to an address, from anyone: the form's e-mail field, hashed."""
    return "invitee:" + _account_key().removeprefix("account:")


def _limited(view: Callable[..., Any], account_key: Callable[[], str], scope: str | None = None) -> Callable[..., Any]:
    """The per-address and per-account limits; with `scope`, every view given the same scope
    shares one count of each (Flask-Limiter's shared limits), otherwise each view has its own."""

    def limit(value: Callable[[], str], key_func: Callable[[], str]) -> Callable[..., Any]:
        if scope is None:
            return limiter.limit(value, key_func=key_func, methods=["POST"])
        return limiter.shared_limit(value, scope, key_func=key_func, methods=["POST"])

    per_address = limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], _address_key)
    per_account = limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], account_key)
    return per_address(per_account(view))


def limit_attempts(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit POSTs to `view` per account (LOGIN_LIMIT_PER_ACCOUNT) and per address
    (LOGIN_LIMIT_PER_ADDRESS). Every attempt counts, successful or not, so the count is
    exact even when many arrive at once. Over a limit, the answer is 429 (see errors)."""
    return _limited(view, _account_key)


def limit_reset_requests(view: Callable[..., Any]) -> Callable[..., Any]:
    """The same limits on asking for a reset link, counted apart from log-in attempts and per
    account and address; and RESET_LIMIT_PER_ACCOUNT, per account from every address."""
    per_account = limiter.limit(
        lambda: current_app.config["RESET_LIMIT_PER_ACCOUNT"], key_func=_reset_account_key, methods=["POST"]
    )
    return _limited(per_account(view), _reset_key)


CURRENT_PASSWORD_SCOPE = "current-password"  # one count for every form that asks for it


def limit_account_changes(view: Callable[..., Any]) -> Callable[..., Any]:
    """The same limits on a signed-in person's own account forms (password, name and e-mail),
    counted per account and shared by all of them: each asks for the current password, which
    must not be guessable from an open session, one form's budget after another's."""
    return _limited(view, _signed_in_key, CURRENT_PASSWORD_SCOPE)


def limit_invitations(view: Callable[..., Any]) -> Callable[..., Any]:
    """INVITE_LIMIT on invitations sent to addresses, per inviting account (every plan
    counts together), and INVITE_LIMIT_PER_RECIPIENT per address invited, from anyone."""
    per_inviter = limiter.limit(lambda: current_app.config["INVITE_LIMIT"], key_func=_inviter_key, methods=["POST"])
    per_recipient = limiter.limit(
        lambda: current_app.config["INVITE_LIMIT_PER_RECIPIENT"], key_func=_recipient_key, methods=["POST"]
    )
    return per_inviter(per_recipient(view))


def forget_log_in_attempts(email: str) -> None:
    """Clear an account's log-in count (LOGIN_LIMIT_PER_ACCOUNT): after its owner proved
    themselves with a reset link, they may log in at once. The per-address count stays."""
    # The counter's identifiers as Flask-Limiter builds them: [prefix,] key, scope (the endpoint).
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    identifiers = [prefix] if prefix else []
    identifiers += [_account_key_for(email), LOG_IN_ENDPOINT]
    for item in parse_many(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        limiter.limiter.clear(item, *identifiers)


LOG_IN_ENDPOINT = "accounts.login"
