"""One unit of work per request: services flush, and the request commits once.

A service that writes ends with `done()`.  Inside a unit of work (every request is one, and a
command or a background job opens one with `unit_of_work()`), that only flushes: the request
commits everything at its end, or nothing.  Outside one (a test calling a service directly),
it commits, as the caller has no unit of its own.

A request commits when its response is a success or a redirect (below 400) and rolls back
otherwise: a refused form, a conflict page or an error never keeps half a write.  The few
writes that must outlive a refusal (a log-out, which must end the session on the server
whatever happens next) call `commit_now()`, which says so where it happens.

What must wait for the commit (a cache told that a plan changed, a sweep on a connection of
its own that would otherwise wait for the request's lock) is handed to `after_commit()`: it
runs once the transaction now open commits, and never if it rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response
from sqlalchemy import event

from planner.extensions import db

log = logging.getLogger(__name__)

_OPEN = "planner.unit_of_work"
_AFTER = "planner.unit.after_commit"


def in_unit() -> bool:
    """Whether a unit of work (a request, or `unit_of_work()`) will commit what is written now."""
    return bool(db.session.info.get(_OPEN))


def done() -> None:
    """The end of a service's write: flush inside a unit of work, commit outside one."""
    if in_unit():
        db.session.flush()
    else:
        db.session.commit()


def commit_now() -> None:
    """Commit at once, whatever the request's outcome: for a write that must be kept even
    when the request is refused or fails later (a session ended at log-out)."""
    db.session.commit()


def after_commit(callback: Callable[[], Any]) -> None:
    """Call `callback` once the transaction now open commits (the request's, or the one
    `done()` commits outside a unit); never if it rolls back."""
    db.session.info.setdefault(_AFTER, []).append(callback)


@event.listens_for(db.session, "after_commit")
def _run_after_commit(session: Any) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction goes on
    for callback in session.info.pop(_AFTER, ()):
        # What is committed stays committed: a callback that fails (a sweep whose own
        # connection timed out) is logged, and neither undoes the request nor stops the
        # callbacks and signals after it.
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed; the commit stands", callback)


@event.listens_for(db.session, "after_rollback")
def _forget_after_rollback(session: Any) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback leaves the rest standing
        session.info.pop(_AFTER, None)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block writes when it ends, or roll it all back if it raises.  Nested,
    it joins the unit already open."""
    session = db.session
    if in_unit():
        yield
        return
    session.info[_OPEN] = True
    committed = False
    try:
        yield
        session.commit()
        committed = True
    except BaseException:
        if not committed:  # once committed, what the block wrote is kept: nothing to roll back
            session.rollback()
        raise
    finally:
        session.info.pop(_OPEN, None)


def _open() -> None:
    db.session.info[_OPEN] = True


def _finish(response: Response) -> Response:
    if db.session.info.pop(_OPEN, False):
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
    return response


def _abandon(_exc: BaseException | None) -> None:
    # A request that raised past every handler never reached `_finish`: nothing it wrote is kept.
    if db.session.info.pop(_OPEN, False):
        db.session.rollback()


def init_app(app: Flask) -> None:
    """Make every request a unit of work. Call it last in the app factory: Flask runs the
    last registered after_request function first, and the commit must come before
    `planner.sqlite` ends the request's transaction and lets its write lock go."""
    app.before_request_funcs.setdefault(None, []).insert(0, _open)  # before anything reads
    app.after_request(_finish)
    app.teardown_request(_abandon)
