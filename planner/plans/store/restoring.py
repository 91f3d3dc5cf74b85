"""Restoring: undoing a recorded change. A deleted item comes back, with what was deleted
along with it and the references its deletion removed; an edited item or the plan's fields
go back to their values before the edit. The restore is recorded too, pointing at the change
it undoes, and is refused (`RestoreRefused`, in words for the person) when it cannot be done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from planner import unit
from planner.domain import ENTITY_BY_NAME, Entity, Kind, plan_field
from planner.extensions import db
from planner.models import ITEM_MODELS
from planner.plans.models import Change
from planner.plans.store.codec import stored
from planner.plans.store.journal import field_labels, item_change, lower_first, named, plan_change, touch
from planner.plans.store.merging import changed_fields
from planner.plans.store.reading import get_item, item_record, plan_record
from planner.plans.store.results import ItemGone, NotFound, Restored, RestoreRefused, TooManyItems
from planner.plans.store.rows import ids_by_key, insert_item, keys_of, next_key, ref_ids, write_values


def restorable(change: Change) -> bool:
    """Whether a change can be undone: a deletion (the item comes back), or an edit or restore
    that had a value before (the changed fields go back to it)."""
    if change.before is None or change.action not in ("update", "delete", "restore"):
        return False
    return change.entity == "plan" or change.entity in ENTITY_BY_NAME


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
    with db.session.begin_nested():  # refused half-way, it undoes itself and nothing else
        if change.entity == "plan":
            restored = _restore_plan_fields(plan, change, actor, keep or {})
        elif change.after is None:
            restored = _restore_deleted(plan, change, actor)
        else:
            restored = _restore_values(plan, change, actor)
    unit.done()
    return restored


def _restore_plan_fields(plan: Any, change: Change, actor: Any, keep: Mapping[str, str]) -> Restored:
    names = [n for n in changed_fields(change.before, change.after) if _declared_plan_field(n)]
    current = plan_record(plan, names)
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
        setattr(plan, name, stored(plan_field(name), value))
    plan.fields_version = plan.fields_version + 1
    before = {n: current[n] for n in back}
    summary = f"Restored earlier {field_labels(None, list(back))}"
    rows = touch(plan, actor, plan_change("restore", plan, before, back, summary, source=f"change:{change.id}"))
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
            f"This {lower_first(entity.label)} was deleted since. Restore its deletion first."
        ) from None
    ids = ref_ids(plan.id, entity)
    current = item_record(entity, obj, keys_of(ids))
    names = [n for n in changed_fields(change.before, change.after) if n in entity.field_names]
    wanted = _existing_refs(entity, {n: change.before.get(n) for n in names}, ids, {})
    back = {n: v for n, v in wanted.items() if v != current[n]}
    if not back:
        raise RestoreRefused("Nothing to restore: these fields already hold those values.")
    write_values(plan.id, entity, obj, back, ids)
    after = {**current, **back}
    summary = f"Restored earlier {field_labels(entity, list(back))} of {named(entity, after)}"
    rows = touch(
        plan,
        actor,
        item_change("restore", entity, obj.key, obj.version, current, after, summary, source=f"change:{change.id}"),
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
                    f"It needs its {lower_first(f.label)} (“{value}”), which was deleted: restore that first."
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
    ids = ref_ids(plan.id, entity)
    values = {f.name: record.get(f.name, f.empty()) for f in entity.fields}
    values = _existing_refs(entity, values, ids, renamed)
    old_key = record["key"]
    taken = old_key in ids_by_key(plan.id, entity.name)
    key = next_key(plan.id, entity) if taken else old_key
    try:
        obj = insert_item(plan, entity, key, values, ids)
    except TooManyItems:
        raise RestoreRefused(str(TooManyItems(entity, "first, then restore this one"))) from None
    renamed[(entity.name, old_key)] = key
    after = {"key": key, **values}
    summary = f"Restored {named(entity, after)}" + (f" as {key}, since {old_key} is taken" if taken else "")
    return item_change("restore", entity, key, obj.version, None, after, summary, source=source), key


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
    rows = touch(plan, actor, *records)
    return Restored(rows[0], key, rows[1:])


def _give_back_refs(plan: Any, change: Change, renamed: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    """Put back the references a deletion removed from an item that still exists."""
    entity = ENTITY_BY_NAME[change.entity]
    model = ITEM_MODELS[entity.name]
    obj = db.session.scalar(select(model).where(model.plan_id == plan.id, model.key == change.item_key))
    if obj is None:
        return None
    ids = ref_ids(plan.id, entity)
    current = item_record(entity, obj, keys_of(ids))
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
    write_values(plan.id, entity, obj, back, ids)
    after = {**current, **back}
    summary = f"Put back {field_labels(entity, list(back))} of {named(entity, after)}"
    return item_change("restore", entity, obj.key, obj.version, current, after, summary, source=f"change:{change.id}")
