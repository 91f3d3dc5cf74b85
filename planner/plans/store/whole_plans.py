"""Writes of a whole plan: a new plan, one built from a plan document (the import and a copy),
and a plan deleted. A new plan is saved with its facilitator, in one transaction. A deletion
is announced (`plan_deleted`, planner/plans/signals.py) once it is committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from planner import unit
from planner.accounts.models import Membership
from planner.domain import ENTITIES, PLAN_FIELDS
from planner.extensions import db
from planner.models import ITEM_MODELS, Plan
from planner.plans import signals
from planner.plans.store.codec import stored
from planner.plans.store.journal import plan_change, touch
from planner.plans.store.reading import load_doc
from planner.plans.store.rows import assign, write_ref_lists
from planner.text import shorten


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
    touch(plan, actor, plan_change("create", plan, None, {"title": plan.title}, f"Created the plan “{plan.title}”"))
    unit.done()
    return plan


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
    try:
        plan = _from_doc(doc, actor, title, source, summary, owner)
    except Exception:
        # A document that fails half-way leaves nothing behind: a unit of work rolls back as
        # the error leaves it; without one, nobody else would.
        if not unit.in_unit():
            db.session.rollback()
        raise
    unit.done()
    return plan


def _from_doc(
    doc: dict[str, Any], actor: Any, title: str | None, source: str | None, summary: str | None, owner: Any
) -> Any:
    plan = Plan(**{f.name: stored(f, doc.get(f.name, f.empty())) for f in PLAN_FIELDS})
    if title:
        plan.title = title
    db.session.add(plan)
    db.session.flush()
    _own(plan, owner)
    ids: dict[str, dict[str, int]] = {}
    count = 0
    for entity in ENTITIES:
        model = ITEM_MODELS[entity.name]
        records = doc.get(entity.collection, [])
        objs = []
        for position, record in enumerate(records):
            obj = model(plan_id=plan.id, key=record["key"], position=position)
            assign(plan.id, entity, obj, record, ids)
            objs.append(obj)
        db.session.add_all(objs)
        db.session.flush()
        ids[entity.name] = {o.key: o.id for o in objs}
        for obj, record in zip(objs, records, strict=True):
            write_ref_lists(entity, obj.id, record, ids)
        count += len(objs)
    items = f"{count} item{'' if count == 1 else 's'}"
    summary = f"{summary} ({items})" if summary else f"Imported the plan “{shorten(plan.title, 60)}” ({items})"
    touch(plan, actor, plan_change("import", plan, None, {"title": plan.title}, summary, source=source))
    return plan


def duplicate_plan(plan: Any, actor: Any = None, *, owner: Any = None) -> Any:
    title = f"Copy of {plan.title}"[: PLAN_FIELDS[0].max_length]
    return create_from_doc(
        load_doc(plan),
        actor,
        title=title,
        source=f"plan:{plan.id}",
        summary=f"Copied from “{shorten(plan.title, 60)}”",
        owner=owner,
    )


def delete_plan(plan: Any, actor: Any = None) -> None:
    db.session.execute(delete(Plan).where(Plan.id == plan.id))
    signals.deleted(plan.id)
    unit.done()
