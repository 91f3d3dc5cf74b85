"""Reading and writing plans in the database, and the record of every write.

A plan travels through the app as a *plan document*: the `plan` object of the interchange
format (a dict with the plan's fields and one list per entity, references given by key).
`load_doc` builds it with a fixed number of queries, whatever the plan's size.

Every write goes through the functions here.  Each takes the acting user (`actor`: a `User`,
or None for the command line and before anyone signs in) and calls `_touch`, the one place
where a plan's revision moves on and where the write is recorded as `Change` rows: who, when,
what, and the item (or the plan's changed fields) before and after, as the JSON format writes
them.  From that record:

* an edit based on an older version of an item is merged field by field
  (`planner.plans.merge`), or refused with an `EditConflict` when two people changed the
  same field;
* an edit of an item someone deleted meanwhile raises `ItemGone`, which says who deleted it;
* a deleted item or an old value can be restored (`restore`), and the restore is recorded too.

An item's `version` counts its saved states.  It keeps counting when an item is deleted and
restored with the same key, so a version number names one state in the key's history.
"""

from __future__ import annotations

import pickle
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from planner import pagecache
from planner.accounts.models import Membership, User
from planner.domain import (
    ENTITIES,
    ENTITY_BY_NAME,
    PLAN_FIELDS,
    STEP_OF_ENTITY,
    STEP_OF_PLAN_FIELD,
    Entity,
    Field,
    Kind,
    plan_field,
)
from planner.domain.limits import key_problem
from planner.extensions import db
from planner.models import ITEM_MODELS, REF_TABLES, Plan, column_name, utcnow
from planner.plans import view
from planner.plans.cascade import Cleared, cascade
from planner.plans.merge import Merge, changed_fields, state_at, three_way
from planner.plans.models import Change

# How often a save that lost a race with another save is tried again (it then merges).
RETRIES = 3


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


def plain_value(field: Field, value: Any) -> Any:
    """A value from a form or a document as the JSON format writes it once saved, so that
    what someone sent can be compared with what is saved."""
    if field.kind is Kind.REF_LIST:
        return list(dict.fromkeys(value or []))
    if field.kind is Kind.REF:
        return value or None
    return _plain(field, _stored(field, value))


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
        doc[entity.collection] = [_item_record(entity, obj, key_of, ref_lists) for obj in items[entity.name]]
    return doc


def page_doc(plan: Any) -> dict[str, Any]:
    """`load_doc` for a page that only shows the plan, kept per process for the plan's revision
    (`planner.pagecache`): pages opened between two writes skip its queries. The revision is
    read before the items, so a document is never older than its key. Each caller gets its own
    copy."""
    return pickle.loads(pagecache.per_revision(plan, "doc", lambda: pickle.dumps(load_doc(plan))))


def item_versions(plan_id: int, entity: Entity) -> dict[str, int]:
    model = ITEM_MODELS[entity.name]
    return dict(db.session.execute(select(model.key, model.version).where(model.plan_id == plan_id)).all())


