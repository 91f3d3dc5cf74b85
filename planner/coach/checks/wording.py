"""How the checks write: items named in a message, lists of names, verbs that agree, shares,
dates, the declaration's own words for entities and fields, and the step that fixes a finding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from planner.coach import rules
from planner.coach.checks.findings import ItemRef
from planner.coach.fields import CONCERN, GOAL, MILESTONE, OBJECTIVE, PRACTICE
from planner.domain import STEP_OF_ENTITY, STEP_OF_PLAN_FIELD, Entity, Field
from planner.plans.view import long_date
from planner.text import joined, shorten

# Items whose display name is a sentence (a practice, an objective) read better in quotes
# inside a message; names of people, segments and channels read better bare.
_QUOTED_ENTITIES = frozenset(e.name for e in (GOAL, OBJECTIVE, PRACTICE, CONCERN, MILESTONE))


def display(ref: ItemRef) -> str:
    """An item's name as a message shows it: shortened, and quoted if it is a sentence."""
    name = shorten(ref.title, rules.NAME_CHARS)
    return f"“{name}”" if ref.entity in _QUOTED_ENTITIES else name


def names(refs: Sequence[ItemRef]) -> str:
    """`A`, `A and B`, `A, B and C`, or `A, B, C, D and 2 more`."""
    shown = [display(r) for r in refs[: rules.NAMES_IN_MESSAGE]]
    return joined(shown, more=len(refs) - len(shown))


def verb(refs: Sequence[ItemRef] | int, one: str, many: str) -> str:
    """The verb that agrees with the number of items: "has" for one, "have" for more (or none)."""
    count = refs if isinstance(refs, int) else len(refs)
    return one if count == 1 else many


def percent_text(share: float) -> str:
    """A share as a percentage, never rounded up across a threshold: 0.599 -> "59.9%"."""
    tenths = math.floor(share * 1000 + 1e-6) / 10
    return f"{tenths:g}%"


def day(value: date) -> str:
    """A date as the plan's pages write it."""
    return long_date(value.isoformat())


def plural(entity: Entity) -> str:
    """The declaration's name for many items of a kind, inside a sentence: "listening targets"."""
    return entity.label_plural.lower()


def singular(entity: Entity) -> str:
    """The declaration's name for one item of a kind, inside a sentence: "social objective"."""
    return entity.label.lower()


def label(field: Field) -> str:
    """The declaration's name for a field, inside a sentence: "response protocol"."""
    return field.label.lower()


def step_of(entity: Entity) -> str:
    """The slug of the wizard step where items of `entity` are edited."""
    return STEP_OF_ENTITY[entity.name].slug


def step_of_field(field: Field) -> str:
    """The slug of the wizard step where the plan's own `field` is edited."""
    return STEP_OF_PLAN_FIELD[field.name].slug
