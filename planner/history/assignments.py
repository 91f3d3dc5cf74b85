"""Who owns each step of a plan and by when, and what is due for each member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from planner.accounts.models import Membership, User
from planner.domain import STEP_BY_SLUG, Step
from planner.extensions import db
from planner.history.models import StepAssignment
from planner.models import Plan, discussed


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


def assign(plan: Any, step_slug: str, owner_id: int | None, due: date | None) -> Assignment | None:
    """Give a step an owner (a member of the plan) and a due date; both empty clears it."""
    if step_slug not in STEP_BY_SLUG:
        raise AssignmentRefused("There is no such step.")
    if owner_id is not None:
        member = db.session.scalar(
            select(Membership.id).where(Membership.plan_id == plan.id, Membership.user_id == owner_id)
        )
        if member is None:
            raise AssignmentRefused("The owner must be a member of the plan.")
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
    db.session.commit()
    return assignment(plan.id, step_slug)


@dataclass(frozen=True)
class Due:
    plan_id: int
    plan_title: str
    step: Step
    due: date | None
    overdue: bool = False


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
    return [
        Due(plan_id, title, STEP_BY_SLUG[slug], due, _overdue(due))
        for plan_id, title, slug, due in rows
        if slug in STEP_BY_SLUG
    ]
