"""The history pages, restores, comments and step owners.

- `/plans/<id>/history`: every change, newest first, by step and by person (query parameters);
- `/plans/<id>/history/<change>`: one change, before and after; POST `.../restore` undoes it;
- comments on steps and items; a step's owner and due date (facilitators only).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from planner.domain import STEP_BY_SLUG, STEP_OF_ENTITY, STEPS, plan_field
from planner.history import assignments, comments, records
from planner.history.forms import AssignmentForm, CommentForm
from planner.history.merge import changed_fields
from planner.plans import store
from planner.plans.access import can, plan_or_404
from planner.plans.forms import kept_from

bp = Blueprint("history", __name__)


@bp.app_template_global("may_comment")
def may_comment() -> bool:
    """Whether the member may write on the plan's page: what the comment routes ask for."""
    return can(comments.NEED)


@bp.app_template_global("steps_due_for_me")
def steps_due_for_me() -> list[assignments.Due]:
    """The home page's list of the signed-in member's steps (empty for nobody)."""
    return assignments.due_for(current_user)


@bp.get("/plans/<int:plan_id>/history")
def index(plan_id: int):
    plan = plan_or_404(plan_id, need="view")
    filters = records.Filters.from_args(request.args)
    page = records.history_page(plan.id, filters, request.args.get("page", 1, type=int))
    return render_template(
        "history/index.html",
        plan=plan,
        page=page,
        filters=filters,
        authors=records.authors(plan.id),
        steps=STEPS,
        actions=records.ACTION_LABELS,
    )


@bp.get("/plans/<int:plan_id>/history/<int:change_id>")
def change(plan_id: int, change_id: int):
    plan = plan_or_404(plan_id, need="view")
    entry = records.entry(plan.id, change_id)
    if entry is None:
        abort(404)
    doc = store.load_doc(plan)
    source_id = records.source_change_id(entry.change)
    kept, only_kept = _kept_by_restore(entry.change)
    return render_template(
        "history/change.html",
        plan=plan,
        entry=entry,
        entity=records.entity_of(entry.change),
        diff=records.diff(plan.id, entry.change, doc),
        related=records.related(plan.id, entry.change),
        source=records.entry(plan.id, source_id) if source_id else None,
        restorable=store.restorable(entry.change),
        kept=kept,
        only_kept=only_kept,
    )


def _kept_by_restore(change: Any) -> tuple[dict[str, str], bool]:
    """The plan fields this change touched that the member's role may not change (the title,
    for anyone who may not rename the plan), each with the sentence that says who can; and
    whether that is all it touched (a rename), so that a restore could bring nothing back."""
    if change.entity != "plan":
        return {}, False
    touched = set(changed_fields(change.before, change.after))
    kept = {name: why for name, why in kept_from(g.plan_role).items() if name in touched}
    return kept, bool(kept) and touched <= set(kept)


@bp.post("/plans/<int:plan_id>/history/<int:change_id>/restore")
def restore(plan_id: int, change_id: int):
    plan = plan_or_404(plan_id, need="edit")
    try:
        restored = store.restore(plan, change_id, actor=current_user, keep=kept_from(g.plan_role))
    except store.NotFound:
        abort(404)
    except store.RestoreRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("history.change", plan_id=plan.id, change_id=change_id))
    flash(restored.change.summary + ".", "success")
    for name, why in restored.kept.items():
        flash(f"{plan_field(name).label} not restored. {why}", "error")
    change = restored.change
    if change.entity == "plan":
        return redirect(url_for("wizard.step", plan_id=plan.id, slug=change.step or STEPS[0].slug))
    step = STEP_OF_ENTITY[change.entity]
    return redirect(url_for("wizard.step", plan_id=plan.id, slug=step.slug, _anchor=f"{change.entity}-{restored.key}"))


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
