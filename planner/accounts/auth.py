"""Signing in and out, and who the current person is (Flask-Login).

- The session cookie carries `User.get_id()`: the account's id and the random token of a
  log-in session kept on the server (`planner.accounts.sessions`). The loader accepts it only
  while that session is live, read in the same query as the account: logging out, a new
  password or the session's expiry end it, and a copied cookie with it. Flask-Login's remember
  cookie, were one ever set, carries the same id and is checked the same way.
- Signing in starts a new session (`session.clear()` first): nothing a visitor held before,
  a planted session or CSRF token included, survives into the signed-in session.
- Someone not signed in who asks for a page is sent to the log-in page, which brings them
  back afterwards; a script's fetch() gets 401 instead of a redirect to a page it cannot use.
- `safe_next` accepts only a path on this site, so `?next=` cannot send anyone elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, flash, g, jsonify, redirect, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select

from planner import unit
from planner.accounts import membership, sessions
from planner.accounts.models import AccountSession, User
from planner.extensions import db, login_manager
from planner.models import utcnow
from planner.security import ID_LIMIT

# Built once: a statement is cheap to run and dear to build, and every signed-in request runs this.
_USER_BY_SESSION = (
    select(User, *sessions.LIVE_SESSION_COLUMNS)
    .join(AccountSession, sessions.LIVE_SESSION)
    .where(User.id == bindparam("user_id"))
)
LIVE = "account_session"  # where the loader leaves the request's session row (`sessions.Live`) in `g`


@login_manager.user_loader
def load_user(cookie_id: str) -> User | None:
    parsed = sessions.parse(cookie_id)
    if parsed is None:
        return None
    user_id, token = parsed
    params = {"user_id": user_id, "token_hash": sessions.token_hash(token), "now": utcnow()}
    # A query, not session.get(): one statement per request, whatever the session has seen.
    plan_id = (request.view_args or {}).get("plan_id")
    if isinstance(plan_id, int) and 0 <= plan_id < ID_LIMIT:
        # A plan route: its plan and the person's membership come with the person, in the same
        # query, for `plan_or_404` (which checks them) to take from `g`.
        user, live, found = membership.user_plan_and_membership(user_id, params["token_hash"], plan_id)
        g.plan_read_with_user = (plan_id, found)
    else:
        row = db.session.execute(_USER_BY_SESSION, params).first()
        user, live = (row[0], sessions.Live(*row[1:])) if row else (None, None)
    if user is None or live is None:
        return None
    user.session_token = token
    setattr(g, LIVE, live)
    return user


def touch_session(response: Response) -> Response:
    """After the response is made (and, on SQLite, the request's write lock let go): move the
    session's expiry on, when it is due (`sessions.touch_if_due`)."""
    live = g.pop(LIVE, None)
    if live is not None:
        sessions.touch_if_due(live)
    return response


def _is_script_request() -> bool:
    """A fetch() from our JavaScript rather than a page the browser navigates to."""
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode:
        return mode != "navigate"
    return request.accept_mimetypes.best == "application/json"


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    if _is_script_request():
        response = jsonify(error="Log in to continue.", login=url_for("accounts.login"))
        response.status_code = 401
        return response
    flash("Log in to continue.", "info")
    # After logging in, come back here; a form that was posted cannot be replayed, so a POST
    # comes back to the page it was sent from, if that is on this site.
    back = request.full_path.rstrip("?") if request.method == "GET" else safe_next(request.referrer)
    return redirect(url_for("accounts.login", next=back) if back and back != "/" else url_for("accounts.login"))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/plans/3"), else None.

    Refused: other hosts ("https://evil.example", "//evil.example"), backslashes and control
    characters (browsers read "/\\evil.example" and "/\\t/evil.example" as another host), and
    anything with a scheme. A full URL on our own host is reduced to its path.
    """
    if not target:
        return None
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def sign_in(user: User, *, keep: bool = False) -> None:
    """Start a new session for `user`, on the server and in the cookie. `keep`: stay signed in
    after the browser closes (a permanent cookie, PERMANENT_SESSION_LIFETIME); otherwise the
    cookie ends with the browser, and the server's record after SESSION_IDLE_LIFETIME unused."""
    sessions.end(session.get("_user_id"))  # whatever this browser held before ends here
    session.clear()
    user.session_token = sessions.start(user.id, keep=keep)
    login_user(user)
    session.permanent = keep
    user.last_login_at = utcnow()
    # Others' expired sessions, once this log-in is committed: the sweep's connection of its
    # own would otherwise wait for the request's (on SQLite, for its write lock).
    unit.after_commit(sessions.sweep_expired)
    unit.done()


def sign_out() -> None:
    """End this session: its record on the server first, so that a copy of the cookie (or of
    a remember cookie) is worth nothing from now on."""
    sessions.end(session.get("_user_id"))
    # Committed now, whatever the request does next: once the person has asked to log out,
    # a copy of their cookie must be worth nothing, even if drawing the next page fails.
    unit.commit_now()
    logout_user()
    session.clear()
