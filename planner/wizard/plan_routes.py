"""The home page and whole-plan actions: create, rename, duplicate and delete."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from planner.accounts import membership
from planner.accounts.access import plan_or_404
from planner.plans import store, view
from planner.plans.forms import RENAME_NEED, TitleForm
from planner.wizard import conflicts

bp = Blueprint("plans", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("accounts/landing.html")
    plans = membership.plans_of(current_user.id)  # (plan, role), the person's plans only
    return render_template("plans/index.html", plans=plans, form=TitleForm(formdata=None))


@bp.post("/plans")
@login_required
def create():
    form = TitleForm()
    if not form.validate():
        return render_template("plans/index.html", plans=membership.plans_of(current_user.id), form=form), 422
    plan = store.create_plan(form.title.data, actor=current_user, owner=current_user)
    return redirect(url_for("wizard.step", plan_id=plan.id, slug="starting-point"))


@bp.post("/plans/<int:plan_id>/rename")
def rename(plan_id: int):
    plan = plan_or_404(plan_id, RENAME_NEED)
    form = TitleForm()
    if not form.validate():
        return render_template("plans/rename.html", plan=plan, form=form), 422
    try:
        store.update_plan_fields(
            plan, {"title": form.title.data}, actor=current_user, base_version=conflicts.base_version()
        )
    except store.EditConflict as exc:
        clash = conflicts.rename_clash(exc.conflict)
        return render_template(
            "plans/rename.html", plan=plan, form=form, clash=clash, base_version=exc.conflict.version
        ), 409
    flash("Plan renamed.", "success")
    back_to_wizard = request.form.get("back") == "wizard"
    return redirect(url_for("wizard.first_step", plan_id=plan.id) if back_to_wizard else url_for("plans.index"))


@bp.get("/plans/<int:plan_id>/rename")
def rename_form(plan_id: int):
    plan = plan_or_404(plan_id, RENAME_NEED)
    return render_template("plans/rename.html", plan=plan, form=TitleForm(data={"title": plan.title}))


@bp.post("/plans/<int:plan_id>/duplicate")
def duplicate(plan_id: int):
    plan = plan_or_404(plan_id, "manage")
    copy = store.duplicate_plan(plan, actor=current_user, owner=current_user)
    flash(f"Made a copy: “{copy.title}”.", "success")
    return redirect(url_for("plans.index"))


@bp.route("/plans/<int:plan_id>/delete", methods=["GET", "POST"])
def delete(plan_id: int):
    plan = plan_or_404(plan_id, "manage")
    if request.method == "POST":
        title = plan.title
        store.delete_plan(plan, actor=current_user)  # its cached documents go with it (plan_deleted)
        flash(f"Deleted “{title}”.", "success")
        return redirect(url_for("plans.index"))
    doc = store.load_doc(plan)
    return render_template("plans/delete.html", plan=plan, progress=view.progress(doc), doc=doc)
