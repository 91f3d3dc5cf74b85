"""Database models, built from the domain declaration.

Each entity gets its own table.  A single reference (`objective.goal`) is a foreign key
column named `<field>_id`; a list of references (`practice.owners`) is an association table
`<collection>_<field>` that keeps the list's order.  Plain lists of strings are JSON columns.

What every plan and every item has in common (ids, keys, order, versions) is typed here by
hand; the entity-specific columns come from `planner.domain.declaration`, so that adding a
field touches the declaration and one migration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, Entity, Field, Kind
from planner.domain.spec import KEY_LENGTH
from planner.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _column(field: Field, *, ondelete_required: str = "CASCADE") -> Any:
    """The mapped column that stores one declared field (not used for reference lists)."""
    match field.kind:
        case Kind.TEXT:
            return mapped_column(String(field.max_length), nullable=True)
        case Kind.LONGTEXT:
            return mapped_column(Text, nullable=True)
        case Kind.LIST | Kind.ENUM_LIST:
            return mapped_column(JSON, nullable=False, default=list)
        case Kind.ENUM:
            return mapped_column(String(32), nullable=True)
        case Kind.BOOL:
            return mapped_column(Boolean, nullable=False, default=False)
        case Kind.NUMBER:
            return mapped_column(Float, nullable=True)
        case Kind.DATE:
            return mapped_column(Date, nullable=True)
        case Kind.REF:
            target = ENTITY_BY_NAME[field.target]
            # A required reference dies with its target (an objective cannot outlive its goal);
            # an optional one is cleared.
            return mapped_column(
                ForeignKey(
                    f"{target.collection}.id",
                    ondelete=ondelete_required if field.required else "SET NULL",
                ),
                nullable=not field.required,
                index=True,
            )
    raise ValueError(f"no column for {field.kind}")


def column_name(field: Field) -> str:
    """The attribute (and column) that stores a field: references store the target's id."""
    return f"{field.name}_id" if field.kind is Kind.REF else field.name


class PlanCore:
    """What every plan has besides its declared fields."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped on every write to the plan or any of its items: caches key on it.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Bumped when the plan's own fields change: edits of them are checked against it.
    fields_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    # Bumped when the team's talk around the plan changes (a comment, a step's owner or due
    # date), which moves no revision: step pages keep what they read of it on this.
    discussion_revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class ItemCore:
    """What every item of every entity has besides its declared fields."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    @declared_attr
    def plan_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)


def _build_plan() -> type:
    attrs: dict[str, Any] = {column_name(f): _column(f) for f in PLAN_FIELDS}
    attrs["title"] = mapped_column(String(PLAN_FIELDS[0].max_length), nullable=False)
    return type("Plan", (PlanCore, db.Model), attrs)


def _build_item(entity: Entity) -> type:
    version = mapped_column(Integer, nullable=False, default=1)
    attrs: dict[str, Any] = {
        "__tablename__": entity.collection,
        "__table_args__": (UniqueConstraint("plan_id", "key"),),
        # The ORM refuses to save over a row that changed since it was read.
        "version": version,
        "__mapper_args__": {"version_id_col": version},
        "entity": entity,
    }
    for field in entity.fields:
        if field.kind is not Kind.REF_LIST:
            attrs[column_name(field)] = _column(field)
    class_name = "".join(part.capitalize() for part in entity.name.split("_"))
    return type(class_name, (ItemCore, db.Model), attrs)


def _build_ref_table(entity: Entity, field: Field) -> Table:
    target = ENTITY_BY_NAME[field.target]
    return Table(
        f"{entity.collection}_{field.name}",
        db.metadata,
        Column("item_id", ForeignKey(f"{entity.collection}.id", ondelete="CASCADE"), primary_key=True),
        Column("target_id", ForeignKey(f"{target.collection}.id", ondelete="CASCADE"), primary_key=True),
        Column("position", Integer, nullable=False),
    )


Plan: Any = _build_plan()
ITEM_MODELS: dict[str, Any] = {entity.name: _build_item(entity) for entity in ENTITIES}
REF_TABLES: dict[tuple[str, str], Table] = {
    (entity.name, field.name): _build_ref_table(entity, field)
    for entity in ENTITIES
    for field in entity.fields
    if field.kind is Kind.REF_LIST
}


def discussed(plan: Any) -> None:
    """Note, in the write about to be committed, that the talk around `plan` changed."""
    # In SQL, so that two processes writing at once both count.
    plan.discussion_revision = Plan.discussion_revision + 1


__all__ = ["ITEM_MODELS", "REF_TABLES", "Plan", "column_name", "date", "discussed", "utcnow"]
