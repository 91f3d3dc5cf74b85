"""How the checks read a plan, and the day they read it on.

The checks read a plan defensively: a missing list is an empty list, a dangling key is no
reference, a value of the wrong type counts as unset.  So they also judge an imported file or
a half-built test dict.  Entities and fields come as handles from `planner.coach.fields`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

from planner.coach.checks.findings import Item, ItemRef, PlanDoc
from planner.coach.fields import PRIMARY, SEGMENT, SEGMENT_PRIORITY
from planner.coach.load import EPSILON
from planner.domain import Entity
from planner.plans.view import title_of

# ---------------------------------------------------------------- the day the coach reads the plan

# Only date checks use it (milestones past due).  `run_all` sets it for one run, so a test can
# judge a plan as of any day, and a page that keeps the coach's report keys it by the day too.
_TODAY: ContextVar[date | None] = ContextVar("coach_today", default=None)


def today() -> date:
    """The day the plan is judged on: the one given to `run_all`, or the real today."""
    return _TODAY.get() or date.today()


@contextmanager
def judged_on(day: date | None) -> Iterator[None]:
    """Within the block, `today()` is `day` (None: the real today)."""
    token = _TODAY.set(day)
    try:
        yield
    finally:
        _TODAY.reset(token)


# ---------------------------------------------------------------- items and references


def items(plan: PlanDoc, entity: Entity) -> list[Item]:
    """The plan's items of one kind, in the team's order."""
    return entity.items_in(plan)


def keys(plan: PlanDoc, entity: Entity) -> set[str]:
    """The keys of the plan's items of one kind: what a reference may point at."""
    return {i["key"] for i in items(plan, entity) if i.get("key")}


def item_ref(entity: Entity, item: Item) -> ItemRef:
    """A finding's pointer at one item."""
    return ItemRef(entity.name, str(item.get("key", "")), str(title_of(entity, dict(item))))


def item_refs(entity: Entity, found: Iterable[Item]) -> tuple[ItemRef, ...]:
    return tuple(item_ref(entity, i) for i in found)


def text_of(value: Any) -> str:
    """A text value without its surrounding spaces; anything but text reads as empty."""
    return value.strip() if isinstance(value, str) else ""


def at_least(value: float, threshold: float) -> bool:
    """`value >= threshold`, forgiving the hair a floating-point sum of hours may miss by."""
    return value >= threshold - EPSILON


def primary_segments(plan: PlanDoc) -> tuple[list[Item], bool]:
    """The primary segments; when none is marked primary, all of them (and True), because a
    plan that ranks nothing still owes each audience a place to listen and to talk."""
    segments = items(plan, SEGMENT)
    primary = [s for s in segments if SEGMENT_PRIORITY.of(s) == PRIMARY]
    return (primary, False) if primary else (segments, True)
