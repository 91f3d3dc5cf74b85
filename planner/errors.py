"""Friendly error pages: the site's own layout, a plain explanation and a way on.

A 403 names the person's role in the plan and who can change it. A blueprint may answer an
error its own way first (the import page shows an oversized upload on the form itself).

A 500 apologises and shows the request id to quote; the traceback goes to the log (with the
same id), and onto the page only when the app runs in debug mode.

When the database cannot be reached (stopped, restarting, the network between), every request
that needs it answers 503 with `Retry-After`: a page that says the saved work is safe, or JSON
for scripts and fetch() calls. The session is rolled back first, so nothing is half-saved; the
engine's `pool_pre_ping` and SQLAlchemy's pool invalidation on a disconnect mean that once the
database is back, the next request gets a fresh connection, with no restart.
"""

from __future__ import annotations

import contextlib
import logging
import traceback

from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from planner.accounts import membership, roles
from planner.extensions import db, login_manager
from planner.ops import first_line, forget_session, request_id

log = logging.getLogger(__name__)

TITLES = {
    400: "That request did not work",
    403: "Your role does not allow this",
    404: "Nothing here",
    405: "That request did not work",
    413: "That is too large",
    415: "That request did not work",
    429: "Too many attempts",
}
MESSAGES = {
    400: "The form may have expired, or was sent from another page. Go back, reload the page and try again.",
    404: "There is no such page, or it belongs to a plan you are not a member of. "
    "If someone shared a link with you, ask them to invite you to the plan.",
    405: "This address does not answer that kind of request.",
    413: "What you sent is larger than this server accepts in one request.",
    415: "This address takes a form sent from one of Planner's pages, not a document of that kind.",
    429: "There were too many attempts from here in a short time. Wait a few minutes, then try again.",
}


def _page(error: HTTPException):
    code = error.code or 500
    # A description our own code gave abort() is meant for the person; Werkzeug's are not.
    custom = error.description if code in (403, 404) and error.description != type(error).description else None
    title = "That is not possible here" if code == 403 and custom else TITLES.get(code, "Something went wrong")
    context = {"code": code, "title": title, "message": custom or MESSAGES.get(code)}
    if code == 403 and not custom and g.get("plan") is not None:
        context.update(
            plan=g.plan,
            role=roles.with_article(g.plan_role),
            allowed=roles.ROLE_HELP.get(g.plan_role, ""),
            facilitators=membership.facilitator_names(g.plan.id),
        )
    response = error.get_response()
    return (
        render_template("errors/error.html", **context),
        code,
        {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After")},
    )


# How long a caller should wait before trying again when the database is away, in seconds.
RETRY_AFTER = 60
UNAVAILABLE_MESSAGE = (
    "Planner cannot reach its database right now. Your last saved work is safe. Try again in a minute."
)


SQLITE_OUTAGES = ("unable to open database file", "database is locked", "disk i/o error", "database or disk is full")


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether an exception means "the database cannot be reached", not "this query is wrong".

    OperationalError covers refused connections, a server shutting down and SQLite's "unable
    to open database file"; InterfaceError a connection that is already closed; a pool timeout
    means no connection could be had. Any other DBAPI error counts only when SQLAlchemy saw
    that it was a disconnect.
    """
    if isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("sqlite3"):
        # SQLite's OperationalError also means "no such table" (a missed migration): a bug, not an outage.
        return any(outage in str(exc.orig).lower() for outage in SQLITE_OUTAGES)
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best == "application/json"
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.is_json
    )


def _unavailable(error: Exception):
    if not database_unreachable(error):
        raise error  # a bug after all: the 500 page, and its traceback in the log
    forget_session()  # nothing of this request is committed
    _without_database_user()
    log.warning("the database cannot be reached: %s", first_line(error))
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    if _wants_json():
        body = {"error": UNAVAILABLE_MESSAGE, "database": "unavailable", "request_id": request_id()}
        return jsonify(body), 503, headers
    # A page of its own, not the site's layout: the layout asks the database who is logged in.
    return render_template("errors/unavailable.html", message=UNAVAILABLE_MESSAGE, retry_url=_retry_url()), 503, headers


def _without_database_user() -> None:
    """Every template gets `current_user` (Flask-Login), which would ask the database again for
    an account it could not load: draw the page as for a visitor instead."""
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()


def _retry_url() -> str | None:
    """The page to try again: this one, if it was a plain GET of a path on this site."""
    if request.method != "GET" or request.path.startswith("//"):
        return None
    return request.full_path.rstrip("?")


def _server_error(error: InternalServerError):
    original = error.original_exception
    if database_unreachable(original):
        # Raised where no handler could catch it (an error page, an after_request function).
        return _unavailable(original)  # type: ignore[arg-type]
    # Undo what the request wrote, but keep the session: the layout names the person logged in,
    # and an account expired by the rollback loads again in a fresh transaction.
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    trace = "".join(traceback.format_exception(original)) if current_app.debug and original else None
    context = {
        "code": 500,
        "title": "Something went wrong on our side",
        "message": "Planner hit a problem it did not expect, and could not finish what you asked. "
        "Work you saved before is safe; what you just sent may not have been saved. "
        "Go back and try again. If it happens again, tell whoever runs Planner, and quote the request id below.",
        "trace": trace,
    }
    try:
        return render_template("errors/error.html", **context), 500
    except Exception:  # the layout itself failed (it asks the database who is logged in)
        log.exception("the error page could not be drawn")
        _without_database_user()
        return render_template("errors/unavailable.html", title=context["title"], message=context["message"]), 500


def register_error_pages(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, _page)
    app.register_error_handler(InternalServerError, _server_error)
    # Other DBAPI errors that turn out to be disconnects reach _server_error, which checks.
    for exc_class in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(exc_class, _unavailable)
