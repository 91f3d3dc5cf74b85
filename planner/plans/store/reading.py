"""Reading plans: a plan, the list of plans, and a plan as a *plan document*.

A plan travels through the app as a plan document: the `plan` object of the interchange
format (a dict with the plan's fields and one list per entity, references given by key).
`load_doc` builds it with a fixed number of queries, whatever the plan's size; `item_record`
reads one stored item the same way; `form_read` reads only the part of it one kind's form shows,
in two or three statements, and keeps what a save needs of it (`FormRead`), so that the save
need not read it again.

Under a team of editors every step page comes right after someone's save, so these reads run
all the time: they read rows, not ORM objects (the page changes nothing), each kind's or list's
rows in one statement where a union can, and every statement is built once, with the plan or
the item as a bound parameter (building and keying a statement anew cost about what running it
did). tests/test_page_cost.py holds the counts.
"""

from __future__ import annotations

import functools
import pickle
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, literal_column, select, union_all

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


def _columns(entity: Entity) -> list[Any]:
    """What `item_record` reads of an item's row: its id, key and fields (a reference by its column)."""
    model = ITEM_MODELS[entity.name]
    names = [column_name(f) if f.kind is Kind.REF else f.name for f in entity.fields if f.kind is not Kind.REF_LIST]
    return [model.id, model.key, *(getattr(model, name) for name in names)]


@functools.cache
def _items_statement(entity_name: str) -> Any:
    """A kind's items in their order, the plan a bound parameter."""
    model = ITEM_MODELS[entity_name]
    return (
        select(*_columns(ENTITY_BY_NAME[entity_name]))
        .where(model.plan_id == bindparam("plan_id"))
        .order_by(model.position, model.id)
    )


def _items_by_kind(plan_id: int) -> dict[str, list[Any]]:
    """Each kind's items as rows (named as the model's attributes), in their order."""
    return {e.name: list(db.session.execute(_items_statement(e.name), {"plan_id": plan_id})) for e in ENTITIES}


def load_doc(plan: Any) -> dict[str, Any]:
    """The plan as a plan document, with items in their order."""
    items = _items_by_kind(plan.id)
    key_of = {name: {obj.id: obj.key for obj in objs} for name, objs in items.items()}
    ref_lists = _plan_ref_lists(plan.id, key_of)
    doc: dict[str, Any] = {f.name: plain(f, getattr(plan, f.name)) for f in PLAN_FIELDS}
    for entity in ENTITIES:
        doc[entity.collection] = [item_record(entity, obj, key_of, ref_lists) for obj in items[entity.name]]
    return doc


def _union(parts: list[Any]) -> Any:
    """The rows of `parts` (selects of the same columns), as one subquery."""
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


@functools.cache
def _plan_ref_lists_statement() -> Any:
    """Every reference list of a plan's items, as (list's index in REF_TABLES, item, target)."""
    plan_id = bindparam("plan_id")
    parts = []
    for index, ((entity_name, _), table) in enumerate(REF_TABLES.items()):
        model = ITEM_MODELS[entity_name]
        parts.append(
            select(
                literal_column(str(index)).label("list"),
                table.c.item_id.label("item_id"),
                table.c.target_id.label("target_id"),
                table.c.position.label("position"),
            ).where(table.c.item_id.in_(select(model.id).where(model.plan_id == plan_id)))
        )
    rows = _union(parts)
    return select(rows.c.list, rows.c.item_id, rows.c.target_id).order_by(rows.c.list, rows.c.item_id, rows.c.position)