def _item_record(
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
            record[f.name] = _plain(f, getattr(obj, f.name))
    return record


def _plan_record(plan: Any, names: list[str]) -> dict[str, Any]:
    return {name: _plain(plan_field(name), getattr(plan, name)) for name in names}


# ---------------------------------------------------------------- the record of changes


def _user_id(actor: Any) -> int | None:
    # Only an account is recorded: a workshop guest or an anonymous visitor is not a user.
    return actor.id if isinstance(actor, User) else None


def _touch(plan: Any, actor: Any = None, *changes: dict[str, Any]) -> list[Change]:
    """Record that the plan changed. Every write calls this once, with what it changed."""
    now = utcnow()
    # In SQL, so that two processes saving at once both count.
    plan.revision = Plan.revision + 1
    plan.updated_at = now
    rows = [Change(plan_id=plan.id, user_id=_user_id(actor), at=now, **change) for change in changes]
    for row in rows:
        row.summary = row.summary[:300]
    db.session.add_all(rows)
    return rows


def _short(text: str, limit: int = 60) -> str:
    return view.shorten(text, limit)  # at a word boundary, never mid-word


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def field_labels(entity: Entity | None, names: list[str]) -> str:
    """ "priority, where they already talk": the labels of changed fields, for a summary."""
    labels = []
    for name in names:
        try:
            f = entity.field(name) if entity else plan_field(name)
        except KeyError:
            continue  # a field no longer declared
        labels.append(_lower_first(f.label))
    return ", ".join(labels)


def _named(entity: Entity, record: dict[str, Any]) -> str:
    return f"{_lower_first(entity.label)} “{_short(view.title_of(entity, record))}”"


def _item_change(
    action: str, entity: Entity, key: str, version: int | None, before: Any, after: Any, summary: str, **extra: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "entity": entity.name,
        "item_key": key,
        "step": STEP_OF_ENTITY[entity.name].slug,
        "version": version,
        "before": before,
        "after": after,
        "summary": summary,
        **extra,
    }


def _plan_change(action: str, plan: Any, before: Any, after: Any, summary: str, **extra: Any) -> dict[str, Any]:
    names = list((after or before or {}).keys())
    step = next((STEP_OF_PLAN_FIELD[n].slug for n in names if n in STEP_OF_PLAN_FIELD), None)
    return {
        "action": action,
        "entity": "plan",
        "item_key": None,
        "step": step,
        "version": plan.fields_version,
        "before": before,
        "after": after,
        "summary": summary,
        **extra,
    }


def _later_changes(plan_id: int, entity_name: str, key: str | None, version: int) -> list[tuple[Change, str | None]]:
    """The recorded changes of one item (or of the plan's fields) after `version`, oldest first,
    with the name of whoever made each."""
    query = (
        select(Change, User.name)
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.plan_id == plan_id, Change.entity == entity_name, Change.version > version)
        .order_by(Change.id)
    )
    query = query.where(Change.item_key.is_(None) if key is None else Change.item_key == key)
    return list(db.session.execute(query).tuples())


def _merge(
    plan_id: int,
    entity: Entity | None,
    key: str | None,
    fields: list[Field],
    base_version: int | None,
    version: int,
    current: dict[str, Any],
    mine: dict[str, Any],
) -> tuple[dict[str, Any], Saved | None]:
    """What to write of an edit based on `base_version`, when the item is at `version` now.

    Returns the values to write and, when the edit was merged with others' changes, a `Saved`
    template saying whose. Raises `EditConflict` when the same field was changed on both sides."""
    if base_version is None or base_version >= version:
        return mine, None
    later = _later_changes(plan_id, entity.name if entity else "plan", key, base_version)
    base = state_at(current, [(c.before, c.after) for c, _ in later])
    mine = _in_saved_order(fields, mine, base)
    merge = three_way(base, mine, current, [f.name for f in fields])
    edits: dict[str, Edit] = {}
    for change, name in later:
        for field_name in changed_fields(change.before, change.after):
            edits[field_name] = Edit(name, change.at)
    if not merge.clean:
        raise EditConflict(Conflict(entity, key, tuple(fields), base, mine, dict(current), merge, version, edits))
    others = tuple(dict.fromkeys(name or "someone" for _, name in later))
    return merge.apply, Saved(None, kept_theirs=merge.theirs, others=others, merged=True)


