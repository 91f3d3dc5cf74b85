"""Plain functions that read a plan document: names, step progress and references.

They take the dict that `store.load_doc` builds (the interchange format's `plan` object),
so the wizard, the document and the coach can share them and tests need no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.domain import ENTITIES, ENTITY_BY_NAME, STEPS, Entity, Field, Kind, Step


def items(doc: dict[str, Any], entity: Entity | str) -> list[dict[str, Any]]:
    if isinstance(entity, str):
        entity = ENTITY_BY_NAME[entity]
    return doc.get(entity.collection, [])


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
        case Kind.REF:
            return names_by_entity[field.target].get(value, value)
        case Kind.REF_LIST:
            return [names_by_entity[field.target].get(k, k) for k in value]
        case Kind.ENUM:
            return field.choice_label(value)
        case Kind.ENUM_LIST:
            return [field.choice_label(v) for v in value]
        case Kind.DATE:
            return _long_date(value)
        case Kind.NUMBER:
            return f"{value:g}"
    return value


def _long_date(value: str) -> str:
    from datetime import date

    d = date.fromisoformat(value)
    return f"{d.day} {d:%B %Y}"
