"""Plain functions that read a plan document: names, step progress and references.

They take the dict that `store.load_doc` builds (the interchange format's `plan` object),
so the wizard, the document and the coach can share them and tests need no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.domain import ENTITIES, ENTITY_BY_NAME, STEPS, Entity, Field, Kind, Step, plan_field

# Re-exported for callers that still import them from here; new code imports planner.text.
from planner.text import counted as counted
from planner.text import shorten as shorten


def items(doc: dict[str, Any], entity: Entity | str) -> list[dict[str, Any]]:
    """An entity's items as every page lists them: in the team's order, or by the entity's
    `order_by` field where it has one (milestones by date; undated ones last, in the team's order).
    This is the one place that orders them: the wizard, the review and the document read it."""
    if isinstance(entity, str):
        entity = ENTITY_BY_NAME[entity]
    found = doc.get(entity.collection) or []
    if entity.order_by is None:
        return found
    by = entity.order_by

    def key(item: dict[str, Any]) -> tuple[bool, str]:
        value = item.get(by)
        return (not value, str(value or ""))

    return sorted(found, key=key)


def title_of(entity: Entity, item: dict[str, Any]) -> str:
    return item.get(entity.title_field) or item.get("key", "")


def names(doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For each entity name, each key's display name."""
    return {e.name: {i["key"]: title_of(e, i) for i in items(doc, e)} for e in ENTITIES}


def filled(field: Field, value: Any) -> bool:
    if field.kind is Kind.BOOL:
        return value is not None
    if field.kind is Kind.NUMBER:
        return value is not None
    return bool(value)


def step_complete(doc: dict[str, Any], step: Step) -> bool:
    """A step is complete when its required plan fields are filled and its required lists
    have at least one item. The review step is complete when all the others are."""
    if not step.required_fields and not step.required_entities:
        return all(step_complete(doc, s) for s in STEPS if s is not step and (s.required_fields or s.required_entities))
    return all(doc.get(name) for name in step.required_fields) and all(
        items(doc, name) for name in step.required_entities
    )


def progress(doc: dict[str, Any]) -> list[tuple[Step, bool]]:
    return [(step, step_complete(doc, step)) for step in STEPS]


def needs(doc: dict[str, Any], step: Step) -> list[str]:
    """What `step` still needs to count as complete, in words: "organization", "at least one
    goal".  Empty when it is complete.  Only the step's own required answers count: a field
    that belongs to a later step is that step's to ask for."""
    if not step.required_fields and not step.required_entities:
        open_steps = [s for s, complete in progress(doc) if not complete and s is not step]
        return [f"{s.number}. {s.title} complete" for s in open_steps]
    wanted = [plan_field(name).label.lower() for name in step.required_fields if not doc.get(name)]
    for name in step.required_entities:
        if not items(doc, name):
            label = ENTITY_BY_NAME[name].label.lower()
            wanted.append(f"at least one {label}")
    return wanted


def all_needs(doc: dict[str, Any]) -> dict[str, list[str]]:
    """`needs` of every step, by slug: what the progress bar says of each."""
    return {step.slug: needs(doc, step) for step in STEPS}


@dataclass(frozen=True)
class Referrer:
    entity: Entity
    item: dict[str, Any]
    field: Field

    @property
    def deleted_too(self) -> bool:
        """A required reference cannot be cleared: the referring item goes as well."""
        return self.field.kind is Kind.REF and self.field.required

    @property
    def title(self) -> str:
        return title_of(self.entity, self.item)


def referrers(doc: dict[str, Any], entity: Entity, key: str) -> list[Referrer]:
    """The items that refer to `entity`'s item `key`, and through which field."""
    found = []
    for other in ENTITIES:
        for f in other.fields:
            if not f.is_ref or f.target != entity.name:
                continue
            for item in items(doc, other):
                value = item.get(f.name)
                if value == key or (f.kind is Kind.REF_LIST and key in (value or [])):
                    found.append(Referrer(other, item, f))
    return found


def display(field: Field, value: Any, names_by_entity: dict[str, dict[str, str]]) -> str | list[str] | None:
    """A value as a reader sees it: references by name, choices by label, dates in words.
    None when there is nothing to show."""
    if field.kind is Kind.BOOL:
        return "Yes" if value else None
    if value is None or value == [] or value == "":
        return None
    match field.kind:
        # A reference to an item that is gone shows nothing: its key ("s6") means nothing to a reader.
        case Kind.REF:
            return names_by_entity[field.target].get(value)
        case Kind.REF_LIST:
            return [names_by_entity[field.target][k] for k in value if k in names_by_entity[field.target]] or None
        case Kind.ENUM:
            return field.choice_label(value)
        case Kind.ENUM_LIST:
            return [field.choice_label(v) for v in value]
        case Kind.DATE:
            return long_date(value)
        case Kind.NUMBER:
            return f"{value:g}"
    return value


def long_date(value: str) -> str:
    """An ISO date in words: "2027-03-01" -> "1 March 2027"."""
    from datetime import date

    d = date.fromisoformat(value)
    return f"{d.day} {d:%B %Y}"
