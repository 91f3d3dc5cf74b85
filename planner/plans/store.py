"""Reading and writing plans in the database.

A plan travels through the app as a *plan document*: the `plan` object of the interchange
format (a dict with the plan's fields and one list per entity, references given by key).
`load_doc` builds it with a fixed number of queries, whatever the plan's size.

Every write goes through the functions here.  Each takes the acting user (`actor`, None until
accounts exist) and calls `_touch`, the one place where a plan's revision moves on; history
hooks in there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select

from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, Entity, Field, Kind
from planner.extensions import db
from planner.models import ITEM_MODELS, REF_TABLES, Plan, column_name, utcnow


class NotFound(LookupError):
    """The plan or item does not exist (or no longer exists)."""


# ---------------------------------------------------------------- reading


def get_plan(plan_id: int) -> Any:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def list_plans() -> list[Any]:
    return list(db.session.scalars(select(Plan).order_by(Plan.updated_at.desc(), Plan.id.desc())))


def _plain(field: Field, value: Any) -> Any:
    """A stored value as the JSON format writes it."""
    if value is None:
        return field.empty()
    if field.kind is Kind.DATE:
        return value.isoformat()
    if field.kind is Kind.NUMBER:
        return int(value) if float(value).is_integer() else float(value)
    if field.is_list:
        return list(value)
    return value


def _items_by_kind(plan_id: int) -> dict[str, list[Any]]:
    return {
        e.name: list(
            db.session.scalars(
                select(ITEM_MODELS[e.name])
                .where(ITEM_MODELS[e.name].plan_id == plan_id)
                .order_by(ITEM_MODELS[e.name].position, ITEM_MODELS[e.name].id)
            )
        )
        for e in ENTITIES
    }


def load_doc(plan: Any) -> dict[str, Any]:
    """The plan as a plan document, with items in their order."""
    items = _items_by_kind(plan.id)
    key_of = {name: {obj.id: obj.key for obj in objs} for name, objs in items.items()}
    ref_lists: dict[tuple[str, str], dict[int, list[str]]] = {}
    for (entity_name, field_name), table in REF_TABLES.items():
        target = ENTITY_BY_NAME[entity_name].field(field_name).target
        ids = list(key_of[entity_name])
        grouped: dict[int, list[str]] = defaultdict(list)
        if ids:
            rows = db.session.execute(
                select(table.c.item_id, table.c.target_id)
                .where(table.c.item_id.in_(ids))
                .order_by(table.c.item_id, table.c.position)
            )
            for item_id, target_id in rows:
                grouped[item_id].append(key_of[target][target_id])
        ref_lists[(entity_name, field_name)] = grouped

    doc: dict[str, Any] = {f.name: _plain(f, getattr(plan, f.name)) for f in PLAN_FIELDS}
    for entity in ENTITIES:
        out = []
        for obj in items[entity.name]:
            record: dict[str, Any] = {"key": obj.key}
            for f in entity.fields:
                if f.kind is Kind.REF:
                    target_id = getattr(obj, column_name(f))
                    record[f.name] = key_of[f.target].get(target_id) if target_id else None
                elif f.kind is Kind.REF_LIST:
                    record[f.name] = ref_lists[(entity.name, f.name)].get(obj.id, [])
                else:
                    record[f.name] = _plain(f, getattr(obj, f.name))
            out.append(record)
        doc[entity.collection] = out
    return doc


def item_versions(plan_id: int, entity: Entity) -> dict[str, int]:
    model = ITEM_MODELS[entity.name]
    return dict(db.session.execute(select(model.key, model.version).where(model.plan_id == plan_id)).all())


# ---------------------------------------------------------------- writing


def _touch(plan: Any, actor: Any = None) -> None:
    """Record that the plan changed. Every write calls this once."""
    plan.revision = (plan.revision or 0) + 1
    plan.updated_at = utcnow()


def _stored(field: Field, value: Any) -> Any:
    """A value from a form or a validated document, as the column wants it."""
    if field.is_list:
        return list(value or [])
    if field.kind is Kind.BOOL:
        return bool(value)
    if value is None or value == "":
        return None
    if field.kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    if field.kind is Kind.NUMBER:
        return float(value)
    if field.kind in (Kind.TEXT, Kind.LONGTEXT):
        text = str(value).strip()
        return text or None
    return value


def _ids_by_key(plan_id: int, entity_name: str) -> dict[str, int]:
    model = ITEM_MODELS[entity_name]
    return dict(db.session.execute(select(model.key, model.id).where(model.plan_id == plan_id)).all())


def _assign(plan_id: int, entity: Entity, obj: Any, values: dict[str, Any], ids: dict[str, dict[str, int]]) -> None:
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
            setattr(obj, f.name, _stored(f, value))


def _write_ref_lists(entity: Entity, item_id: int, values: dict[str, Any], ids: dict[str, dict[str, int]]) -> None:
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


def _ref_ids(plan_id: int, entity: Entity) -> dict[str, dict[str, int]]:
    targets = {f.target for f in entity.fields if f.is_ref}
    return {name: _ids_by_key(plan_id, name) for name in targets}


def next_key(plan_id: int, entity: Entity) -> str:
    model = ITEM_MODELS[entity.name]
    pattern = re.compile(rf"^{re.escape(entity.key_prefix)}(\d+)$")
    numbers = [
        int(m.group(1))
        for key in db.session.scalars(select(model.key).where(model.plan_id == plan_id))
        if (m := pattern.match(key))
    ]
    return f"{entity.key_prefix}{max(numbers, default=0) + 1}"


def create_plan(title: str, actor: Any = None) -> Any:
    plan = Plan(title=title.strip())
    db.session.add(plan)
    db.session.commit()
    return plan


def update_plan_fields(plan: Any, values: dict[str, Any], actor: Any = None) -> None:
    for f in PLAN_FIELDS:
        if f.name in values:
            setattr(plan, f.name, _stored(f, values[f.name]))
    if not plan.title:
        raise ValueError("title: a plan needs a title")
    _touch(plan, actor)
    db.session.commit()


def delete_plan(plan: Any, actor: Any = None) -> None:
    db.session.execute(delete(Plan).where(Plan.id == plan.id))
    db.session.commit()


def get_item(plan: Any, entity: Entity, key: str) -> Any:
    model = ITEM_MODELS[entity.name]
    obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == key))
    if obj is None:
        raise NotFound(f"no {entity.name} {key!r} in plan {plan.id}")
    return obj


def add_item(plan: Any, entity: Entity, values: dict[str, Any], actor: Any = None) -> Any:
    model = ITEM_MODELS[entity.name]
    position = db.session.scalar(
        select(func.coalesce(func.max(model.position), -1) + 1).where(model.plan_id == plan.id)
    )
    obj = model(plan_id=plan.id, key=values.get("key") or next_key(plan.id, entity), position=position)
    ids = _ref_ids(plan.id, entity)
    _assign(plan.id, entity, obj, values, ids)
    db.session.add(obj)
    db.session.flush()
    _write_ref_lists(entity, obj.id, values, ids)
    _touch(plan, actor)
    db.session.commit()
    return obj


def update_item(plan: Any, entity: Entity, key: str, values: dict[str, Any], actor: Any = None) -> Any:
    obj = get_item(plan, entity, key)
    ids = _ref_ids(plan.id, entity)
    _assign(plan.id, entity, obj, values, ids)
    _write_ref_lists(entity, obj.id, values, ids)
    # A change to a reference list alone still counts as a change to the item.
    obj.updated_at = utcnow()
    _touch(plan, actor)
    db.session.commit()
    return obj


def delete_item(plan: Any, entity: Entity, key: str, actor: Any = None) -> None:
    """Delete an item. The database clears optional references to it and deletes items that
    cannot exist without it (see `planner.plans.view.referrers`)."""
    obj = get_item(plan, entity, key)
    db.session.delete(obj)
    _touch(plan, actor)
    db.session.commit()


def move_item(plan: Any, entity: Entity, key: str, offset: int, actor: Any = None) -> None:
    """Move an item up (offset -1) or down (+1) in its list."""
    model = ITEM_MODELS[entity.name]
    objs = list(db.session.scalars(select(model).where(model.plan_id == plan.id).order_by(model.position, model.id)))
    index = next((i for i, o in enumerate(objs) if o.key == key), None)
    if index is None:
        raise NotFound(f"no {entity.name} {key!r}")
    other = index + offset
    if not 0 <= other < len(objs):
        return
    objs[index], objs[other] = objs[other], objs[index]
    for position, o in enumerate(objs):
        if o.position != position:
            o.position = position
    _touch(plan, actor)
    db.session.commit()


def create_from_doc(doc: dict[str, Any], actor: Any = None, *, title: str | None = None) -> Any:
    """Create a new plan from a *validated* plan document, all in one transaction."""
    plan = Plan(**{f.name: _stored(f, doc.get(f.name, f.empty())) for f in PLAN_FIELDS})
    if title:
        plan.title = title
    db.session.add(plan)
    db.session.flush()
    ids: dict[str, dict[str, int]] = {}
    try:
        for entity in ENTITIES:
            model = ITEM_MODELS[entity.name]
            records = doc.get(entity.collection, [])
            objs = []
            for position, record in enumerate(records):
                obj = model(plan_id=plan.id, key=record["key"], position=position)
                _assign(plan.id, entity, obj, record, ids)
                objs.append(obj)
            db.session.add_all(objs)
            db.session.flush()
            ids[entity.name] = {o.key: o.id for o in objs}
            for obj, record in zip(objs, records, strict=True):
                _write_ref_lists(entity, obj.id, record, ids)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return plan


def duplicate_plan(plan: Any, actor: Any = None) -> Any:
    title = f"Copy of {plan.title}"[: PLAN_FIELDS[0].max_length]
    return create_from_doc(load_doc(plan), actor, title=title)
