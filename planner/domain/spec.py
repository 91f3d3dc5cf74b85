"""The building blocks of the domain declaration: field kinds, fields, entities and steps.

These are plain frozen dataclasses.  `planner.domain.declaration` uses them to declare the
plan once; everything else (models, forms, the JSON format, the document) reads that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# The limits every declaration shares, declared in `planner.domain.limits`.
from planner.domain.limits import (  # noqa: F401  (KEY_LENGTH: read from here too)
    KEY_LENGTH,
    LIST_ENTRY_TEXT,
    LIST_ITEMS,
    LONG_TEXT,
    NUMBER_MAX,
    REF_ITEMS,
    SHORT_TEXT,
)


class Kind(StrEnum):
    """How a field is stored, edited and written to JSON."""

    TEXT = "text"  # one line
    LONGTEXT = "longtext"  # paragraphs
    LIST = "list"  # list of short strings
    ENUM = "enum"  # one value from a closed set
    ENUM_LIST = "enum_list"  # several values from a closed set
    REF = "ref"  # the key of another item of this plan
    REF_LIST = "ref_list"  # keys of other items of this plan
    BOOL = "bool"
    NUMBER = "number"
    DATE = "date"  # ISO 8601 date


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str
    required: bool = False
    help: str = ""
    max_length: int = SHORT_TEXT  # for text, and for each entry of a list
    max_items: int = LIST_ITEMS  # for lists
    choices: tuple[Choice, ...] = ()
    target: str | None = None  # entity name, for references
    minimum: float = 0.0
    maximum: float = NUMBER_MAX

    @property
    def is_list(self) -> bool:
        return self.kind in (Kind.LIST, Kind.ENUM_LIST, Kind.REF_LIST)

    @property
    def is_ref(self) -> bool:
        return self.kind in (Kind.REF, Kind.REF_LIST)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def of(self, record: Mapping[str, Any]) -> Any:
        """This field's value in `record` (an item or the plan as the JSON format writes it),
        None when it is missing.  Code outside the declaration reaches a field through a
        handle resolved at import (`HOURS = entity("practice").field("hours_per_week")`,
        then `HOURS.of(item)`), so a renamed field fails at start-up, never silently."""
        return record.get(self.name)

    def choice(self, value: str) -> Choice:
        """The declared choice `value`: a handle to resolve at import, as in
        `PRIMARY = entity("segment").field("priority").choice("primary").value`, so a renamed
        choice fails at start-up (KeyError if this field declares no such choice)."""
        for choice in self.choices:
            if choice.value == value:
                return choice
        raise KeyError(f"{self.name} has no choice {value!r}")

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value

    def empty(self) -> object:
        """The value of a field nobody has filled in, as the JSON format writes it."""
        if self.is_list:
            return []
        if self.kind is Kind.BOOL:
            return False
        return None


@dataclass(frozen=True)
class Entity:
    name: str  # "practice": the vocabulary's singular
    collection: str  # "practices": the JSON key and table name
    label: str
    label_plural: str
    key_prefix: str  # new keys are prefix + number: "pr3"
    title_field: str  # the field that names an item in lists and references
    fields: tuple[Field, ...]
    help: str = ""
    # A field the items are always listed by (`planner.plans.view.items`; unset values last),
    # instead of the order the team gave them: milestones by their date.
    order_by: str | None = None
    # The most items of this kind one plan holds (see `planner.domain.limits`).
    max_items: int = 100

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def items_in(self, plan: Mapping[str, Any]) -> list[Any]:
        """This entity's items in `plan` (the JSON format's ``plan`` object), as stored: a
        missing or empty collection is an empty list.  The entity's handle on a plan, as
        `Field.of` is a field's on a record."""
        return list(plan.get(self.collection) or [])


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: str
    prompt: str
    example: str
    plan_fields: tuple[str, ...] = ()  # the plan's own fields edited on this step
    entities: tuple[str, ...] = ()  # entity names whose items are edited on this step
    required_fields: tuple[str, ...] = ()  # plan fields that must be filled to be complete
    required_entities: tuple[str, ...] = ()  # entities that need at least one item
    tips: tuple[str, ...] = field(default_factory=tuple)


# Shorthand constructors keep the declaration readable.


def text(name: str, label: str, *, required: bool = False, help: str = "", max_length: int = SHORT_TEXT) -> Field:
    return Field(name, Kind.TEXT, label, required=required, help=help, max_length=max_length)


def longtext(name: str, label: str, *, required: bool = False, help: str = "", max_length: int = LONG_TEXT) -> Field:
    return Field(name, Kind.LONGTEXT, label, required=required, help=help, max_length=max_length)


def strings(name: str, label: str, *, help: str = "") -> Field:
    return Field(name, Kind.LIST, label, help=help, max_length=LIST_ENTRY_TEXT)


def enum(name: str, label: str, choices: tuple[Choice, ...], *, required: bool = False, help: str = "") -> Field:
    return Field(name, Kind.ENUM, label, required=required, help=help, choices=choices)


def enums(name: str, label: str, choices: tuple[Choice, ...], *, help: str = "") -> Field:
    return Field(name, Kind.ENUM_LIST, label, help=help, choices=choices, max_items=len(choices))


def ref(name: str, label: str, target: str, *, required: bool = False, help: str = "") -> Field:
    return Field(name, Kind.REF, label, required=required, help=help, target=target)


def refs(name: str, label: str, target: str, *, help: str = "") -> Field:
    return Field(name, Kind.REF_LIST, label, help=help, target=target, max_items=REF_ITEMS)


def flag(name: str, label: str, *, help: str = "") -> Field:
    return Field(name, Kind.BOOL, label, help=help)


def number(name: str, label: str, *, help: str = "") -> Field:
    return Field(name, Kind.NUMBER, label, help=help)


def date(name: str, label: str, *, help: str = "") -> Field:
    return Field(name, Kind.DATE, label, help=help)


def choices(*items: str | tuple[str, str] | tuple[str, str, str]) -> tuple[Choice, ...]:
    """Build choices; a bare value gets a label made from it ("listen_and_learn" -> "Listen and learn")."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Choice(item, item.replace("_", " ").capitalize()))
        else:
            out.append(Choice(*item))
    return tuple(out)
