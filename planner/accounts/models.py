"""Accounts, their log-in sessions, plan memberships with roles, invitations, and the shared
rate-limit counters."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from planner.extensions import db
from planner.models import utcnow

# What each role may do in a plan, from least to most. A role includes those before it.
ROLES = ("viewer", "editor", "facilitator")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)

    # The log-in session this object was loaded for (the cookie's random token), set by the
    # user loader and by `planner.accounts.auth.sign_in`; never stored.
    session_token = None  # type: str | None

    @property
    def password_fingerprint(self) -> str:
        """A short digest of the password hash: it changes whenever the password does."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:
        """What the session cookie carries (Flask-Login): the account's id and the random token
        of its log-in session, whose hash is kept in `account_sessions`.

        An account loaded outside a request (the command line, the tests) has no session:
        asking starts a new one, as logging in would, on a connection of its own."""
        if self.session_token is None:
            from planner.accounts import sessions

            return f"{self.id}:{sessions.start_detached(self.id)}"
        return f"{self.id}:{self.session_token}"

    # Two objects are the same account when their ids are: Flask-Login's UserMixin compares
    # get_id(), which now names a session, and would start one to compare.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = object.__hash__


class AccountSession(db.Model):
    """One log-in: the cookie carries a random token, and only its SHA-256 is kept here. The
    user loader accepts a cookie only while its row exists and `expires_at` is ahead; logging
    out deletes the row, and a new password deletes every row of the account."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    keep: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # "keep me signed in"
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # Moved on at most every SESSION_TOUCH_SECONDS, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)


class Membership(db.Model):
    """A user's role in one plan, and when they last looked at it."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # "What changed since my last visit" compares against previous_visit_at; current_visit_at
    # moves on with each visit, and becomes the previous one when a new visit starts.
    previous_visit_at: Mapped[datetime | None] = mapped_column(nullable=True)
    current_visit_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Invitation(db.Model):
    """A link that makes whoever opens it (signed in) a member with `role`, until it expires
    or is revoked. Only a hash of the token is stored.

    An invitation sent to an address (`email`) is for one person: the account that used the
    address when it was sent (`invitee_id`) sees it on its home page, to accept or decline,
    and with mail set up the address gets the link. It works once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    invitee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )


class RateLimitCounter(db.Model):
    """Counters for rate limits, in the database so that every app process shares them."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expires_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