def _plan_ref_lists(plan_id: int, key_of: dict[str, dict[int, str]]) -> dict[tuple[str, str], dict[int, list[str]]]:
    """Every reference list of the plan's items, by (entity, field) and item id, in one statement."""
    lists = list(REF_TABLES)
    found: dict[tuple[str, str], dict[int, list[str]]] = {which: defaultdict(list) for which in lists}
    if not lists:
        return found
    for index, item_id, target_id in db.session.execute(_plan_ref_lists_statement(), {"plan_id": plan_id}):
        entity_name, field_name = lists[int(index)]
        target = ENTITY_BY_NAME[entity_name].field(field_name).target
        # An item (or the one it refers to) added since its kind was read, on PostgreSQL where
        # each statement sees what committed before it: left to the next read, as before.
        if item_id in key_of[entity_name] and target_id in key_of[target]:
            found[(entity_name, field_name)][item_id].append(key_of[target][target_id])
    return found


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
    """One stored item (an ORM object, or a row of `_columns`) as the JSON format writes it.
    `keys` maps each target's ids to keys; `ref_lists` holds the reference lists when they are
    loaded already (else the item's are read, all in one statement)."""
    if ref_lists is None:
        ref_lists = _ref_lists_of(entity, obj.id, keys)
    record: dict[str, Any] = {"key": obj.key}
    for f in entity.fields:
        if f.kind is Kind.REF:
            target_id = getattr(obj, column_name(f))
            record[f.name] = keys[f.target].get(target_id) if target_id else None
        elif f.kind is Kind.REF_LIST:
            record[f.name] = ref_lists[(entity.name, f.name)].get(obj.id, [])
        else:
            record[f.name] = plain(f, getattr(obj, f.name))
    return record


@functools.cache
def _ref_lists_statement(entity_name: str) -> Any:
    """One item's reference lists, as (field's index among the kind's lists, target)."""
    item_id = bindparam("item_id")
    parts = []
    for index, f in enumerate(f for f in ENTITY_BY_NAME[entity_name].fields if f.kind is Kind.REF_LIST):
        table = REF_TABLES[(entity_name, f.name)]
        parts.append(
            select(literal_column(str(index)).label("field"), table.c.target_id, table.c.position).where(
                table.c.item_id == item_id
            )
        )
    lists = _union(parts)
    return select(lists.c.field, lists.c.target_id).order_by(lists.c.field, lists.c.position)


def _ref_lists_of(
    entity: Entity, item_id: int, keys: dict[str, dict[int, str]]
) -> dict[tuple[str, str], dict[int, list[str]]]:
    """One item's reference lists, as `load_doc` gives them, read in one statement."""
    fields = [f for f in entity.fields if f.kind is Kind.REF_LIST]
    found: dict[tuple[str, str], dict[int, list[str]]] = {(entity.name, f.name): {} for f in fields}
    if not fields:
        return found
    for index, target_id in db.session.execute(_ref_lists_statement(entity.name), {"item_id": item_id}):
        f = fields[int(index)]
        found[(entity.name, f.name)].setdefault(item_id, []).append(keys[f.target][target_id])
    return found


def plan_record(plan: Any, names: list[str]) -> dict[str, Any]:
    return {name: plain(plan_field(name), getattr(plan, name)) for name in names}


@functools.cache
def _item_statement(entity_name: str, column: str | None = None) -> Any:
    """One item (or one of its columns) by the plan and its key, bound parameters: built once."""
    model = ITEM_MODELS[entity_name]
    return select(getattr(model, column) if column else model).where(
        model.plan_id == bindparam("plan_id"), model.key == bindparam("key")
    )


def get_item(plan: Any, entity: Entity, key: str, *, locked: bool = False) -> Any:
    """The stored item; raises `ItemGone` (saying who deleted it, when known) if there is none.
    `locked`: its row locked until the transaction ends, as an UPDATE would lock it (FOR NO KEY
    UPDATE on PostgreSQL), and read afresh."""
    statement = _item_statement(entity.name)
    if locked:
        statement = statement.with_for_update(key_share=True).execution_options(populate_existing=True)
    obj = db.session.scalar(statement, {"plan_id": plan.id, "key": key})
    if obj is None:
        deletion, by = last_deletion(plan.id, entity, key)
        raise ItemGone(entity, key, deletion, by)
    return obj


def item_version(plan: Any, entity: Entity, key: str) -> int:
    version = db.session.scalar(_item_statement(entity.name, "version"), {"plan_id": plan.id, "key": key})
    if version is None:
        raise NotFound(f"no {entity.name} {key!r} in plan {plan.id}")
    return version


