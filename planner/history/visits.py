"""What changed since a member's last visit, for the marks on the steps and the items.

A *visit* is a stretch of looking at a plan without a long pause.  Each step page a member
opens moves `Membership.current_visit_at` on; when it is older than `VISIT_GAP`, a new visit
starts and the old one becomes `previous_visit_at`.  What changed after `previous_visit_at`,
by anyone but the member, is news, and it stays marked for the whole visit, whichever steps
they open, so that marks do not vanish the moment one page is seen.

Without a signed-in member (the command line, a test that signs nobody in) there is no news.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from planner.accounts.models import Membership
from planner.extensions import db
from planner.history.models import Change
from planner.models import utcnow

VISIT_GAP = timedelta(minutes=30)
# Looking again within this long is the same moment: no write to the database.
_STILL_HERE = timedelta(minutes=1)


def _user_id(user: Any) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def _membership(plan_id: int, user_id: int, known: Membership | None) -> Membership | None:
    """The user's membership of the plan: `known` when it is that one (the request has read
    it already: `planner.plans.access`), else read."""
    if known is not None and known.plan_id == plan_id and known.user_id == user_id:
        return known
    return db.session.scalar(select(Membership).where(Membership.plan_id == plan_id, Membership.user_id == user_id))


def record_visit(
    plan_id: int, user: Any, now: datetime | None = None, membership: Membership | None = None
) -> datetime | None:
    """Note that `user` is looking at the plan; returns when their previous visit was, if any."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    membership = _membership(plan_id, user_id, membership)
    if membership is None:
        return None
    now = now or utcnow()
    last = membership.current_visit_at
    if last is None or now - last > VISIT_GAP:
        membership.previous_visit_at = last
    if last is None or now - last > _STILL_HERE:
        membership.current_visit_at = now
        db.session.commit()
    return membership.previous_visit_at


@dataclass(frozen=True)
class News:
    """What others changed since `since`: per step, per item, and which plan fields."""

    since: datetime | None = None
    steps: Counter[str] = field(default_factory=Counter)
    items: frozenset[tuple[str, str]] = frozenset()
    plan_fields: frozenset[str] = frozenset()

    def item(self, entity_name: str, key: str) -> bool:
        return (entity_name, key) in self.items

    @property
    def step_counts(self) -> tuple[tuple[str, int], ...]:
        """How many changes each step has, as a key of what the progress bar shows."""
        return tuple(sorted(self.steps.items()))

    def __bool__(self) -> bool:
        return bool(self.steps)


NO_NEWS = News()


def news(plan_id: int, user: Any, membership: Membership | None = None) -> News:
    """What others changed since the member's previous visit (nothing on a first visit)."""
    user_id = _user_id(user)
    if user_id is None:
        return NO_NEWS
    found = _membership(plan_id, user_id, membership)
    since = found.previous_visit_at if found else None
    if since is None:
        return NO_NEWS
    others = (
        Change.plan_id == plan_id,
        Change.at > since,
        or_(Change.user_id.is_(None), Change.user_id != user_id),
    )
    rows = db.session.execute(select(Change.step, Change.entity, Change.item_key).where(*others)).all()
    fields: set[str] = set()
    for after, before in db.session.execute(
        select(Change.after, Change.before).where(*others, Change.entity == "plan", Change.action != "import")
    ):
        fields.update((after or before or {}).keys())
    return News(
        since=since,
        steps=Counter(step for step, _, _ in rows if step),
        items=frozenset((entity, key) for _, entity, key in rows if key),
        plan_fields=frozenset(fields),
    )
