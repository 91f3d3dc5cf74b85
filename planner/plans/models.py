"""The record of changes: one row for every write to a plan (`planner.plans.store.journal` writes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from planner.extensions import db
from planner.models import utcnow


class Change(db.Model):
    """One write to a plan. `entity` is an entity name, or "plan" for the plan's own fields.
    `before` and `after` hold the item (or the changed plan fields) as the JSON format writes
    them; `version` is the item's version after the change, so an edit based on an older
    version can be merged field by field."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_plan_id_at", "plan_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # create, update, delete, move, restore, import
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    item_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    step: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    summary: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # Where the change came from when it was not typed in the wizard (a restore, a workshop idea).
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
