"""What a plan's pages draw the same for every member, kept per plan revision in each process.

Between two writes, every member who opens a step page sees the same plan: its items, the
add-item forms with every field and choice, the coach's findings. Drawing those was most of a
step page's time, so they are kept here, under a key of

- the plan's id and `created_at` (SQLite may give a new plan a deleted plan's id),
- its `revision`, which every write moves on (`planner.plans.store._touch`), so a changed plan
  never meets what was drawn of its old state,
- the member's role (an editor's page has buttons a viewer's has not), the URL root, and
  the reader's time zone (`planner.accounts.timezones`: a comment's time is drawn in it).

What is a member's own is drawn per request around the kept parts: the marks of what changed
since their last visit, the comments (with a Delete button on their own), their name and the
flashed messages. A kept part never holds a CSRF token: it is drawn with a marker as the
token, and the marker is swapped for the token of each request that shows it.

Each process keeps its own parts, so several gunicorn workers share nothing: a worker that
has not drawn a revision yet draws it. `PAGE_CACHE` (config.py) switches it off, to compare;
it is off for a page that shows a form sent back with errors.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from planner.accounts import timezones


class RevisionCache:
    """A bounded map of the most recently used entries, safe across a worker's threads. Each
    entry weighs `weigh(value)` (1 unless told), and the least recently used go first when the
    whole weighs more than `size`."""

    def __init__(self, size: int, weigh: Callable[[Any], int] | None = None) -> None:
        self.size = size
        self._weigh = weigh or (lambda value: 1)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any) -> None:
        weight = self._weigh(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._entries[key] = (value, weight)
            self._weight += weight
            while self._weight > self.size and self._entries:
                _, (_, gone) = self._entries.popitem(last=False)
                self._weight -= gone

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._entries)


# Drawn parts weigh their length: a step page of a large plan is about 50 kB, one item's part
# about 1 kB. 16 M characters a process keeps many steps of many plans; old revisions go first.
FRAGMENTS = RevisionCache(16 * 2**20, weigh=len)
# A plan's document, coach's report and progress per revision; each step's comments and owner.
VALUES = RevisionCache(256)
# Stands for the CSRF token in a kept part; random per process and never shown, so no typed
# text can hold it.
_TOKEN_MARKER = f"csrf-{secrets.token_hex(16)}"


def enabled() -> bool:
    """Whether this request may use kept parts."""
    if g.get("page_cache_off"):
        return False
    return bool(current_app.config.get("PAGE_CACHE", True))


def turn_off() -> None:
    """Draw everything of this request anew (a page showing a form sent back with errors)."""
    g.page_cache_off = True
    g.pop("page_parts", None)


def _plan_key(plan: Any) -> tuple[Any, ...]:
    return (plan.id, plan.created_at, plan.revision)


def _kept(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    if not enabled():
        return compute()
    value = VALUES.get(key)
    if value is None:
        value = compute()
        VALUES.put(key, value)
    return value


def per_revision(plan: Any, name: str, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept for this revision of the plan. The value is shared between requests
    and threads: it must not be changed by whoever reads it."""
    return _kept((*_plan_key(plan), name), compute)


def per_discussion(plan: Any, name: str, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept until the talk around the plan changes: its comments, or a step's
    owner or due date (`Plan.discussion_revision`, moved on by `planner.models.discussed`).
    Shared as `per_revision`'s values are, and as little to be changed."""
    return _kept((plan.id, plan.created_at, "discussion", plan.discussion_revision, name), compute)


def _request_parts() -> tuple[tuple[Any, ...], int] | None:
    """This request's part of every fragment's key (the plan, the role, the URL root, the
    reader's time zone) and the plan's revision; None when parts are not kept. Worked out once
    per request: a step page has a few fragments per item."""
    found = g.get("page_parts")
    if found is None:
        plan = g.get("plan")
        if plan is None or not enabled():
            found = ()
        else:
            zone = timezones.reader_zone_name()
            found = ((plan.id, plan.created_at, g.get("plan_role"), request.script_root, zone), plan.revision)
            generate_csrf()  # the request's own token, in `g` before any part is drawn with the marker
        g.page_parts = found
    return found or None


def fragment(*parts: Hashable, caller: Callable[[], str], per_revision: bool = True) -> Markup:
    """In a template, around a part of a plan page that is the same for every member with the
    same role: ``{% call fragment('advice', step.slug) %}...{% endcall %}``. `parts` name the
    part within the plan; whatever else it shows must follow from the plan's revision.

    With ``per_revision=false``, `parts` must name everything the part shows of the plan (an
    item's values as shown, say), and the part outlives the revision: a write to one item
    leaves the others' parts as they are."""
    found = _request_parts()
    if found is None:
        return Markup(caller())
    prefix, revision = found
    key = (*prefix, revision if per_revision else None, *parts)
    # Flask-WTF keeps the request's token in `g`, where every form and csrf_token() reads it.
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    kept = FRAGMENTS.get(key)
    if kept is None:
        # Drawn with the marker as the token, so that typed text is never mistaken for one.
        token = g.get(field)
        setattr(g, field, _TOKEN_MARKER)
        try:
            kept = str(caller())
        finally:
            setattr(g, field, token)
        FRAGMENTS.put(key, kept)
    # Inside a part being drawn, the token is still the marker: the outer part is kept with it.
    return Markup(kept.replace(_TOKEN_MARKER, g.get(field)))


def clear() -> None:
    FRAGMENTS.clear()
    VALUES.clear()
