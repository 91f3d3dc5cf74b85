"""Values worked out from a plan, kept in each process for the plan's revision.

Between two writes every member who opens a step page reads the same plan: its document, the
coach's report, the names of its items, its progress. Working those out was most of a page's
time, so each is kept here (`cachetools.LRUCache`, bounded, behind a lock) under a key of

- the plan's id and `created_at` (SQLite may give a new plan a deleted plan's id),
- its `revision`, which every write moves on (`planner.plans.store`), so a value of an old
  state is never reached again and ages out of the cache; or, for what is said around the plan
  (comments, step owners), its `discussion_revision`,
- the value's name, with whatever else it depends on (the coach's report: the day).

Only values are kept, never HTML: what a page shows of the member's own (their CSRF token, their
changed marks, their Delete buttons) is drawn for each request. Each process keeps its own values
and nothing depends on them being there: a process that has none works them out. `PAGE_CACHE`
(config.py) switches this off, to compare.

A value is shared between requests and threads: whoever reads it must not change it. Nothing
is kept of a plan the request's own transaction has changed and not yet committed: its
revision moves on only at the commit (`planner.plans.store.journal`), and what was rolled back
must never be shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache
from flask import current_app

from planner.extensions import db

T = TypeVar("T")

# A plan's document, the coach's report, names, progress and needs, per revision; each step's
# comments and owner per discussion revision. A few hundred keeps every step of many plans.
_VALUES: LRUCache[Hashable, Any] = LRUCache(maxsize=512)
_LOCK = threading.Lock()
_MISSING = object()
# In a session's `info`: {plan id: when} for each plan its open transaction changed.
UNSAVED = "planner.plans.unsaved"


def unsaved(session: Any) -> dict[int, Any]:
    """The plans the session's open transaction changed and has not committed, noted by
    `planner.plans.store.journal.touch`."""
    return session.info.setdefault(UNSAVED, {})


def enabled() -> bool:
    return bool(current_app.config.get("PAGE_CACHE", True))


def _kept(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    if not enabled():
        return compute()
    with _LOCK:
        value = _VALUES.get(key, _MISSING)
    if value is _MISSING:
        # Worked out outside the lock: two threads may both do it once; the last one is kept.
        value = compute()
        with _LOCK:
            _VALUES[key] = value
    return value


def per_revision(plan: Any, name: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept for this revision of the plan. The revision must be read before what
    `compute` reads, so that a value is never older than its key."""
    if plan.id in db.session.info.get(UNSAVED, ()):
        return compute()  # changed in this transaction: not the revision's, and maybe rolled back
    return _kept((plan.id, plan.created_at, "revision", plan.revision, name), compute)


def per_discussion(plan: Any, name: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept until the talk around the plan changes: its comments, or a step's owner
    or due date (`Plan.discussion_revision`, moved on by `planner.models.discussed`)."""
    return _kept((plan.id, plan.created_at, "discussion", plan.discussion_revision, name), compute)


def clear() -> None:
    """Forget every kept value (tests, and rows changed behind the store's back)."""
    with _LOCK:
        _VALUES.clear()
