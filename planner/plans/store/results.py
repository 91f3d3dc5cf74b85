"""What the store's functions return and raise: the outcome of a save or a restore, the
conflict of two edits of one field, and the refusals (no such plan or item, an item deleted,
a restore that cannot be done, a plan full of one kind of item).

Routes catch these and say them to the person; nothing here reads or writes the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from planner.domain import Entity, Field
from planner.plans.models import Change

if TYPE_CHECKING:
    from planner.plans.store.merging import Merge


class NotFound(LookupError):
    """The plan or item does not exist (or no longer exists)."""


class ItemGone(NotFound):
    """The item was deleted; `deletion` is the recorded deletion, if there is one."""

    def __init__(self, entity: Entity, key: str, deletion: Change | None, by: str | None) -> None:
        super().__init__(f"{entity.name} {key!r} was deleted")
        self.entity, self.key, self.deletion, self.by = entity, key, deletion, by


class RestoreRefused(ValueError):
    """A change cannot be restored; the message says why, in words for the person."""


class TooManyItems(ValueError):
    """The plan holds the most items of a kind it may (`Entity.max_items`): what the import
    takes back is what the wizard lets a team build. The message is fit to show the person."""

    def __init__(self, entity: Entity, then: str = "to add another") -> None:
        super().__init__(
            f"This plan holds {entity.max_items} {entity.label_plural.lower()}, the most one plan can: "
            f"delete one {then}."
        )
        self.entity = entity


@dataclass(frozen=True)
class Edit:
    """Who changed a field last, and when."""

    by: str | None
    at: datetime


@dataclass(frozen=True)
class Conflict:
    """Two people changed the same fields of one item (or of the plan's own fields).

    `mine` is what the person sent, `theirs` what is saved now, `base` what the person saw
    when they opened the form.  `version` is the saved version now: a form resent with it as
    its base is merged against what is saved now."""

    entity: Entity | None  # None: the plan's own fields
    key: str | None
    fields: tuple[Field, ...]
    base: dict[str, Any]
    mine: dict[str, Any]
    theirs: dict[str, Any]
    merge: Merge
    version: int
    edits: dict[str, Edit]  # for each field others changed since the base: the last edit

    @property
    def conflicting(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.name in self.merge.conflicts)

    def form_values(self) -> dict[str, Any]:
        """What the form shows again: my value where I changed a field, what is saved elsewhere."""
        return {
            f.name: self.mine[f.name] if self.mine.get(f.name) != self.base.get(f.name) else self.theirs.get(f.name)
            for f in self.fields
        }


class EditConflict(Exception):
    def __init__(self, conflict: Conflict) -> None:
        super().__init__("the item was changed by someone else")
        self.conflict = conflict


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: what was written, and what others had changed meanwhile."""

    obj: Any
    changed: tuple[str, ...] = ()
    kept_theirs: tuple[str, ...] = ()  # fields others changed since the form was opened: kept
    others: tuple[str, ...] = ()  # who else saved it since the form was opened
    merged: bool = False  # the form was based on an older version, and merged cleanly

    @property
    def key(self) -> str:
        return self.obj.key


@dataclass
class Restored:
    """What a restore brought back: the recorded restore, and the item's key (it may be new)."""

    change: Change
    key: str | None = None
    also: list[Change] = field(default_factory=list)  # items deleted with it, brought back too
    kept: dict[str, str] = field(default_factory=dict)  # fields of `keep` left as they are, and why