def _in_saved_order(fields: list[Field], mine: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Checkboxes send their choices in the form's order, not in the saved one: the same choices
    in another order are no change (else saving a form would rewrite the list, and meet someone
    else's edit of it as a conflict)."""
    out = dict(mine)
    for f in fields:
        checkboxes = f.kind in (Kind.REF_LIST, Kind.ENUM_LIST) and f.name in out
        if checkboxes and sorted(out[f.name] or []) == sorted(saved.get(f.name) or []):
            out[f.name] = saved.get(f.name)
    return out


def _saved(obj: Any, changed: list[str], merged: Saved | None) -> Saved:
    if merged is None:
        return Saved(obj, tuple(changed))
    return Saved(obj, tuple(changed), merged.kept_theirs, merged.others, merged=True)


def _deletion(plan_id: int, entity: Entity, key: str) -> tuple[Change | None, str | None]:
    row = db.session.execute(
        select(Change, User.name)
        .outerjoin(User, User.id == Change.user_id)
        .where(
            Change.plan_id == plan_id,
            Change.entity == entity.name,
            Change.item_key == key,
            Change.action == "delete",
        )
        .order_by(Change.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _retrying(write: Any) -> Any:
    """Run a write again when another save got in first: the next try merges with it."""
    for attempt in range(RETRIES):
        try:
            return write()
        except StaleDataError:
            db.session.rollback()
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- writing


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


def _keys_of(ids: dict[str, dict[str, int]]) -> dict[str, dict[int, str]]:
    return {name: {v: k for k, v in by_key.items()} for name, by_key in ids.items()}


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


def _own(plan: Any, owner: Any) -> None:
    """Make `owner` the new plan's facilitator in the plan's own transaction: a plan is never
    saved without someone who can open it, even if the process dies between two statements."""
    if owner is not None:
        db.session.add(Membership(plan_id=plan.id, user_id=owner.id, role="facilitator"))


def create_plan(title: str, actor: Any = None, *, owner: Any = None) -> Any:
    plan = Plan(title=title.strip())
    db.session.add(plan)
    db.session.flush()
    _own(plan, owner)
    _touch(plan, actor, _plan_change("create", plan, None, {"title": plan.title}, f"Created the plan “{plan.title}”"))
    db.session.commit()
    return plan


def update_plan_fields(
    plan: Any, values: dict[str, Any], actor: Any = None, *, base_version: int | None = None
) -> Saved:
    """Save some of the plan's own fields. With `base_version` (the `fields_version` the form
    was based on), others' changes since are merged, or `EditConflict` is raised."""
    return _retrying(lambda: _update_plan_fields(plan, values, actor, base_version))


def _update_plan_fields(plan: Any, values: dict[str, Any], actor: Any, base_version: int | None) -> Saved:
    fields = [f for f in PLAN_FIELDS if f.name in values]
    names = [f.name for f in fields]
    current = _plan_record(plan, names)
    mine = {f.name: plain_value(f, values[f.name]) for f in fields}
    version = plan.fields_version
    apply, merged = _merge(plan.id, None, None, fields, base_version, version, current, mine)
    changed = [n for n in names if n in apply and apply[n] != current[n]]
    if "title" in changed and not apply["title"]:
        raise ValueError("title: a plan needs a title")
    if not changed:
        return _saved(plan, [], merged)
    # Moving the version on first, and only from the version read, refuses a save that lost
    # a race with another: it is then tried again, and merges.
    moved = db.session.execute(
        update(Plan)
        .where(Plan.id == plan.id, Plan.fields_version == version)
        .values(fields_version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise StaleDataError("the plan's fields were saved meanwhile")
    set_committed_value(plan, "fields_version", version + 1)
    for name in changed:
        setattr(plan, name, _stored(plan_field(name), apply[name]))
    before = {n: current[n] for n in changed}
    after = {n: apply[n] for n in changed}
    step = STEP_OF_PLAN_FIELD.get(changed[0])
    where = step.title if step else "the plan"
    _touch(plan, actor, _plan_change("update", plan, before, after, f"Edited {where}: {field_labels(None, changed)}"))
    db.session.commit()
    return _saved(plan, changed, merged)


def delete_plan(plan: Any, actor: Any = None) -> None:
    db.session.execute(delete(Plan).where(Plan.id == plan.id))
    db.session.commit()


def get_item(plan: Any, entity: Entity, key: str) -> Any:
    """The stored item; raises `ItemGone` (saying who deleted it, when known) if there is none."""
    model = ITEM_MODELS[entity.name]
    obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == key))
    if obj is None:
        deletion, by = _deletion(plan.id, entity, key)
        raise ItemGone(entity, key, deletion, by)
    return obj


def item_version(plan: Any, entity: Entity, key: str) -> int:
    model = ITEM_MODELS[entity.name]
    version = db.session.scalar(select(model.version).where(model.plan_id == plan.id, model.key == key))
    if version is None:
        raise NotFound(f"no {entity.name} {key!r} in plan {plan.id}")
    return version


def _next_version(plan_id: int, entity: Entity, key: str) -> int:
    last = db.session.scalar(
        select(func.max(Change.version)).where(
            Change.plan_id == plan_id, Change.entity == entity.name, Change.item_key == key
        )
    )
    return (last or 0) + 1


def _room_for_one_more(plan: Any, entity: Entity) -> None:
    """Raise `TooManyItems` when the plan holds the most items of this kind it may. The plan's
    row is locked first, so that two people adding the last one at once cannot both pass
    (PostgreSQL; on SQLite a write request holds the database's lock from its start)."""
    db.session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    model = ITEM_MODELS[entity.name]
    count = db.session.scalar(select(func.count()).select_from(model).where(model.plan_id == plan.id))
    if count >= entity.max_items:
        raise TooManyItems(entity)


def _insert_item(plan: Any, entity: Entity, key: str, values: dict[str, Any], ids: dict[str, dict[str, int]]) -> Any:
    """Insert an item at the end of its list. Its version carries on from the key's history."""
    _room_for_one_more(plan, entity)
    model = ITEM_MODELS[entity.name]
    position = db.session.scalar(
        select(func.coalesce(func.max(model.position), -1) + 1).where(model.plan_id == plan.id)
    )
    obj = model(plan_id=plan.id, key=key, position=position)
    _assign(plan.id, entity, obj, values, ids)
    db.session.add(obj)
    db.session.flush()
    _write_ref_lists(entity, obj.id, values, ids)
    version = _next_version(plan.id, entity, key)
    if version != obj.version:
        # The ORM always inserts version 1; a key with a past carries on from it.
        db.session.execute(
            update(model).where(model.id == obj.id).values(version=version).execution_options(synchronize_session=False)
        )
        set_committed_value(obj, "version", version)
    return obj


def add_item(plan: Any, entity: Entity, values: dict[str, Any], actor: Any = None, *, source: str | None = None) -> Any:
    """Add an item; `source` says where it came from when it was not typed in (a workshop idea).
    Two people adding at once may pick the same new key: the second then takes the next one."""
    if values.get("key") and (problem := key_problem(values["key"])):
        raise ValueError(f"key {values['key']!r} {problem}")
    for attempt in range(RETRIES):
        try:
            return _add_item(plan, entity, values, actor, source)
        except TooManyItems:
            db.session.rollback()  # and the plan's row with it
            raise
        except IntegrityError:
            db.session.rollback()
            if values.get("key") or attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _add_item(plan: Any, entity: Entity, values: dict[str, Any], actor: Any, source: str | None) -> Any:
    key = values.get("key") or next_key(plan.id, entity)
    ids = _ref_ids(plan.id, entity)
    obj = _insert_item(plan, entity, key, values, ids)
    after = {"key": key, **{f.name: plain_value(f, values.get(f.name, f.empty())) for f in entity.fields}}
    summary = f"Added {_named(entity, after)}"
    _touch(plan, actor, _item_change("create", entity, key, obj.version, None, after, summary, source=source))
    db.session.commit()
    return obj


def update_item(
    plan: Any, entity: Entity, key: str, values: dict[str, Any], actor: Any = None, *, base_version: int | None = None
) -> Saved:
    """Save some fields of an item. With `base_version` (the version the form was based on),
    others' changes since are merged, or `EditConflict` is raised; `ItemGone` if it was deleted."""
    return _retrying(lambda: _update_item(plan, entity, key, values, actor, base_version))


def _update_item(
    plan: Any, entity: Entity, key: str, values: dict[str, Any], actor: Any, base_version: int | None
) -> Saved:
    obj = get_item(plan, entity, key)
    ids = _ref_ids(plan.id, entity)
    current = _item_record(entity, obj, _keys_of(ids))
    fields = [f for f in entity.fields if f.name in values]
    mine = _in_saved_order(fields, {f.name: plain_value(f, values[f.name]) for f in fields}, current)
    apply, merged = _merge(plan.id, entity, key, fields, base_version, obj.version, current, mine)
    changed = [f.name for f in fields if f.name in apply and apply[f.name] != current[f.name]]
    if not changed:
        return _saved(obj, [], merged)
    write = {name: apply[name] for name in changed}
    _assign(plan.id, entity, obj, write, ids)
    _write_ref_lists(entity, obj.id, write, ids)
    # A change to a reference list alone still counts as a change to the item.
    obj.updated_at = utcnow()
    db.session.flush()
    after = {**current, **write}
    summary = f"Edited {_named(entity, after)}: {field_labels(entity, changed)}"
    _touch(plan, actor, _item_change("update", entity, key, obj.version, current, after, summary))
    db.session.commit()
    return _saved(obj, changed, merged)


def delete_item(plan: Any, entity: Entity, key: str, actor: Any = None) -> None:
    """Delete an item. The database clears optional references to it and deletes items that
    cannot exist without it, and so on down (`planner.plans.cascade`, which the delete page
    lists too); each of those is recorded, pointing at the deletion, so that restoring it can
    bring them back."""
    obj = get_item(plan, entity, key)
    found = cascade(load_doc(plan), entity, key)
    doomed = [(d.entity, d.item) for d in found.deleted]
    cleared = {(c.entity.name, c.before["key"]): (c.entity, c.before, c.after, _lost_names(c)) for c in found.cleared}
    versions = {e.name: item_versions(plan.id, e) for e in {e for e, _ in doomed} | {c[0] for c in cleared.values()}}

    db.session.delete(obj)
    db.session.flush()
    now = utcnow()
    for other, before, _after, _lost in cleared.values():
        model = ITEM_MODELS[other.name]
        db.session.execute(
            update(model)
            .where(model.plan_id == plan.id, model.key == before["key"])
            .values(version=model.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    changes = [
        _item_change("delete", e, i["key"], versions[e.name][i["key"]], i, None, f"Deleted {_named(e, i)}")
        for e, i in doomed
    ]
    for other, before, after, lost in cleared.values():
        names = changed_fields(before, after)
        summary = f"Removed {' and '.join(lost)} from {_named(other, before)}: {field_labels(other, names)}"
        new_version = versions[other.name][before["key"]] + 1
        changes.append(_item_change("update", other, before["key"], new_version, before, after, summary))
    if len(doomed) > 1:
        changes[0]["summary"] += f", and {len(doomed) - 1} item{'s' if len(doomed) > 2 else ''} that needed it"
    rows = _touch(plan, actor, *changes)
    if len(rows) > 1:
        db.session.flush()
        for row in rows[1:]:
            row.source = f"change:{rows[0].id}"
    db.session.commit()


def _lost_names(cleared: Cleared) -> list[str]:
    """The deleted items an item no longer refers to, as a change's summary names them."""
    return list(dict.fromkeys(_named(target_entity, target) for _, target_entity, target in cleared.lost))


def move_item(plan: Any, entity: Entity, key: str, offset: int, actor: Any = None) -> None:
    """Move an item up (offset -1) or down (+1) in its list. Order is not part of an item's
    version: moving an item does not disturb someone editing it."""
    model = ITEM_MODELS[entity.name]
    rows = db.session.execute(
        select(model.id, model.key, model.version, model.position, getattr(model, entity.title_field))
        .where(model.plan_id == plan.id)
        .order_by(model.position, model.id)
    ).all()
    index = next((i for i, row in enumerate(rows) if row.key == key), None)
    if index is None:
        raise NotFound(f"no {entity.name} {key!r}")
    other = index + offset
    if not 0 <= other < len(rows):
        return
    moved = rows[index]
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows):
        if row.position != position:
            db.session.execute(
                update(model)
                .where(model.id == row.id)
                .values(position=position)
                .execution_options(synchronize_session=False)
            )
    record = {"key": key, entity.title_field: getattr(moved, entity.title_field)}
    summary = f"Moved {_named(entity, record)} {'up' if offset < 0 else 'down'}"
    _touch(
        plan,
        actor,
        _item_change("move", entity, key, moved.version, {"position": index + 1}, {"position": other + 1}, summary),
    )
    db.session.commit()


def create_from_doc(
    doc: dict[str, Any],
    actor: Any = None,
    *,
    title: str | None = None,
    source: str | None = None,
    summary: str | None = None,
    owner: Any = None,
) -> Any:
    """Create a new plan from a *validated* plan document, with `owner` as its facilitator, all
    in one transaction. The history records it as one "import" change."""
    plan = Plan(**{f.name: _stored(f, doc.get(f.name, f.empty())) for f in PLAN_FIELDS})
    if title:
        plan.title = title
    db.session.add(plan)
    db.session.flush()
    _own(plan, owner)
    ids: dict[str, dict[str, int]] = {}
    count = 0
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
            count += len(objs)
        items = f"{count} item{'' if count == 1 else 's'}"
        summary = f"{summary} ({items})" if summary else f"Imported the plan “{_short(plan.title)}” ({items})"
        _touch(plan, actor, _plan_change("import", plan, None, {"title": plan.title}, summary, source=source))
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return plan


def duplicate_plan(plan: Any, actor: Any = None, *, owner: Any = None) -> Any:
    title = f"Copy of {plan.title}"[: PLAN_FIELDS[0].max_length]
    return create_from_doc(
        load_doc(plan),
        actor,
        title=title,
        source=f"plan:{plan.id}",
        summary=f"Copied from “{_short(plan.title)}”",
        owner=owner,
    )


# ---------------------------------------------------------------- restoring


def restorable(change: Change) -> bool:
    """Whether a change can be undone: a deletion (the item comes back), or an edit or restore
    that had a value before (the changed fields go back to it)."""
    if change.before is None or change.action not in ("update", "delete", "restore"):
        return False
    return change.entity == "plan" or change.entity in ENTITY_BY_NAME


@dataclass
class Restored:
    """What a restore brought back: the recorded restore, and the item's key (it may be new)."""

    change: Change
    key: str | None = None
    also: list[Change] = field(default_factory=list)  # items deleted with it, brought back too
    kept: dict[str, str] = field(default_factory=dict)  # fields of `keep` left as they are, and why


def get_change(plan: Any, change_id: int) -> Change:
    change = db.session.get(Change, change_id)
    if change is None or change.plan_id != plan.id:
        raise NotFound(f"no change {change_id} in plan {plan.id}")
    return change


def restore(plan: Any, change_id: int, actor: Any = None, *, keep: Mapping[str, str] | None = None) -> Restored:
    """Undo a change: bring a deleted item back (with what was deleted along with it), or set
    the fields an edit changed back to their values before it. The restore is recorded, with
    `source` pointing at the change it undoes. The plan fields named in `keep` (each with why:
    the title, for someone who may not rename the plan) are left as they are."""
    change = get_change(plan, change_id)
    if not restorable(change):
        raise RestoreRefused("This change cannot be undone.")
    try:
        if change.entity == "plan":
            restored = _restore_plan_fields(plan, change, actor, keep or {})
        elif change.after is None:
            restored = _restore_deleted(plan, change, actor)
        else:
            restored = _restore_values(plan, change, actor)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return restored


def _restore_plan_fields(plan: Any, change: Change, actor: Any, keep: Mapping[str, str]) -> Restored:
    names = [n for n in changed_fields(change.before, change.after) if _declared_plan_field(n)]
    current = _plan_record(plan, names)
    back = {n: change.before[n] for n in names if change.before.get(n) != current[n]}
    kept = {n: keep[n] for n in back if n in keep}
    back = {n: v for n, v in back.items() if n not in keep}
    if not back and kept:
        raise RestoreRefused(f"Nothing restored. {' '.join(kept.values())}")
    if not back:
        raise RestoreRefused("Nothing to restore: these fields already hold those values.")
    if "title" in back and not back["title"]:
        raise RestoreRefused("A plan needs a title.")
    for name, value in back.items():
        setattr(plan, name, _stored(plan_field(name), value))
    plan.fields_version = plan.fields_version + 1
    before = {n: current[n] for n in back}
    summary = f"Restored earlier {field_labels(None, list(back))}"
    rows = _touch(plan, actor, _plan_change("restore", plan, before, back, summary, source=f"change:{change.id}"))
    return Restored(rows[0], kept=kept)


def _declared_plan_field(name: str) -> bool:
    try:
        plan_field(name)
    except KeyError:
        return False
    return True


def _restore_values(plan: Any, change: Change, actor: Any) -> Restored:
    entity = ENTITY_BY_NAME[change.entity]
    try:
        obj = get_item(plan, entity, change.item_key)
    except ItemGone:
        raise RestoreRefused(
            f"This {_lower_first(entity.label)} was deleted since. Restore its deletion first."
        ) from None
    ids = _ref_ids(plan.id, entity)
    current = _item_record(entity, obj, _keys_of(ids))
    names = [n for n in changed_fields(change.before, change.after) if n in entity.field_names]
    wanted = _existing_refs(entity, {n: change.before.get(n) for n in names}, ids, {})
    back = {n: v for n, v in wanted.items() if v != current[n]}
    if not back:
        raise RestoreRefused("Nothing to restore: these fields already hold those values.")
    _assign(plan.id, entity, obj, back, ids)
    _write_ref_lists(entity, obj.id, back, ids)
    obj.updated_at = utcnow()
    db.session.flush()
    after = {**current, **back}
    summary = f"Restored earlier {field_labels(entity, list(back))} of {_named(entity, after)}"
    rows = _touch(
        plan,
        actor,
        _item_change("restore", entity, obj.key, obj.version, current, after, summary, source=f"change:{change.id}"),
    )
    return Restored(rows[0], obj.key)


def _existing_refs(
    entity: Entity, values: dict[str, Any], ids: dict[str, dict[str, int]], renamed: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """`values` with references to items that no longer exist left out (a required one refuses
    the restore); `renamed` maps (entity, old key) to the key an item was restored under."""
    out = dict(values)
    for name, value in values.items():
        f = entity.field(name)
        if not f.is_ref:
            continue
        target = ENTITY_BY_NAME[f.target]

        def present(key: str, target: Entity = target) -> str | None:
            key = renamed.get((target.name, key), key)
            return key if key in ids[target.name] else None

        if f.kind is Kind.REF:
            out[name] = present(value) if value else None
            if value and out[name] is None and f.required:
                raise RestoreRefused(
                    f"It needs its {_lower_first(f.label)} (“{value}”), which was deleted: restore that first."
                )
        else:
            out[name] = [k for k in (present(v) for v in value or []) if k]
    return out


def _already_restored(plan_id: int, change: Change) -> Change | None:
    return db.session.scalar(
        select(Change)
        .where(Change.plan_id == plan_id, Change.action == "restore", Change.source == f"change:{change.id}")
        .limit(1)
    )


def _recreate(
    plan: Any, change: Change, renamed: dict[tuple[str, str], str], source: str
) -> tuple[dict[str, Any], str]:
    """Insert a deleted item again; its key if free, else a new one. Returns the change to record."""
    entity = ENTITY_BY_NAME[change.entity]
    record = change.before
    ids = _ref_ids(plan.id, entity)
    values = {f.name: record.get(f.name, f.empty()) for f in entity.fields}
    values = _existing_refs(entity, values, ids, renamed)
    old_key = record["key"]
    taken = old_key in _ids_by_key(plan.id, entity.name)
    key = next_key(plan.id, entity) if taken else old_key
    try:
        obj = _insert_item(plan, entity, key, values, ids)
    except TooManyItems:
        raise RestoreRefused(str(TooManyItems(entity, "first, then restore this one"))) from None
    renamed[(entity.name, old_key)] = key
    after = {"key": key, **values}
    summary = f"Restored {_named(entity, after)}" + (f" as {key}, since {old_key} is taken" if taken else "")
    return _item_change("restore", entity, key, obj.version, None, after, summary, source=source), key


def _restore_deleted(plan: Any, change: Change, actor: Any) -> Restored:
    if _already_restored(plan.id, change):
        raise RestoreRefused("This deletion was already undone.")
    renamed: dict[tuple[str, str], str] = {}
    first, key = _recreate(plan, change, renamed, f"change:{change.id}")
    records = [first]
    # What went with it: items that could not exist without it, and references to it.
    followers = db.session.scalars(
        select(Change).where(Change.plan_id == plan.id, Change.source == f"change:{change.id}").order_by(Change.id)
    ).all()
    for follower in followers:
        if _already_restored(plan.id, follower):
            continue
        if follower.after is None:
            try:
                records.append(_recreate(plan, follower, renamed, f"change:{follower.id}")[0])
            except RestoreRefused:
                continue
        elif (record := _give_back_refs(plan, follower, renamed)) is not None:
            records.append(record)
    rows = _touch(plan, actor, *records)
    return Restored(rows[0], key, rows[1:])


def _give_back_refs(plan: Any, change: Change, renamed: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    """Put back the references a deletion removed from an item that still exists."""
    entity = ENTITY_BY_NAME[change.entity]
    model = ITEM_MODELS[entity.name]
    obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == change.item_key))
    if obj is None:
        return None
    ids = _ref_ids(plan.id, entity)
    current = _item_record(entity, obj, _keys_of(ids))
    back: dict[str, Any] = {}
    for name in changed_fields(change.before, change.after):
        if name not in entity.field_names:
            continue
        f = entity.field(name)
        lost = _existing_refs(entity, {name: change.before[name]}, ids, renamed)[name]
        if f.kind is Kind.REF:
            if current[name] is None and lost:
                back[name] = lost
        else:
            # Within the list's limit, as the form and the import keep it (`Field.max_items`).
            merged = list(dict.fromkeys([*current[name], *lost]))[: f.max_items]
            if merged != current[name]:
                back[name] = merged
    if not back:
        return None
    _assign(plan.id, entity, obj, back, ids)
    _write_ref_lists(entity, obj.id, back, ids)
    obj.updated_at = utcnow()
    db.session.flush()
    after = {**current, **back}
    summary = f"Put back {field_labels(entity, list(back))} of {_named(entity, after)}"
    return _item_change("restore", entity, obj.key, obj.version, current, after, summary, source=f"change:{change.id}")
