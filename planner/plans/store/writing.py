"""Edits of a plan: its own fields, and adding, editing, deleting and moving items.

Each takes the acting user (`actor`: a `User`, or None for the command line and before anyone
signs in) and records the write (`journal.touch`). An edit based on an older version is merged
with what others saved since (`merging`), or refused with an `EditConflict`; a save that lost a
race with another is tried again, and merges. A deletion takes along what its `cascade` says.

Each write ends with `unit.done()`: a request commits it with the rest of its work, or not at
all (planner/unit.py). A try that may be tried again runs in a savepoint, so that undoing it
leaves the rest of the request's work standing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from planner import unit
from planner.domain import PLAN_FIELDS, STEP_OF_PLAN_FIELD, Entity, plan_field
from planner.domain.limits import key_problem
from planner.extensions import db
from planner.models import ITEM_MODELS, Plan, utcnow
from planner.plans.store.cascade import Cleared, cascade
from planner.plans.store.codec import plain_value, stored
from planner.plans.store.journal import field_labels, item_change, named, plan_change, touch
from planner.plans.store.merging import changed_fields, in_saved_order, merge_edit
from planner.plans.store.reading import FormRead, get_item, item_record, item_versions, load_doc, plan_record
from planner.plans.store.results import NotFound, Saved, TooManyItems
from planner.plans.store.rows import insert_item, keys_of, next_key, ref_ids, room_for_one_more, write_values

# How often a save that lost a race with another save is tried again (it then merges).
RETRIES = 3


def _retrying(write: Any) -> Any:
    """Run a write again when another save got in first: the next try merges with it. Each try
    is a savepoint: a lost race undoes that try alone, and the next reads afresh what the other
    save wrote. `write(attempt)` is told which try it is (0 for the first); a try after a lost
    race locks the row it writes before reading it (`_LOCK`), so that under many saves at once
    it cannot lose again: the first try takes no lock, so that saves that do not meet never
    wait for each other."""
    for attempt in range(RETRIES):
        try:
            with db.session.begin_nested():
                result = write(attempt)
        except StaleDataError:
            db.session.expire_all()  # what this try read is stale: read it again
            if attempt == RETRIES - 1:
                raise
            continue
        unit.done()
        return result
    raise AssertionError("unreachable")


def _saved(obj: Any, changed: list[str], merged: Saved | None) -> Saved:
    if merged is None:
        return Saved(obj, tuple(changed))
    return Saved(obj, tuple(changed), merged.kept_theirs, merged.others, merged=True)


def update_plan_fields(
    plan: Any, values: dict[str, Any], actor: Any = None, *, base_version: int | None = None
) -> Saved:
    """Save some of the plan's own fields. With `base_version` (the `fields_version` the form
    was based on), others' changes since are merged, or `EditConflict` is raised."""
    return _retrying(lambda attempt: _update_plan_fields(plan, values, actor, base_version, locked=attempt > 0))


# The lock an UPDATE takes (FOR NO KEY UPDATE on PostgreSQL; SQLite lets one writer in at a time):
# the rows that refer to the locked one are written meanwhile without waiting.
_LOCK = {"key_share": True}


def _update_plan_fields(
    plan: Any, values: dict[str, Any], actor: Any, base_version: int | None, *, locked: bool = False
) -> Saved:
    if locked:
        db.session.refresh(plan, with_for_update=_LOCK)
    fields = [f for f in PLAN_FIELDS if f.name in values]
    names = [f.name for f in fields]
    current = plan_record(plan, names)
    mine = {f.name: plain_value(f, values[f.name]) for f in fields}
    version = plan.fields_version
    apply, merged = merge_edit(plan.id, None, None, fields, base_version, version, current, mine)
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
        setattr(plan, name, stored(plan_field(name), apply[name]))
    before = {n: current[n] for n in changed}
    after = {n: apply[n] for n in changed}
    step = STEP_OF_PLAN_FIELD.get(changed[0])
    where = step.title if step else "the plan"
    touch(plan, actor, plan_change("update", plan, before, after, f"Edited {where}: {field_labels(None, changed)}"))
    return _saved(plan, changed, merged)


def add_item(
    plan: Any,
    entity: Entity,
    values: dict[str, Any],
    actor: Any = None,
    *,
    source: str | None = None,
    read: FormRead | None = None,
) -> Any:
    """Add an item; `source` says where it came from when it was not typed in (a workshop idea).
    Two people adding at once may pick the same new key: the second then takes the next one.
    `read`: what the add form offered, read in this transaction (`reading.form_read`); the first
    try takes the ids of the items it refers to from there instead of reading them again."""
    if values.get("key") and (problem := key_problem(values["key"])):
        raise ValueError(f"key {values['key']!r} {problem}")
    if read is not None and read.entity is not entity:
        raise ValueError(f"read: not the form of {entity.name}")
    for attempt in range(RETRIES):
        try:
            with db.session.begin_nested():  # a key taken meanwhile undoes this try alone
                ids = read.ids if read is not None and attempt == 0 else ref_ids(plan.id, entity)
                obj = _add_item(plan, entity, values, actor, source, ids)
        except TooManyItems:
            if not unit.in_unit():
                db.session.rollback()  # and the plan's row with it (a request's ends with the request)
            raise
        except IntegrityError:
            if values.get("key") or attempt == RETRIES - 1:
                raise
            continue
        unit.done()
        return obj
    raise AssertionError("unreachable")


