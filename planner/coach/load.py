"""Each person's load: the hours a week the plan asks of them, against the hours they give.

This is the one computation of who carries what.  The coach's ``capacity`` check, the wizard's
Team step and the document's "who does what" table (HTML, PDF, Markdown and Word) all read
`loads`, so they cannot disagree about who is over their hours.  How a practice's hours are
shared and how listening counts is decided in `planner.coach.rules` (under "capacity"), with
the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.coach import rules
from planner.coach.fields import (
    LISTENING_TARGET,
    PERSON,
    PERSON_HOURS,
    PRACTICE,
    PRACTICE_HOURS,
    PRACTICE_OWNERS,
    TARGET_LISTENER,
)
from planner.domain import Entity
from planner.text import hours_of, hours_text

PlanDoc = Mapping[str, Any]

# Floating-point sums of hours (0.1 + 0.2, or shares 1/3 + 1/3 + 1/3) must not flip a check at
# its threshold, nor put anyone over by a hair.  The coach's checks use the same.
EPSILON = 1e-9


@dataclass(frozen=True)
class Load:
    """What the plan asks of one person a week, or (with ``person`` None) the work nobody has."""

    person: str | None  # the person's key; None for the practices and listening nobody took on
    practices: tuple[str, ...]  # keys of the practices they share, in plan order
    listening: tuple[str, ...]  # keys of the listening targets they listen at, in plan order
    hours: float  # their share of practice hours plus listening hours
    available: float | None  # their hours_per_week; None when unset (nothing to weigh against)

    @property
    def over(self) -> float:
        """How many hours a week more than they give; 0 when the work fits or cannot be weighed."""
        if self.available is None or self.hours <= self.available + EPSILON:
            return 0.0
        return self.hours - self.available

    @property
    def is_over(self) -> bool:
        return self.over > 0

    @property
    def summary(self) -> str:
        """ "3.25 h a week of work against 3 h available, 0.25 h over": what the coach and the Team
        step say of one person, in the same words."""
        said = f"{hours_text(self.hours)} a week of work"
        if self.available is None:
            return said
        said += f" against {hours_text(self.available)} available"
        return f"{said}, {hours_text(self.over)} over" if self.is_over else said


def _items(plan: PlanDoc, entity: Entity) -> list[Mapping[str, Any]]:
    return [i for i in entity.items_in(plan) if isinstance(i, Mapping)]


def loads(plan: PlanDoc) -> tuple[Load, ...]:
    """One `Load` per person in plan order, then one for the work nobody has taken on (only if
    there is some).  A practice's hours are shared equally among its owners who are on the team
    (see `planner.coach.rules`); a practice without hours adds nothing (the ``capacity`` check names it);
    each listening target adds `rules.LISTENING_TARGET_HOURS` to its listener."""
    people = _items(plan, PERSON)
    known = {p.get("key") for p in people}
    practices = _items(plan, PRACTICE)
    targets = _items(plan, LISTENING_TARGET)

    def owners(practice: Mapping[str, Any]) -> list[str]:
        return [k for k in PRACTICE_OWNERS.of(practice) or [] if k in known]

    def share(practice: Mapping[str, Any]) -> float:
        return (hours_of(PRACTICE_HOURS.of(practice)) or 0.0) / max(1, len(owners(practice)))

    found = []
    for person in people:
        key = person.get("key")
        owned = [p for p in practices if key in owners(p)]
        heard = [t for t in targets if TARGET_LISTENER.of(t) == key]
        hours = sum(share(p) for p in owned) + rules.LISTENING_TARGET_HOURS * len(heard)
        found.append(
            Load(
                key,
                tuple(str(p.get("key")) for p in owned),
                tuple(str(t.get("key")) for t in heard),
                hours,
                hours_of(PERSON_HOURS.of(person)),
            )
        )
    unowned = [p for p in practices if not owners(p)]
    unheard = [t for t in targets if TARGET_LISTENER.of(t) not in known]
    if unowned or unheard:
        hours = sum(share(p) for p in unowned) + rules.LISTENING_TARGET_HOURS * len(unheard)
        found.append(
            Load(
                None, tuple(str(p.get("key")) for p in unowned), tuple(str(t.get("key")) for t in unheard), hours, None
            )
        )
    return tuple(found)


def load_of(plan: PlanDoc, person_key: str) -> Load | None:
    """One person's load, or None when no such person is on the team."""
    return next((load for load in loads(plan) if load.person == person_key), None)
