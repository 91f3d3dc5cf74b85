"""Log-in sessions kept on the server, so that logging out (or a new password) really ends them.

The session cookie carries `"<user id>:<token>"` (`User.get_id()`), where the token is random
and only its SHA-256 is stored, in `account_sessions`. The user loader
(`planner.accounts.auth.load_user`) reads the account and its live session row in the query it
makes anyway, so checking costs no extra statement. A copied cookie stops working as soon as
its row is gone:

- logging out deletes the row (`end`);
- a new password, changed or reset, deletes every row of the account (`end_all`); the page
  that set it starts a new session for the device in front of it;
- a row expires (`expires_at`): without "keep me signed in", after SESSION_IDLE_LIFETIME
  without a request and at most SESSION_MAX_LIFETIME after logging in; with it, after
  PERMANENT_SESSION_LIFETIME unused and at most KEPT_SESSION_MAX_LIFETIME after logging in.

Using a session moves its expiry on, but at most once every SESSION_TOUCH_SECONDS, after the
response is made, on a connection of its own (`touch_if_due`): a page costs no write. At each
log-in the account's own expired rows are deleted; after it, up to SWEEP_ROWS of anyone's, in a
transaction of their own (`sweep_expired`), through the index on `expires_at`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, bindparam, delete, insert, select, update

from planner.accounts.models import AccountSession, User
from planner.extensions import db
from planner.models import utcnow
from planner.security import ID_LIMIT

TOKEN_BYTES = 32
_SESSIONS = AccountSession.__table__


class Live(NamedTuple):
    """What the user loader read of the request's session row, for `touch_if_due`."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    keep: bool


# The columns of a session row the user loader reads, and the condition that makes a row the
# live session of the account being loaded; `token_hash` and `now` are bound per request.
LIVE_SESSION_COLUMNS = (AccountSession.id, AccountSession.created_at, AccountSession.last_seen_at, AccountSession.keep)


LIVE_SESSION = and_(
    AccountSession.user_id == User.id,
    AccountSession.token_hash == bindparam("token_hash"),
    AccountSession.expires_at > bindparam("now"),
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse(cookie_id: str) -> tuple[int, str] | None:
    """The account id and session token a cookie names ("12:tok..."), or None if it names no
    account. A token that is not one of ours (too short, absent) is still looked up, and found
    nowhere: the answer is the same, and takes the same one query, as for a session that ended."""
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or len(user_id) > 10 or int(user_id) >= ID_LIMIT or len(token) > 100:
        return None
    return int(user_id), token


def lifetimes(keep: bool) -> tuple[timedelta, timedelta]:
    """How long a session may go unused, and how long it may last at most."""
    config = current_app.config
    if keep:
        return config["PERMANENT_SESSION_LIFETIME"], config["KEPT_SESSION_MAX_LIFETIME"]
    return config["SESSION_IDLE_LIFETIME"], config["SESSION_MAX_LIFETIME"]


def expiry(created_at: datetime, seen_at: datetime, keep: bool) -> datetime:
    idle, longest = lifetimes(keep)
    return min(seen_at + idle, created_at + longest)


def _row(user_id: int, keep: bool) -> tuple[str, dict[str, object]]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    values = {
        "user_id": user_id,
        "token_hash": token_hash(token),
        "keep": keep,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": expiry(now, now, keep),
    }
    return token, values


def start(user_id: int, *, keep: bool = False) -> str:
    """A new session for the account, added to the request's unit of work (the caller
    commits); returns its token. Also clears away the account's own sessions that have
    expired: only its own, so that two people logging in at once never wait for each other."""
    token, values = _row(user_id, keep)
    db.session.execute(
        delete(AccountSession).where(
            AccountSession.user_id == user_id, AccountSession.expires_at < values["created_at"]
        )
    )
    db.session.add(AccountSession(**values))
    return token


SWEEP_ROWS = 100  # expired sessions of other accounts deleted, at most, after each log-in


def sweep_expired() -> None:
    """Delete up to SWEEP_ROWS expired sessions, anyone's, in a short transaction of its own:
    after a log-in has committed. On PostgreSQL it skips rows another transaction holds
    (FOR UPDATE SKIP LOCKED), so it never waits for a log-in and none waits long for it."""
    with db.engine.begin() as conn:
        expired = select(_SESSIONS.c.id).where(_SESSIONS.c.expires_at < utcnow()).limit(SWEEP_ROWS)
        if conn.dialect.name == "postgresql":
            expired = expired.with_for_update(skip_locked=True)
        conn.execute(delete(_SESSIONS).where(_SESSIONS.c.id.in_(expired.scalar_subquery())))


def start_detached(user_id: int) -> str:
    """A new session, committed at once on a connection of its own: for the command line and
    the tests, which sign someone in without the log-in page (`User.get_id()`)."""
    token, values = _row(user_id, False)
    with db.engine.begin() as conn:
        conn.execute(insert(_SESSIONS).values(**values))
    return token


def end(cookie_id: str | None) -> None:
    """Delete the session a cookie names (the caller commits). Nothing to do for none."""
    parsed = parse(cookie_id or "")
    if parsed is not None:
        user_id, token = parsed
        db.session.execute(
            delete(AccountSession).where(
                AccountSession.user_id == user_id, AccountSession.token_hash == token_hash(token)
            )
        )


def end_all(user_id: int) -> None:
    """Delete every session of the account (the caller commits): after a new password."""
    db.session.execute(delete(AccountSession).where(AccountSession.user_id == user_id))


def touch_if_due(live: Live) -> None:
    """Move a used session's expiry on, if its last move is SESSION_TOUCH_SECONDS old. Runs
    after the response is made, on its own connection: it never waits for the request's work,
    and a page that only reads writes nothing for the next few minutes."""
    now = utcnow()
    if now - live.last_seen_at < timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"]):
        return
    with db.engine.begin() as conn:
        conn.execute(
            update(_SESSIONS)
            .where(_SESSIONS.c.id == live.id, _SESSIONS.c.expires_at > now)
            .values(last_seen_at=now, expires_at=expiry(live.created_at, now, live.keep))
        )
