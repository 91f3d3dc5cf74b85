"""Reading plans: a plan, the list of plans, and a plan as a *plan document*.

A plan travels through the app as a plan document: the `plan` object of the interchange
format (a dict with the plan's fields and one list per entity, references given by key).
`load_doc` builds it with a fixed number of queries, whatever the plan's size; `item_record`
reads one stored item the same way; `form_doc` reads only the part of it one kind's form shows.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, Entity, Kind, plan_field
from planner.extensions import db
from planner.models import ITEM_MODELS, REF_TABLES, Plan, column_name
from planner.plans import cached
from planner.plans.store.codec import plain
from planner.plans.store.journal import last_deletion
from planner.plans.store.results import ItemGone, NotFound


def get_plan(plan_id: int) -> Any:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def list_plans() -> list[Any]:
    return list(db.session.scalars(select(Plan).order_by(Plan.updated_at.desc(), Plan.id.desc())))


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

    doc: dict[str, Any] = {f.name: plain(f, getattr(plan, f.name)) for f in PLAN_FIELDS}
    for entity in ENTITIES:
        doc[entity.collection] = [item_record(entity, obj, key_of, ref_lists) for obj in items[entity.name]]
    return doc


def page_doc(plan: Any) -> dict[str, Any]:
    """`load_doc` for a page that only shows the plan, kept per process for the plan's revision
    (`planner.plans.cached`): pages opened between two writes skip its queries. The revision is
    read before the items, so a document is never older than its key. Each caller gets its own
    copy."""
    return pickle.loads(cached.per_revision(plan, "doc", lambda: pickle.dumps(load_doc(plan))))


def item_versions(plan_id: int, entity: Entity) -> dict[str, int]:
    model = ITEM_MODELS[entity.name]
    return dict(db.session.execute(select(model.key, model.version).where(model.plan_id == plan_id)).all())


def item_record(
    entity: Entity,
    obj: Any,
    keys: dict[str, dict[int, str]],
    ref_lists: dict[tuple[str, str], dict[int, list[str]]] | None = None,
) -> dict[str, Any]:
    """One stored item as the JSON format writes it. `keys` maps each target's ids to keys;
    `ref_lists` holds the reference lists when they are loaded already (else they are read)."""
    record: dict[str, Any] = {"key": obj.key}
    for f in entity.fields:
        if f.kind is Kind.REF:
            target_id = getattr(obj, column_name(f))
            record[f.name] = keys[f.target].get(target_id) if target_id else None
        elif f.kind is Kind.REF_LIST and ref_lists is not None:
            record[f.name] = ref_lists[(entity.name, f.name)].get(obj.id, [])
        elif f.kind is Kind.REF_LIST:
            table = REF_TABLES[(entity.name, f.name)]
            rows = db.session.scalars(
                select(table.c.target_id).where(table.c.item_id == obj.id).order_by(table.c.position)
            )
            record[f.name] = [keys[f.target][target_id] for target_id in rows]
        else:
            record[f.name] = plain(f, getattr(obj, f.name))
    return record


def plan_record(plan: Any, names: list[str]) -> dict[str, Any]:
    return {name: plain(plan_field(name), getattr(plan, name)) for name in names}


def get_item(plan: Any, entity: Entity, key: str) -> Any:
    """The stored item; raises `ItemGone` (saying who deleted it, when known) if there is none."""
    model = ITEM_MODELS[entity.name]
    obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == key))
    if obj is None:
        deletion, by = last_deletion(plan.id, entity, key)
        raise ItemGone(entity, key, deletion, by)
    return obj


def item_version(plan: Any, entity: Entity, key: str) -> int:
    model = ITEM_MODELS[entity.name]
    version = db.session.scalar(select(model.version).where(model.plan_id == plan.id, model.key == key))
    if version is None:
        raise NotFound(f"no {entity.name} {key!r} in plan {plan.id}")
    return version


def form_doc(plan: Any, entity: Entity, key: str | None = None) -> dict[str, Any]:
    """What a form for `entity`'s items needs of the plan, as a part of its plan document: the
    items of each kind its references point to, in their order, with their key, their name and
    the field they are listed by (enough to offer them as choices and to name them); and with
    `key`, that item as saved now (none when it is gone). A few queries, none of them of a kind
    the form does not show: an edit form or a save need not read the whole plan. (No kind
    refers to its own kind; the declaration has none.)"""
    doc: dict[str, Any] = {}
    keys: dict[str, dict[int, str]] = {}
    for name in dict.fromkeys(f.target for f in entity.fields if f.is_ref):
        target = ENTITY_BY_NAME[name]
        model = ITEM_MODELS[name]
        shown = [target.field(n) for n in dict.fromkeys((target.title_field, target.order_by)) if n]
        rows = db.session.execute(
            select(model.id, model.key, *(getattr(model, f.name) for f in shown))
            .where(model.plan_id == plan.id)
            .order_by(model.position, model.id)
        ).all()
        keys[name] = {row[0]: row[1] for row in rows}
        doc[target.collection] = [
            {"key": row[1], **{f.name: plain(f, value) for f, value in zip(shown, row[2:], strict=True)}}
            for row in rows
        ]
    if key is not None:
        model = ITEM_MODELS[entity.name]
        obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == key))
        doc[entity.collection] = [] if obj is None else [item_record(entity, obj, keys)]
    return doc
