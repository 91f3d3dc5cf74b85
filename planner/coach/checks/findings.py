"""What a check says: its `Status`, the `Finding` it reports, and the `ItemRef`s it points at.

A check's body returns an `Outcome` (the registry in `planner.coach.checks.registry` adds the
check's id and title to make the `Finding`).  A check that weighs several things at once
collects `Problem`s and `combine`s them into one outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from planner.coach import rules
from planner.domain import STEP_OF_ENTITY
from planner.text import shorten

# A plan document: the interchange format's ``plan`` object, as `planner.plans.store.load_doc`
# builds it (or an imported file, or a half-built test dict: the checks read it defensively).
PlanDoc = Mapping[str, Any]
Item = Mapping[str, Any]


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class ItemRef:
    """One plan item a finding is about: enough to name it and link to it."""

    entity: str  # the entity's name, "segment"
    key: str
    title: str  # the item's display name, untruncated

    @property
    def step_slug(self) -> str:
        """The wizard step where this item is edited."""
        return STEP_OF_ENTITY[self.entity].slug

    @property
    def anchor(self) -> str:
        """The fragment the wizard gives the item's form: ``segment-s1``."""
        return f"{self.entity}-{self.key}"

    @property
    def short_title(self) -> str:
        """The name as a link shows it: shortened at a word, as written."""
        return shorten(self.title, rules.NAME_CHARS)


@dataclass(frozen=True)
class Finding:
    """What one check found."""

    id: str
    status: Status
    title: str
    message: str
    next_step: str  # empty when the check passes and there is nothing to do
    step_slug: str  # the wizard step that fixes it (for a pass: where the rule lives)
    items: tuple[ItemRef, ...] = ()  # the items at fault, in plan order

    @property
    def item(self) -> ItemRef | None:
        """The first item at fault, for a single "fix it here" link."""
        return self.items[0] if self.items else None


@dataclass(frozen=True)
class Outcome:
    """What a check's body decides; the registry adds the id and title."""

    status: Status
    message: str
    step_slug: str
    next_step: str = ""
    items: tuple[ItemRef, ...] = ()


@dataclass
class Problem:
    """One way a rule is not met, for checks that look at several things at once."""

    message: str
    next_step: str
    step_slug: str
    items: tuple[ItemRef, ...] = ()


def combine(status: Status, problems: Sequence[Problem]) -> Outcome:
    """One outcome from several problems: every message, the first problem's next step and step."""
    first = problems[0]
    return Outcome(
        status,
        " ".join(p.message for p in problems),
        first.step_slug,
        first.next_step,
        tuple(ref for p in problems for ref in p.items),
    )
