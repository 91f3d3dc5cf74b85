"""The record of changes (`Change` rows): every write records itself here, and edits,
merges and restores read it back.

`touch` is the one place where a plan's revision moves on and a write is recorded: who, when,
what, and the item (or the plan's changed fields) before and after, as the JSON format writes
them. The plan's row is written last, as its transaction commits (`_move_revisions_on`): every
save of a plan waits for that row's lock, and so holds it for one statement, not for the rest
of its request. `item_change` and `plan_change` build what it records, with a summary in words
(`named`, `field_labels`); `later_changes` and `last_deletion` read the record back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update

from planner.accounts.models import User
from planner.domain import STEP_OF_ENTITY, STEP_OF_PLAN_FIELD, Entity, plan_field
from planner.extensions import db
from planner.models import Plan, utcnow
from planner.plans import cached, signals, view
from planner.plans.models import Change
from planner.text import shorten


def _user_id(actor: Any) -> int | None:
    # Only an account is recorded: a workshop guest or an anonymous visitor is not a user.
    return actor.id if isinstance(actor, User) else None


def touch(plan: Any, actor: Any = None, *changes: dict[str, Any]) -> list[Change]:
    """Record that the plan changed. Every write calls this once, with what it changed; the
    caches hear of it once it is committed (`signals.plan_changed`)."""
    signals.changed(plan.id)
    now = utcnow()
    # The revision and `updated_at` are written when the transaction commits.
    cached.unsaved(db.session)[plan.id] = now
    rows = [Change(plan_id=plan.id, user_id=_user_id(actor), at=now, **change) for change in changes]
    for row in rows:
        row.summary = row.summary[:300]
    db.session.add_all(rows)
    return rows


@event.listens_for(db.session, "before_commit")
def _move_revisions_on(session: Any) -> None:
    """Move the revision of each plan this transaction changed on by one, in SQL (two processes
    saving at once both count), as the last statement before the commit: the plan's row is
    locked from here until the commit, a moment, rather than from the write to the end of the
    request. A savepoint's release is not the commit: the plans wait for the transaction's."""
    if session.in_nested_transaction():
        return
    touched: dict[int, datetime] = session.info.pop(cached.UNSAVED, None) or {}
    if not touched:
        return
    session.flush()  # a plan made in this transaction is inserted first
    for plan_id, at in touched.items():
        session.execute(
            update(Plan)
            .where(Plan.id == plan_id)
            .values(revision=Plan.revision + 1, updated_at=at)
            .execution_options(synchronize_session=False)
        )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Plan) and obj.id in touched:
            session.expire(obj, ["revision", "updated_at"])


@event.listens_for(db.session, "after_rollback")
def _forget_revisions(session: Any) -> None:
    # A savepoint's rollback (a retried save) leaves what was noted before it: at worst a
    # revision moves on once more than it needed to, which only costs a kept value.
    if not session.in_nested_transaction():
        session.info.pop(cached.UNSAVED, None)


def item_change(
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


def plan_change(action: str, plan: Any, before: Any, after: Any, summary: str, **extra: Any) -> dict[str, Any]:
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


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def field_labels(entity: Entity | None, names: list[str]) -> str:
    """ "priority, where they already talk": the labels of changed fields, for a summary."""
    labels = []
    for name in names:
        try:
            f = entity.field(name) if entity else plan_field(name)
        except KeyError:
            continue  # a field no longer declared
        labels.append(lower_first(f.label))
    return ", ".join(labels)


def named(entity: Entity, record: dict[str, Any]) -> str:
    """ "goal “Grow the team”": an item as a summary names it, its title cut at a word."""
    return f"{lower_first(entity.label)} “{shorten(view.title_of(entity, record), 60)}”"


def later_changes(plan_id: int, entity_name: str, key: str | None, version: int) -> list[tuple[Change, str | None]]:
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


def last_deletion(plan_id: int, entity: Entity, key: str) -> tuple[Change | None, str | None]:
    """An item's last recorded deletion, with the name of whoever made it."""
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
