"""The live workshop's tables: sessions, their per-step settings, participants, ideas, groups
and dot votes.

Everything the room shares lives here, in the database, so that any app process can answer
any participant. `WorkshopSession.revision` moves on with every change to a session; clients
ask "anything newer than revision N?" and the live channel (planner/workshop/live.py) watches it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from planner.extensions import db
from planner.models import utcnow

CODE_LENGTH = 8
DEVICE_TAG_LENGTH = 32
IDEA_MAX = 280
NAME_MAX = 60
GROUP_LABEL_MAX = 80

# What a step's voting can be: not started, open (results hidden), closed (results shown).
VOTING_STATES = ("none", "open", "closed")


class WorkshopSession(db.Model):
    __tablename__ = "workshop_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)
    # The join code; it stays with the row after the session ends, but no longer lets anyone in.
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The number the next idea gets: ideas are "#n" within their session.
    next_idea_number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    step: Mapped[str] = mapped_column(String(32), nullable=False)  # the room's step (a wizard slug)
    roam: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # people may pick any step
    timer_ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    timer_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the countdown's full length


class WorkshopStep(db.Model):
    """How one step of one session runs: anonymity, reveal and voting."""

    __tablename__ = "workshop_steps"

    session_id: Mapped[int] = mapped_column(ForeignKey("workshop_sessions.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # hidden until revealed
    revealed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    voting: Mapped[str] = mapped_column(String(8), nullable=False, default="none")
    dots: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    per_idea: Mapped[int] = mapped_column(Integer, nullable=False, default=2)


class Participant(db.Model):
    """Someone in the room: a member as themselves (`user_id`), or a guest with a name."""

    __tablename__ = "workshop_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    joined_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # Which device joined, as a tag of this session only (`access.device_tag`): names that
    # share one are one phone joined several times. None for a join with no device cookie.
    device: Mapped[str | None] = mapped_column(String(DEVICE_TAG_LENGTH), nullable=True)


class IdeaGroup(db.Model):
    __tablename__ = "workshop_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(GROUP_LABEL_MAX), nullable=False)


class Idea(db.Model):
    __tablename__ = "workshop_ideas"
    # Also the index for a session's cards.
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("workshop_sessions.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_participants.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Set when the facilitator typed the card for someone without a device.
    written_for: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    text: Mapped[str] = mapped_column(String(IDEA_MAX), nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # moderated away
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop_groups.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # The plan item it became, if it was promoted.
    promoted_entity: Mapped[str | None] = mapped_column(String(32), nullable=True)
    promoted_key: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Vote(db.Model):
    """The dots one participant put on one idea."""

    __tablename__ = "workshop_votes"

    idea_id: Mapped[int] = mapped_column(ForeignKey("workshop_ideas.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("workshop_participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    dots: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
