"""Who belongs to which plan, in which role, and the invitation links that let people join.

The rules live here, as functions the views and the command line call:
- a plan's creator (or importer) is its facilitator, and a plan always keeps one: removing or
  demoting the last facilitator is refused (`MembershipRefused`), even when two facilitators
  try it at the same moment (the plan's row is locked while the change is checked);
- an invitation is a random token whose SHA-256 alone is stored; it gives a role until it
  expires or is revoked, and accepting one never lowers a role someone already has;
- adding someone by e-mail sends them an invitation (`invite_by_email`), never a membership:
  they accept or decline it, and until then they are not in the plan.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.exc import IntegrityError

from planner import unit
from planner.accounts import roles
from planner.accounts.models import ROLES, AccountSession, Invitation, Membership, User
from planner.accounts.sessions import LIVE_SESSION, LIVE_SESSION_COLUMNS, Live, token_hash
from planner.accounts.users import find_by_email, normalize_email
from planner.extensions import db
from planner.models import Plan, utcnow


class MembershipRefused(ValueError):
    """A change to a plan's members that the rules refuse; the message says why."""


# ---------------------------------------------------------------- reading


# Built once: every plan route runs it first (`planner.accounts.access.plan_or_404`).
_PLAN_AND_MEMBERSHIP = (
    select(Plan, Membership)
    .join(Membership, Membership.plan_id == Plan.id)
    .where(Plan.id == bindparam("plan_id"), Membership.user_id == bindparam("user_id"))
)


def plan_and_membership(plan_id: int, user_id: int) -> tuple[Any, Membership] | None:
    """The plan and the user's membership of it, in one query; None when either is missing."""
    row = db.session.execute(_PLAN_AND_MEMBERSHIP, {"plan_id": plan_id, "user_id": user_id}).first()
    return (row[0], row[1]) if row else None


# The same, with the person and their log-in session: for a plan route's user loader
# (`planner.accounts.auth`), so that the person, the session that vouches for them, the plan and
# their membership come in one query, not two. No live session, no row.
_USER_PLAN_AND_MEMBERSHIP = (
    select(User, *LIVE_SESSION_COLUMNS, Plan, Membership)
    .join(AccountSession, LIVE_SESSION)
    .outerjoin(Membership, (Membership.user_id == User.id) & (Membership.plan_id == bindparam("plan_id")))
    .outerjoin(Plan, Plan.id == Membership.plan_id)
    .where(User.id == bindparam("user_id"))
)


def user_plan_and_membership(
    user_id: int, token_hash: str, plan_id: int
) -> tuple[User | None, Live | None, tuple[Any, Membership] | None]:
    """The user with their live session (`token_hash`'s), and their plan and membership as
    `plan_and_membership` gives them, in one query. (None, None, None) without a live session."""
    row = db.session.execute(
        _USER_PLAN_AND_MEMBERSHIP,
        {"plan_id": plan_id, "user_id": user_id, "token_hash": token_hash, "now": utcnow()},
    ).first()
    if row is None:
        return None, None, None
    user, *live, plan, member = row
    return user, Live(*live), (plan, member) if member is not None and plan is not None else None


def role_of(plan_id: int, user_id: int) -> str | None:
    return db.session.scalar(
        select(Membership.role).where(Membership.plan_id == plan_id, Membership.user_id == user_id)
    )


def plans_of(user_id: int) -> list[tuple[Any, str]]:
    """The user's plans with their role, most recently changed first."""
    rows = db.session.execute(
        select(Plan, Membership.role)
        .join(Membership, Membership.plan_id == Plan.id)
        .where(Membership.user_id == user_id)
        .order_by(Plan.updated_at.desc(), Plan.id.desc())
    )
    return [(plan, role) for plan, role in rows]


_ROLE_ORDER = case({role: -i for i, role in enumerate(ROLES)}, value=Membership.role)


def members_of(plan_id: int) -> list[tuple[User, str]]:
    """A plan's members and roles: facilitators first, then editors, then viewers, by name."""
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.plan_id == plan_id)
        .order_by(_ROLE_ORDER, func.lower(User.name), User.id)
    )
    return [(user, role) for user, role in rows]


