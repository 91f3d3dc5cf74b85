"""Comments on items and steps, who owns which step, and when each member last looked at each step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from planner.extensions import db
from planner.models import utcnow


class Comment(db.Model):
    """A remark on a step, or on one item of a step (`entity` and `item_key` set)."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_plan_id_step", "plan_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    entity: Mapped[str | None] = mapped_column(String(32), nullable=True)
    item_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class StepAssignment(db.Model):
    """Who owns a step of a plan, and by when it should be done."""

    __tablename__ = "step_assignments"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)


class StepVisit(db.Model):
    """When a member looked at one step of a plan: `current_at` is the last look, and
    `previous_at` the last look before this stretch of looking began (`planner.discussion.visits`)."""

    __tablename__ = "step_visits"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    previous_at: Mapped[datetime | None] = mapped_column(nullable=True)
    current_at: Mapped[datetime] = mapped_column(nullable=False)
