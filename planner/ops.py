"""Running Planner in production: the health check, request ids and one log line per request.

* `/healthz` tells a load balancer whether this process can reach the database (`SELECT 1`).
  It needs no log-in, is never rate limited, sets no cookie and is never cached.
* Every request gets an id: the proxy's `X-Request-ID` when it looks sane, else a new uuid4.
  It goes back in the response's `X-Request-ID`, onto the error pages (so a person can quote
  it), and onto every log record made during the request (`RequestIdFilter`).
* One line per request on the `planner.request` logger, written when the response is ready:
  method, path (without the query string, and with secret path parts such as reset and
  invitation tokens redacted), status, duration, and the account id when someone is logged in.
  gunicorn adds no access log of its own (gunicorn.conf.py), so there is one line, not two.

A streamed response (the workshop's event stream) is logged when its headers are ready; the
duration is the time to the first byte, not how long the stream stayed open.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, jsonify, request
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from planner.extensions import db, limiter

log = logging.getLogger("planner.request")

bp = Blueprint("ops", __name__)

# What a proxy's request id may look like: nginx's $request_id is 32 hex digits, others use
# uuids or base64-ish ids. Anything else (too long, spaces, newlines that would forge a log
# line) is replaced by an id of our own.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")
# URL parts that are secrets: password-reset and invitation tokens, workshop join codes.
SECRET_PATH_ARGS = ("token", "code")
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s request_id=%(request_id)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# SECRET_KEY values printed in this repository: anyone could sign a session with them.
PUBLIC_SECRET_KEYS = frozenset({"dev-only-change-me", "test-secret"})

_ID_KEY = "planner.request_id"
_START_KEY = "planner.request_start"
_LOGGED_KEY = "planner.request_logged"


# ---------------------------------------------------------------- the health check


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """200 when a `SELECT 1` answers, 503 when it does not (the load balancer takes us out)."""
    try:
        db.session.execute(text("SELECT 1"))
        healthy = True
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: the database does not answer: %s", first_line(exc))
        forget_session()
        healthy = False
    body = {"status": "ok" if healthy else "unavailable", "database": "ok" if healthy else "unavailable"}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def forget_session() -> None:
    """Roll back and drop the session after a failed database call; a dead connection may make
    even that fail, which changes nothing: the pool replaces the connection on the next checkout."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    with contextlib.suppress(SQLAlchemyError):
        db.session.remove()


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# ---------------------------------------------------------------- request ids and the log line


def request_id() -> str:
    """This request's id: the proxy's X-Request-ID if sane, else a new one (made once per request)."""
    environ = request.environ
    rid = environ.get(_ID_KEY)
    if rid is None:
        offered = request.headers.get("X-Request-ID", "")
        rid = offered if SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        environ[_ID_KEY] = rid
    return rid


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (`%(request_id)s`), "-" outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else "-"
        return True


def loggable_path() -> str:
    """The path without its query string, with secret parts (tokens, join codes) replaced."""
    path = request.path
    for name in SECRET_PATH_ARGS:
        value = (request.view_args or {}).get(name)
        if value:
            path = path.replace(str(value), f"<{name}>")
    return path


def _user_id() -> str:
    """The id of the account this request already loaded, read from the ORM's identity map:
    the log line must never cost a query, fail on an expired object, or need the database."""
    state = sa_inspect(g.get("_login_user"), raiseerr=False)
    identity = state.identity if state is not None else None
    return str(identity[0]) if identity else "-"


def _start() -> None:
    request.environ[_START_KEY] = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    """Add the X-Request-ID header and write the request's log line (once)."""
    response.headers["X-Request-ID"] = request_id()
    environ = request.environ
    if not environ.get(_LOGGED_KEY):
        environ[_LOGGED_KEY] = True
        started = environ.get(_START_KEY)
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        log.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            loggable_path(),
            response.status_code,
            duration,
            _user_id(),
        )
    return response


# ---------------------------------------------------------------- wiring


def check_secret_key(app: Flask) -> None:
    """Refuse to serve real people with a SECRET_KEY that anyone can read in this repository."""
    if app.debug or app.testing:
        return
    if not app.config.get("SECRET_KEY") or app.config["SECRET_KEY"] in PUBLIC_SECRET_KEYS:
        raise RuntimeError(
            "SECRET_KEY is unset or a value published with Planner, so anyone could forge a "
            "log-in. Set the SECRET_KEY environment variable to a long random value, e.g. "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'` (see docs/deploy.md)."
        )


def _configure_logging(app: Flask) -> None:
    """Request lines are INFO, and go to stderr with their request id and process id, unless
    whoever runs the app has configured logging already (a test runner, a logging config)."""
    request_filter = RequestIdFilter()
    for name in (app.logger.name, log.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RequestIdFilter) for f in logger.filters):
            logger.addFilter(request_filter)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    app_logger = logging.getLogger(app.logger.name)
    if logging.getLogger().handlers or any(getattr(h, "_planner", False) for h in app_logger.handlers):
        return
    from flask.logging import default_handler

    app_logger.removeHandler(default_handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    handler.addFilter(request_filter)  # for records of other planner.* loggers, which propagate here
    handler._planner = True  # type: ignore[attr-defined]
    app_logger.addHandler(handler)


def init_app(app: Flask) -> None:
    check_secret_key(app)
    _configure_logging(app)
    app.register_blueprint(bp)
    # First in, last out: the id exists before anything else runs, and the line is written
    # after every other after_request function has had its say about the response.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.jinja_env.globals["request_id"] = request_id