def sole_facilitator(members: list[tuple[User, str]]) -> int | None:
    """The id of a plan's only facilitator, given `members_of`: they can neither leave nor
    step down (`_keep_a_facilitator`), so the members page says so instead of offering it."""
    facilitators = [user.id for user, role in members if role == "facilitator"]
    return facilitators[0] if len(facilitators) == 1 else None


def facilitator_names(plan_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(User.name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.plan_id == plan_id, Membership.role == "facilitator")
            .order_by(func.lower(User.name))
        )
    )


# ---------------------------------------------------------------- members


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise MembershipRefused(f"Unknown role {role!r}.")
    return role


def own(plan: Any, user: Any) -> Membership:
    """Make `user` the facilitator of a plan they have just created, imported or copied."""
    membership = Membership(plan_id=plan.id, user_id=user.id, role="facilitator")
    db.session.add(membership)
    unit.done()
    return membership


def invite_by_email(plan: Any, email: str, role: str, invited_by: Any) -> tuple[Invitation, str]:
    """Invite whoever uses `email` to the plan with `role`: an invitation, never a membership.
    The account that uses the address now (if one does) sees it on its home page, to accept
    or decline; the token, for the mail, is returned. Whether an account uses the address
    changes nothing the facilitator sees: only someone already in the plan (listed, address
    and all, on its members page) is refused. A new invitation to the same address replaces
    the last one."""
    _check_role(role)
    email = normalize_email(email)
    invitee = find_by_email(email)
    if invitee is not None and role_of(plan.id, invitee.id) is not None:
        raise MembershipRefused(f"{email} is already a member of this plan. Change the role in the list.")
    db.session.execute(delete(Invitation).where(Invitation.plan_id == plan.id, Invitation.email == email))
    invitee_id = invitee.id if invitee is not None else None
    days = current_app.config["INVITATION_DAYS"]
    return _new_invitation(plan, role, days, invited_by, email=email, invitee_id=invitee_id)