@dataclass(frozen=True)
class FormRead:
    """What `form_read` read for a form of `entity`'s items: the part of the plan document the
    form shows (`doc`); with a key, the stored item (`obj`, None when it is gone); and the ids of
    the items its references may point to, by kind and key (`ids`), which a save writes."""

    entity: Entity
    key: str | None
    doc: dict[str, Any]
    obj: Any
    ids: dict[str, dict[str, int]]
    version: int | None = None  # the item's version as read: a write that moved it since reads again


def form_doc(plan: Any, entity: Entity, key: str | None = None) -> dict[str, Any]:
    """What a form for `entity`'s items needs of the plan, as a part of its plan document: the
    items of each kind its references point to, in their order, with their key, their name and
    the field they are listed by (enough to offer them as choices and to name them); and with
    `key`, that item as saved now (none when it is gone). A few queries, none of them of a kind
    the form does not show: an edit form or a save need not read the whole plan. (No kind
    refers to its own kind; the declaration has none.)"""
    return form_read(plan, entity, key).doc


def form_read(plan: Any, entity: Entity, key: str | None = None) -> FormRead:
    """`form_doc`, with what it read for a save (`FormRead`): the items it offers in one
    statement; with `key`, the item's row, and its reference lists in one more."""
    targets = list(dict.fromkeys(f.target for f in entity.fields if f.is_ref))
    doc: dict[str, Any] = {ENTITY_BY_NAME[name].collection: [] for name in targets}
    keys: dict[str, dict[int, str]] = {name: {} for name in targets}
    for name, row_id, row_key, values in _offered(plan.id, targets):
        keys[name][row_id] = row_key
        doc[ENTITY_BY_NAME[name].collection].append({"key": row_key, **values})
    obj = None
    if key is not None:
        obj = db.session.scalar(_item_statement(entity.name), {"plan_id": plan.id, "key": key})
        doc[entity.collection] = [] if obj is None else [item_record(entity, obj, keys)]
    ids = {name: {k: i for i, k in by_id.items()} for name, by_id in keys.items()}
    return FormRead(entity, key, doc, obj, ids, None if obj is None else obj.version)


def _shown(target: Entity) -> list[Any]:
    """What a form shows of an item it offers: its name, and the field it is listed by."""
    return [target.field(n) for n in dict.fromkeys((target.title_field, target.order_by)) if n]


@functools.cache
def _offered_statement(names: tuple[str, ...]) -> Any:
    """The items of the kinds `names` (each shown by its name alone), in their order."""
    plan_id = bindparam("plan_id")
    parts = []
    for index, name in enumerate(names):
        model = ITEM_MODELS[name]
        title = getattr(model, ENTITY_BY_NAME[name].title_field)
        parts.append(
            select(
                literal_column(str(index)).label("kind"),
                model.id.label("id"),
                model.key.label("key"),
                title.label("title"),
                model.position.label("position"),
            ).where(model.plan_id == plan_id)
        )
    rows = _union(parts)
    return select(rows.c.kind, rows.c.id, rows.c.key, rows.c.title).order_by(rows.c.kind, rows.c.position, rows.c.id)


def _offered(plan_id: int, names: list[str]) -> list[tuple[str, int, str, dict[str, Any]]]:
    """The plan's items of the kinds `names`, in their order, as (kind, id, key, shown values).
    Kinds shown by their name alone are read together, in one statement; a kind also listed
    by a field of its own (a date) is read on its own."""
    together = tuple(n for n in names if len(_shown(ENTITY_BY_NAME[n])) == 1)
    found: list[tuple[str, int, str, dict[str, Any]]] = []
    if together:
        for index, row_id, row_key, title in db.session.execute(_offered_statement(together), {"plan_id": plan_id}):
            target = ENTITY_BY_NAME[together[int(index)]]
            field = target.field(target.title_field)
            found.append((target.name, row_id, row_key, {field.name: plain(field, title)}))
    for name in names:
        if name in together:
            continue
        model, shown = ITEM_MODELS[name], _shown(ENTITY_BY_NAME[name])
        for row in db.session.execute(
            select(model.id, model.key, *(getattr(model, f.name) for f in shown))
            .where(model.plan_id == plan_id)
            .order_by(model.position, model.id)
        ):
            found.append((name, row[0], row[1], {f.name: plain(f, v) for f, v in zip(shown, row[2:], strict=True)}))
    return found
