"""Who owns each step of a plan and by when, and what is due for each member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, select

from planner import unit
from planner.accounts import membership, roles
from planner.accounts.models import Membership, User
from planner.discussion.models import StepAssignment
from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, STEPS, Step
from planner.extensions import db
from planner.models import ITEM_MODELS, Plan, discussed
from planner.plans import view

# What an owner must be able to do with their step (a need of `planner.accounts.roles`).
OWNER_NEED = "edit"


class AssignmentRefused(ValueError):
    """An owner or date the rules refuse; the message says why."""


@dataclass(frozen=True)
class Assignment:
    step: Step
    owner_id: int | None
    owner: str | None  # the owner's name
    due: date | None

    @property
    def overdue(self) -> bool:
        """Asked when shown, not when read: step pages keep an assignment across days."""
        return _overdue(self.due)

    def late(self, complete: bool) -> bool:
        """Past its date and not done: a complete step is not overdue."""
        return self.overdue and not complete


def _overdue(due: date | None) -> bool:
    return due is not None and due < date.today()


def assignment(plan_id: int, step_slug: str) -> Assignment | None:
    row = db.session.execute(
        select(StepAssignment, User.name)
        .outerjoin(User, User.id == StepAssignment.owner_id)
        .where(StepAssignment.plan_id == plan_id, StepAssignment.step == step_slug)
    ).first()
    if row is None or (row[0].owner_id is None and row[0].due is None):
        return None
    return Assignment(STEP_BY_SLUG[step_slug], row[0].owner_id, row[1], row[0].due)


def possible_owners(plan_id: int) -> list[tuple[int, str]]:
    """The members who may own a step, as (user id, name): those who can write it. A viewer
    given a step could not do a thing about it."""
    return [(user.id, user.name) for user, role in membership.members_of(plan_id) if roles.allows(role, OWNER_NEED)]


def assign(plan: Any, step_slug: str, owner_id: int | None, due: date | None) -> Assignment | None:
    """Give a step an owner (a member of the plan who can edit it) and a due date; both empty
    clears it."""
    if step_slug not in STEP_BY_SLUG:
        raise AssignmentRefused("There is no such step.")
    if owner_id is not None:
        role = db.session.scalar(
            select(Membership.role).where(Membership.plan_id == plan.id, Membership.user_id == owner_id)
        )
        if role is None:
            raise AssignmentRefused("The owner must be a member of the plan.")
        if not roles.allows(role, OWNER_NEED):
            raise AssignmentRefused("A viewer cannot own a step: make them an editor first, on the People page.")
    row = db.session.get(StepAssignment, (plan.id, step_slug))
    if owner_id is None and due is None:
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = StepAssignment(plan_id=plan.id, step=step_slug)
            db.session.add(row)
        row.owner_id, row.due = owner_id, due
    discussed(plan)
    unit.done()
    return assignment(plan.id, step_slug)


@dataclass(frozen=True)
class Due:
    plan_id: int
    plan_title: str
    step: Step
    due: date | None
    overdue: bool = False
    complete: bool = False


def complete_steps(plan_ids: set[int]) -> dict[int, set[str]]:
    """The slugs of each plan's complete steps (`view.step_complete`), read without loading
    the plans: one query for the fields the steps require and whether each plan has the items
    they require, however many plans there are."""
    if not plan_ids:
        return {}
    names = sorted({name for s in STEPS for name in s.required_fields})
    kinds = sorted({name for s in STEPS for name in s.required_entities})
    has = [exists().where(ITEM_MODELS[kind].plan_id == Plan.id) for kind in kinds]
    rows = db.session.execute(
        select(Plan.id, *(getattr(Plan, name) for name in names), *has).where(Plan.id.in_(plan_ids))
    )
    found = {}
    for plan_id, *values in rows:
        doc: dict[str, Any] = dict(zip(names, values[: len(names)], strict=True))
        for kind, present in zip(kinds, values[len(names) :], strict=True):
            doc[ENTITY_BY_NAME[kind].collection] = [{"key": kind}] if present else []  # stands for its items
        found[plan_id] = {s.slug for s in STEPS if view.step_complete(doc, s)}
    return found


def due_for(user: Any) -> list[Due]:
    """The steps `user` owns in the plans they belong to: soonest due first, undated last."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(StepAssignment.plan_id, Plan.title, StepAssignment.step, StepAssignment.due)
        .join(Plan, Plan.id == StepAssignment.plan_id)
        .join(Membership, (Membership.plan_id == Plan.id) & (Membership.user_id == StepAssignment.owner_id))
        .where(StepAssignment.owner_id == user.id)
        .order_by(StepAssignment.due.is_(None), StepAssignment.due, Plan.title)
    )
    mine = [(plan_id, title, slug, due) for plan_id, title, slug, due in rows if slug in STEP_BY_SLUG]
    complete = complete_steps({plan_id for plan_id, _, _, _ in mine})  # a done step is not late
    return [
        Due(plan_id, title, STEP_BY_SLUG[slug], due, _overdue(due) and not done, done)
        for plan_id, title, slug, due in mine
        for done in [slug in complete.get(plan_id, ())]
    ]
