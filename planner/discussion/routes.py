"""The discussion's routes: comments on steps and items, and a step's owner and due date
(facilitators only).  What a step page shows of them is `planner.discussion.pages`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user

from planner.accounts.access import can, plan_or_404
from planner.discussion import assignments, comments
from planner.discussion.forms import AssignmentForm, CommentForm
from planner.domain import STEP_BY_SLUG, STEP_OF_ENTITY

bp = Blueprint("discussion", __name__)


@bp.app_template_global("may_comment")
def may_comment() -> bool:
    """Whether the member may write on the plan's page: what the comment routes ask for."""
    return can(comments.NEED)


@bp.app_template_global("steps_due_for_me")
def steps_due_for_me() -> list[assignments.Due]:
    """The home page's list of the signed-in member's steps (empty for nobody)."""
    return assignments.due_for(current_user)


def _back(plan_id: int, step: str, anchor: str | None):
    return redirect(url_for("wizard.step", plan_id=plan_id, slug=step, _anchor=anchor))


@bp.post("/plans/<int:plan_id>/comments")
def add_comment(plan_id: int):
    plan = plan_or_404(plan_id, need=comments.NEED)
    form = CommentForm()
    entity, key = form.entity.data or None, form.key.data or None
    step = STEP_OF_ENTITY[entity].slug if entity in STEP_OF_ENTITY else form.step.data
    if step not in STEP_BY_SLUG:
        abort(404)
    anchor = f"{entity}-{key}-comments" if entity and key else "comments"
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back(plan.id, step, anchor)
    try:
        comments.add_comment(plan, current_user, form.body.data, step=step, entity=entity, key=key)
    except comments.CommentRefused as refused:
        flash(str(refused), "error")
        return _back(plan.id, step, anchor)
    flash("Comment added.", "success")
    return _back(plan.id, step, anchor)


@bp.post("/plans/<int:plan_id>/comments/<int:comment_id>/delete")
def delete_comment(plan_id: int, comment_id: int):
    plan = plan_or_404(plan_id, need=comments.NEED)
    try:
        comment = comments.delete_comment(plan, comment_id, current_user)
    except LookupError:
        abort(404)
    except comments.CommentRefused as refused:
        abort(403, str(refused))
    flash("Comment deleted.", "success")
    anchor = f"{comment.entity}-{comment.item_key}-comments" if comment.entity else "comments"
    return _back(plan.id, comment.step, anchor)


@bp.post("/plans/<int:plan_id>/steps/<slug>/assignment")
def assign(plan_id: int, slug: str):
    plan = plan_or_404(plan_id, need="manage")
    if slug not in STEP_BY_SLUG:
        abort(404)
    form = AssignmentForm(members=assignments.possible_owners(plan.id))
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back(plan.id, slug, "step-owner")
    owner = int(form.owner.data) if form.owner.data else None
    try:
        done = assignments.assign(plan, slug, owner, form.due.data)
    except assignments.AssignmentRefused as refused:
        flash(str(refused), "error")
        return _back(plan.id, slug, "step-owner")
    flash("Step owner saved." if done else "Step owner cleared.", "success")
    return _back(plan.id, slug, "step-owner")
