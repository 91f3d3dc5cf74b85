"""An item's rows: its fields set from a record (references given by key, written as ids),
its reference lists, and a new item inserted at the end of its list with a key and a version
that carry on from the key's history. The writes, the import and the restores share these.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from planner.domain import Entity, Kind
from planner.extensions import db
from planner.models import ITEM_MODELS, REF_TABLES, Plan, column_name, utcnow
from planner.plans.models import Change
from planner.plans.store.codec import stored
from planner.plans.store.results import TooManyItems


def ids_by_key(plan_id: int, entity_name: str) -> dict[str, int]:
    """Each item's id, by its key."""
    model = ITEM_MODELS[entity_name]
    return dict(db.session.execute(select(model.key, model.id).where(model.plan_id == plan_id)).all())


def ref_ids(plan_id: int, entity: Entity) -> dict[str, dict[str, int]]:
    """For each kind of item `entity` refers to: the plan's items' ids, by key."""
    targets = {f.target for f in entity.fields if f.is_ref}
    return {name: ids_by_key(plan_id, name) for name in targets}


def keys_of(ids: dict[str, dict[str, int]]) -> dict[str, dict[int, str]]:
    """`ids` the other way round: each kind's keys, by id."""
    return {name: {v: k for k, v in by_key.items()} for name, by_key in ids.items()}


def assign(plan_id: int, entity: Entity, obj: Any, values: dict[str, Any], ids: dict[str, dict[str, int]]) -> None:
    """Set an item's fields from a values dict (references by key). Missing fields are left alone."""
    for f in entity.fields:
        if f.name not in values:
            continue
        value = values[f.name]
        if f.kind is Kind.REF:
            if value:
                try:
                    value = ids[f.target][value]
                except KeyError:
                    raise ValueError(f"{f.name}: no {f.target} with key {value!r}") from None
            setattr(obj, column_name(f), value or None)
        elif f.kind is not Kind.REF_LIST:
            setattr(obj, f.name, stored(f, value))


def write_ref_lists(entity: Entity, item_id: int, values: dict[str, Any], ids: dict[str, dict[str, int]]) -> None:
    """Write the reference lists `values` holds (by key, in their order) in place of the saved ones."""
    for f in entity.fields:
        if f.kind is not Kind.REF_LIST or f.name not in values:
            continue
        table = REF_TABLES[(entity.name, f.name)]
        db.session.execute(delete(table).where(table.c.item_id == item_id))
        rows = []
        for position, key in enumerate(dict.fromkeys(values[f.name] or [])):
            try:
                rows.append({"item_id": item_id, "target_id": ids[f.target][key], "position": position})
            except KeyError:
                raise ValueError(f"{f.name}: no {f.target} with key {key!r}") from None
        if rows:
            db.session.execute(insert(table), rows)


def write_values(
    plan_id: int, entity: Entity, obj: Any, values: dict[str, Any], ids: dict[str, dict[str, int]]
) -> None:
    """Write `values` (references by key) to a stored item, its reference lists too. The item's
    `updated_at` moves on: a change to a reference list alone still counts as a change to it."""
    assign(plan_id, entity, obj, values, ids)
    write_ref_lists(entity, obj.id, values, ids)
    obj.updated_at = utcnow()
    db.session.flush()


def next_key(plan_id: int, entity: Entity) -> str:
    """A key for a new item: never one an item had before, so a deleted item keeps its key
    for a restore and its history stays its own."""
    model = ITEM_MODELS[entity.name]
    pattern = re.compile(rf"^{re.escape(entity.key_prefix)}(\d+)$")
    used = db.session.scalars(
        select(model.key)
        .where(model.plan_id == plan_id)
        .union(select(Change.item_key).where(Change.plan_id == plan_id, Change.entity == entity.name))
    )
    numbers = [int(m.group(1)) for key in used if key and (m := pattern.match(key))]
    return f"{entity.key_prefix}{max(numbers, default=0) + 1}"


def _next_version(plan_id: int, entity: Entity, key: str) -> int:
    last = db.session.scalar(
        select(func.max(Change.version)).where(
            Change.plan_id == plan_id, Change.entity == entity.name, Change.item_key == key
        )
    )
    return (last or 0) + 1


def room_for_one_more(plan: Any, entity: Entity) -> None:
    """Raise `TooManyItems` when the plan holds the most items of this kind it may. The plan's
    row is locked first, so that two people adding the last one at once cannot both pass
    (PostgreSQL; on SQLite a write request holds the database's lock from its start). The lock
    is the one an UPDATE takes (FOR NO KEY UPDATE), not FOR UPDATE: other saves meanwhile
    record their changes (a row that refers to the plan) without waiting, and move the plan's
    revision on at their commit, after this add's; with FOR UPDATE, an add and a save could
    each wait for the other."""
    db.session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update(key_share=True))
    model = ITEM_MODELS[entity.name]
    count = db.session.scalar(select(func.count()).select_from(model).where(model.plan_id == plan.id))
    if count >= entity.max_items:
        raise TooManyItems(entity)


def insert_item(
    plan: Any,
    entity: Entity,
    key: str,
    values: dict[str, Any],
    ids: dict[str, dict[str, int]],
    room_checked: bool = False,
) -> Any:
    """Insert an item at the end of its list. Its version carries on from the key's history.
    `room_checked`: the caller has already called `room_for_one_more` in this transaction."""
    if not room_checked:
        room_for_one_more(plan, entity)
    model = ITEM_MODELS[entity.name]
    position = db.session.scalar(
        select(func.coalesce(func.max(model.position), -1) + 1).where(model.plan_id == plan.id)
    )
    obj = model(plan_id=plan.id, key=key, position=position)
    assign(plan.id, entity, obj, values, ids)
    db.session.add(obj)
    db.session.flush()
    write_ref_lists(entity, obj.id, values, ids)
    version = _next_version(plan.id, entity, key)
    if version != obj.version:
        # The ORM always inserts version 1; a key with a past carries on from it.
        db.session.execute(
            update(model).where(model.id == obj.id).values(version=version).execution_options(synchronize_session=False)
        )
        set_committed_value(obj, "version", version)
    return obj
