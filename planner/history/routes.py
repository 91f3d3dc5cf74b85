"""The history pages and restores.

- `/plans/<id>/history`: every change, newest first, by step and by person (query parameters);
- `/plans/<id>/history/<change>`: one change, before and after; POST `.../restore` undoes it;
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from planner.accounts.access import plan_or_404
from planner.domain import STEP_OF_ENTITY, STEPS, plan_field
from planner.history import records
from planner.plans import store
from planner.plans.forms import kept_from
from planner.plans.store.merging import changed_fields

bp = Blueprint("history", __name__)


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
