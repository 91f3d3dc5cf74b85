"""A plan's members page, invitations, and answering them.

Every member sees who is in the plan and may leave it; facilitators also invite people by
e-mail, change roles, remove people, and make and revoke invitation links. Anyone holding a
working invitation link can open it; accepting it needs an account (log in or sign up, then
come back). An invitation sent to an address waits on that account's home page, to accept or
decline; with mail set up, the address also gets its link. The facilitator is told the same
("Invitation sent to ...") whether or not an account uses the address.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from planner.accounts import membership, roles
from planner.accounts.access import plan_or_404
from planner.accounts.forms import ROLE_CHOICES, AddMemberForm, InvitationForm, RoleForm
from planner.accounts.mail import send_invitation
from planner.accounts.membership import MembershipRefused
from planner.accounts.models import User
from planner.accounts.ratelimit import limit_invitations
from planner.accounts.users import external_url, page_url
from planner.extensions import db
from planner.models import Plan

bp = Blueprint("members", __name__)

NEW_LINK = "new_invitation_link"  # the session key that carries a new link to the page, once


def _members_url(plan_id: int) -> str:
    return url_for("members.index", plan_id=plan_id)


def _page(plan: Any, add_form: AddMemberForm | None = None, invite_form: InvitationForm | None = None, status=200):
    manage = roles.allows(g.plan_role, "manage")
    new_link = session.pop(NEW_LINK, None)
    if new_link and new_link.get("plan") != plan.id:
        new_link = None
    members = membership.members_of(plan.id)
    return (
        render_template(
            "accounts/members.html",
            plan=plan,
            members=members,
            sole_facilitator_id=membership.sole_facilitator(members),
            invitations=membership.open_invitations(plan.id) if manage else [],
            manage=manage,
            add_form=add_form or AddMemberForm(formdata=None),
            invite_form=invite_form or InvitationForm(formdata=None),
            new_link=new_link["url"] if new_link else None,
            role_choices=ROLE_CHOICES,
            role_label=roles.role_label,
            mail=bool(current_app.config.get("MAIL_SERVER")),
            invitation_days=current_app.config["INVITATION_DAYS"],
        ),
        status,
    )


@bp.get("/plans/<int:plan_id>/members")
def index(plan_id: int):
    return _page(plan_or_404(plan_id, "view"))


@bp.post("/plans/<int:plan_id>/members")
@limit_invitations
def add(plan_id: int):
    plan = plan_or_404(plan_id, "manage")
    form = AddMemberForm()
    if not form.validate():
        return _page(plan, add_form=form, status=422)
    try:
        invitation, token = membership.invite_by_email(plan, form.email.data, form.role.data, current_user)
    except MembershipRefused as exc:
        form.email.errors.append(str(exc))
        return _page(plan, add_form=form, status=422)
    send_invitation(
        invitation.email,
        inviter=current_user.name,
        plan=plan.title,
        role=roles.role_label(invitation.role).lower(),
        days=current_app.config["INVITATION_DAYS"],
        url=external_url("members.invitation", token=token),
    )
    # The same words whether or not an account uses the address: the page tells nobody who has one.
    flash(f"Invitation sent to {invitation.email}.", "success")
    return redirect(_members_url(plan.id))


@bp.post("/plans/<int:plan_id>/members/<int:user_id>/role")
def change_role(plan_id: int, user_id: int):
    plan = plan_or_404(plan_id, "manage")
    form = RoleForm()
    if not form.validate():
        flash("Choose one of the roles.", "error")
        return redirect(_members_url(plan.id))
    try:
        user = membership.set_role(plan, user_id, form.role.data)
    except MembershipRefused as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.name} is now {roles.role_label(form.role.data).lower()}.", "success")
    return redirect(_members_url(plan_id))


@bp.post("/plans/<int:plan_id>/members/<int:user_id>/remove")
def remove(plan_id: int, user_id: int):
    plan = plan_or_404(plan_id, "manage")
    try:
        user = membership.remove_member(plan, user_id)
    except MembershipRefused as exc:
        flash(str(exc), "error")
        return redirect(_members_url(plan_id))
    if user_id == current_user.id:
        flash(f"You left “{plan.title}”.", "success")
        return redirect(url_for("plans.index"))
    flash(f"{user.name} no longer has access to this plan.", "success")
    return redirect(_members_url(plan_id))


@bp.post("/plans/<int:plan_id>/leave")
def leave(plan_id: int):
    """Any member may leave a plan (a facilitator also through `remove`); the last
    facilitator is refused, as everywhere."""
    plan = plan_or_404(plan_id, "view")
    try:
        membership.remove_member(plan, current_user.id)
    except MembershipRefused as exc:
        flash(str(exc), "error")
        return redirect(_members_url(plan_id))
    flash(f"You left “{plan.title}”.", "success")
    return redirect(url_for("plans.index"))


@bp.post("/plans/<int:plan_id>/invitations")
def invite(plan_id: int):
    plan = plan_or_404(plan_id, "manage")
    form = InvitationForm()
    if not form.validate():
        return _page(plan, invite_form=form, status=422)
    _invitation, token = membership.create_invitation(plan, form.role.data, int(form.days.data), current_user)
    # Only the token's hash is stored: the link can be shown this once, on the next page.
    session[NEW_LINK] = {"plan": plan.id, "url": page_url("members.invitation", token=token)}
    return redirect(_members_url(plan.id) + "#new-link")


@bp.post("/plans/<int:plan_id>/invitations/<int:invitation_id>/revoke")
def revoke(plan_id: int, invitation_id: int):
    plan = plan_or_404(plan_id, "manage")
    if membership.revoke_invitation(plan, invitation_id):
        flash("The invitation no longer works.", "success")
    return redirect(_members_url(plan_id))


# ---------------------------------------------------------------- accepting an invitation


def _invitation_or_404(token: str) -> Any:
    invitation = membership.invitation_for(token)
    if invitation is None:
        abort(404, description="This invitation link has expired, was revoked, or is not complete.")
    return invitation


@bp.get("/invitations/<token>")
def invitation(token: str, status: int = 200):
    invitation = _invitation_or_404(token)
    plan = db.session.get(Plan, invitation.plan_id)
    inviter = db.session.get(User, invitation.created_by_id) if invitation.created_by_id else None
    role = membership.role_of(plan.id, current_user.id) if current_user.is_authenticated else None
    here = url_for("members.invitation", token=token)
    return render_template(
        "accounts/invitation.html",
        invitation=invitation,
        plan=plan,
        inviter=inviter,
        already=roles.rank(role) >= roles.rank(invitation.role),
        current_role=role,
        someone_else=current_user.is_authenticated and membership.for_someone_else(invitation, current_user),
        role_label=roles.role_label,
        next_url=here,  # every log-in and sign-up link on the page comes back here
    ), status


@bp.post("/invitations/<token>")
@login_required
def accept(token: str):
    offer = _invitation_or_404(token)
    if membership.for_someone_else(offer, current_user):
        return invitation(token, status=403)  # the page that says whom to log in as
    role, changed = membership.accept_invitation(offer, current_user)
    label = roles.role_label(role).lower()
    flash(f"Welcome: you are {label} in this plan." if changed else f"You are already {label} in this plan.", "success")
    return redirect(url_for("wizard.first_step", plan_id=offer.plan_id))


# ---------------------------------------------------------------- invitations sent to an account


@bp.post("/invitations/<int:invitation_id>/accept")
@login_required
def accept_sent(invitation_id: int):
    try:
        invitation, role = membership.answer_invitation(invitation_id, current_user, accept=True)
    except MembershipRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("plans.index"))
    flash(f"Welcome: you are {roles.role_label(role).lower()} in this plan.", "success")
    return redirect(url_for("wizard.first_step", plan_id=invitation.plan_id))


@bp.post("/invitations/<int:invitation_id>/decline")
@login_required
def decline_sent(invitation_id: int):
    try:
        membership.answer_invitation(invitation_id, current_user, accept=False)
    except MembershipRefused as exc:
        flash(str(exc), "error")
    else:
        flash("You declined the invitation.", "success")
    return redirect(url_for("plans.index"))