def _add_item(
    plan: Any, entity: Entity, values: dict[str, Any], actor: Any, source: str | None, ids: dict[str, dict[str, int]]
) -> Any:
    # The plan's row is locked before a new key is chosen: two people adding at once then choose
    # one after the other, each seeing the other's key, instead of colliding on the same one.
    room_for_one_more(plan, entity)
    key = values.get("key") or next_key(plan.id, entity)
    obj = insert_item(plan, entity, key, values, ids, room_checked=True)
    after = {"key": key, **{f.name: plain_value(f, values.get(f.name, f.empty())) for f in entity.fields}}
    summary = f"Added {named(entity, after)}"
    touch(plan, actor, item_change("create", entity, key, obj.version, None, after, summary, source=source))
    return obj


def update_item(
    plan: Any,
    entity: Entity,
    key: str,
    values: dict[str, Any],
    actor: Any = None,
    *,
    base_version: int | None = None,
    read: FormRead | None = None,
) -> Saved:
    """Save some fields of an item. With `base_version` (the version the form was based on),
    others' changes since are merged, or `EditConflict` is raised; `ItemGone` if it was deleted.
    `read`: the item as its form read it in this transaction (`reading.form_read`); the first
    try writes from it instead of reading it again. A save in between cannot be undone by
    that: the item's row is written only at the version read (else the next try reads afresh)."""
    if read is not None and (read.entity is not entity or read.key != key or read.obj is None):
        raise ValueError(f"read: not the form of {entity.name} {key!r}")
    return _retrying(
        lambda attempt: _update_item(
            plan, entity, key, values, actor, base_version, read if attempt == 0 else None, locked=attempt > 0
        )
    )


def _update_item(
    plan: Any,
    entity: Entity,
    key: str,
    values: dict[str, Any],
    actor: Any,
    base_version: int | None,
    read: FormRead | None,
    *,
    locked: bool = False,
) -> Saved:
    if read is not None and read.obj.version != read.version:
        read = None  # written since the form read it, in this very transaction: read it again
    if read is not None:
        obj, ids, current = read.obj, read.ids, dict(read.doc[entity.collection][0])
    else:
        obj = get_item(plan, entity, key, locked=locked)
        ids = ref_ids(plan.id, entity)
        current = item_record(entity, obj, keys_of(ids))
    fields = [f for f in entity.fields if f.name in values]
    mine = in_saved_order(fields, {f.name: plain_value(f, values[f.name]) for f in fields}, current)
    apply, merged = merge_edit(plan.id, entity, key, fields, base_version, obj.version, current, mine)
    changed = [f.name for f in fields if f.name in apply and apply[f.name] != current[f.name]]
    if not changed:
        return _saved(obj, [], merged)
    write = {name: apply[name] for name in changed}
    write_values(plan.id, entity, obj, write, ids)
    after = {**current, **write}
    summary = f"Edited {named(entity, after)}: {field_labels(entity, changed)}"
    touch(plan, actor, item_change("update", entity, key, obj.version, current, after, summary))
    return _saved(obj, changed, merged)


def delete_item(plan: Any, entity: Entity, key: str, actor: Any = None) -> None:
    """Delete an item. The database clears optional references to it and deletes items that
    cannot exist without it, and so on down (`store.cascade`, which the delete page
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
        item_change("delete", e, i["key"], versions[e.name][i["key"]], i, None, f"Deleted {named(e, i)}")
        for e, i in doomed
    ]
    for other, before, after, lost in cleared.values():
        names = changed_fields(before, after)
        summary = f"Removed {' and '.join(lost)} from {named(other, before)}: {field_labels(other, names)}"
        new_version = versions[other.name][before["key"]] + 1
        changes.append(item_change("update", other, before["key"], new_version, before, after, summary))
    if len(doomed) > 1:
        changes[0]["summary"] += f", and {len(doomed) - 1} item{'s' if len(doomed) > 2 else ''} that needed it"
    rows = touch(plan, actor, *changes)
    if len(rows) > 1:
        db.session.flush()
        for row in rows[1:]:
            row.source = f"change:{rows[0].id}"
    unit.done()


def _lost_names(cleared: Cleared) -> list[str]:
    """The deleted items an item no longer refers to, as a change's summary names them."""
    return list(dict.fromkeys(named(target_entity, target) for _, target_entity, target in cleared.lost))


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
    summary = f"Moved {named(entity, record)} {'up' if offset < 0 else 'down'}"
    touch(
        plan,
        actor,
        item_change("move", entity, key, moved.version, {"position": index + 1}, {"position": other + 1}, summary),
    )
    unit.done()
