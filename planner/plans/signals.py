"""Signals that a plan changed or was deleted, for whatever keeps something drawn from it.

A write notes which plans it changed (`changed`, `deleted`); the signals go out once the
transaction commits, one per plan, with the app as sender and `plan_id`:

    @plan_deleted.connect
    def _forget(app, plan_id): ...

Nothing is sent for a write that is rolled back (a refused request, an error), and a unit of
work that saves a plan ten times sends one `plan_changed`. A deleted plan gets `plan_deleted`
only. A receiver runs right after the commit, in the request or job that committed: it must
not use the request's database session (SQLAlchemy's `after_commit`), and should be quick.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_app_context
from flask.signals import Namespace
from sqlalchemy import event

from planner.extensions import db

log = logging.getLogger(__name__)

_signals = Namespace()

plan_changed = _signals.signal("plan-changed", doc="A plan's content changed (committed). Sent with `plan_id`.")
plan_deleted = _signals.signal("plan-deleted", doc="A plan was deleted (committed). Sent with `plan_id`.")

_PENDING = "planner.plans.signals"  # in `session.info`: {plan_id: deleted?} for the open transaction


def _pending() -> dict[int, bool]:
    return db.session.info.setdefault(_PENDING, {})


def changed(plan_id: int) -> None:
    """Note that the open transaction changes this plan."""
    _pending().setdefault(plan_id, False)


def deleted(plan_id: int) -> None:
    """Note that the open transaction deletes this plan."""
    _pending()[plan_id] = True


@event.listens_for(db.session, "after_commit")
def _send_committed(session: Any) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is kept yet
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    sender = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    for plan_id, gone in pending.items():
        try:
            (plan_deleted if gone else plan_changed).send(sender, plan_id=plan_id)
        except Exception:  # the change is committed: a receiver that fails must not undo the request
            log.exception("a receiver of %s for plan %s failed", "plan_deleted" if gone else "plan_changed", plan_id)


@event.listens_for(db.session, "after_rollback")
def _forget_rolled_back(session: Any) -> None:
    # A savepoint's rollback (a retried save) leaves the plans noted before it: the retry
    # notes its own again.
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