def _membership(plan_id: int, user_id: int) -> Membership:
    membership = db.session.scalar(
        select(Membership).where(Membership.plan_id == plan_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise MembershipRefused("That person is not a member of this plan.")
    return membership


def _lock_plan(plan_id: int) -> None:
    """Hold the plan's row until the transaction ends (PostgreSQL), so that two facilitators
    demoting each other at once are checked one after the other. SQLite writes one
    transaction at a time anyway, and has no FOR UPDATE."""
    db.session.execute(select(Plan.id).where(Plan.id == plan_id).with_for_update())


@contextmanager
def _keeping_a_facilitator(plan_id: int) -> Iterator[None]:
    """Make a change to the plan's members in a savepoint, and undo it (only it) and refuse
    it if it leaves the plan without a facilitator."""
    with db.session.begin_nested():
        yield
        db.session.flush()
        left = db.session.scalar(
            select(func.count(Membership.id)).where(Membership.plan_id == plan_id, Membership.role == "facilitator")
        )
        if not left:
            raise MembershipRefused("A plan needs at least one facilitator. Make someone else a facilitator first.")


def set_role(plan: Any, user_id: int, role: str) -> User:
    _check_role(role)
    _lock_plan(plan.id)
    membership = _membership(plan.id, user_id)
    with _keeping_a_facilitator(plan.id):
        membership.role = role
    unit.done()
    return db.session.get(User, user_id)


def remove_member(plan: Any, user_id: int) -> User:
    _lock_plan(plan.id)
    membership = _membership(plan.id, user_id)
    user = db.session.get(User, user_id)
    with _keeping_a_facilitator(plan.id):
        db.session.delete(membership)
    unit.done()
    return user


# ---------------------------------------------------------------- invitations


def create_invitation(plan: Any, role: str, days: int, created_by: Any) -> tuple[Invitation, str]:
    """A new invitation and its token. The token is shown once: only its hash is kept."""
    _check_role(role)
    if not 1 <= days <= 90:
        raise MembershipRefused("An invitation can last from 1 to 90 days.")
    return _new_invitation(plan, role, days, created_by)


def _new_invitation(plan: Any, role: str, days: int, created_by: Any, **addressee: Any) -> tuple[Invitation, str]:
    """Store an invitation (a link, or one sent to `email`/`invitee_id`); its token,
    to show or mail once, is returned: only its hash is kept."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        plan_id=plan.id,
        role=role,
        token_hash=token_hash(token),
        created_by_id=created_by.id,
        expires_at=utcnow() + timedelta(days=days),
        **addressee,
    )
    db.session.add(invitation)
    unit.done()
    return invitation, token


def open_invitations(plan_id: int) -> list[tuple[Invitation, str | None]]:
    """The invitations that still work, links and those sent to an address, with their
    creator's name, newest first."""
    rows = db.session.execute(
        select(Invitation, User.name)
        .outerjoin(User, User.id == Invitation.created_by_id)
        .where(Invitation.plan_id == plan_id, _open())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return [(invitation, name) for invitation, name in rows]


def _open() -> Any:
    return Invitation.revoked_at.is_(None) & (Invitation.expires_at > utcnow())


def invitations_for(user_id: int) -> list[tuple[Invitation, Any, str | None]]:
    """The invitations waiting for an account to accept or decline, with the plan and who
    sent it, newest first: for its home page."""
    rows = db.session.execute(
        select(Invitation, Plan, User.name)
        .join(Plan, Plan.id == Invitation.plan_id)
        .outerjoin(User, User.id == Invitation.created_by_id)
        .where(Invitation.invitee_id == user_id, _open())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return [(invitation, plan, name) for invitation, plan, name in rows]


def answer_invitation(invitation_id: int, user: Any, *, accept: bool) -> tuple[Invitation, str | None]:
    """Accept or decline an invitation sent to `user`. Returns it and, when accepted, the
    role they have now. Refused when it is not theirs, or no longer works."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.invitee_id == user.id, _open())
    )
    if invitation is None:
        raise MembershipRefused("That invitation no longer works: it was withdrawn, answered, or it expired.")
    if accept:
        role, _changed = accept_invitation(invitation, user)
        return invitation, role
    invitation.revoked_at = utcnow()
    unit.done()
    return invitation, None


def revoke_invitation(plan: Any, invitation_id: int) -> bool:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.plan_id == plan.id)
    )
    if invitation is None or invitation.revoked_at is not None:
        return False
    invitation.revoked_at = utcnow()
    unit.done()
    return True


def invitation_for(token: str) -> Invitation | None:
    """The invitation a token opens, if it still works."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= utcnow():
        return None
    return invitation


def for_someone_else(invitation: Invitation, user: Any) -> bool:
    """Whether an invitation sent to one person names someone other than `user`: another
    account (`invitee_id`), or, when no account had the address, another address."""
    if invitation.invitee_id is not None:
        return invitation.invitee_id != user.id
    return invitation.email is not None and normalize_email(user.email) != invitation.email


def accept_invitation(invitation: Invitation, user: Any) -> tuple[str, bool]:
    """Make `user` a member with the invitation's role, unless they already have that role
    or a higher one. Returns their role afterwards and whether it changed. Refused when the
    invitation was sent to someone else (`for_someone_else`)."""
    if for_someone_else(invitation, user):
        raise MembershipRefused("This invitation was sent to someone else. Log in as them to accept it.")
    if invitation.email is not None:
        invitation.revoked_at = utcnow()  # sent to one person: it works once
    membership = db.session.scalar(
        select(Membership).where(Membership.plan_id == invitation.plan_id, Membership.user_id == user.id)
    )
    if membership is None:
        try:
            with db.session.begin_nested():  # undone alone if it fails
                db.session.add(Membership(plan_id=invitation.plan_id, user_id=user.id, role=invitation.role))
        except IntegrityError:  # the same person accepted in another tab a moment ago
            return accept_invitation(invitation, user)
        unit.done()
        return invitation.role, True
    role = roles.stronger(membership.role, invitation.role)
    if role == membership.role:
        unit.done()
        return role, False
    membership.role = role
    unit.done()
    return role, True
