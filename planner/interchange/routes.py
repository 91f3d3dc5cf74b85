"""Routes of the interchange package: download a plan as JSON, and upload one.

The views are thin: they parse the request, call `planner.interchange.transfer`, and render
or redirect.  What an import accepts is decided in `planner.interchange.validate`.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from planner.accounts.access import plan_or_404
from planner.domain import STEPS
from planner.interchange.transfer import (
    ImportRefused,
    dumps,
    export_document,
    export_filename,
    import_document,
    max_import_bytes,
)
from planner.interchange.validate import Problem

bp = Blueprint("interchange", __name__)


def _one_file(form: FlaskForm, field: FileField) -> None:
    """An import makes one plan: a second file must not be dropped without a word."""
    if len(request.files.getlist(field.name)) > 1:
        raise ValidationError("Choose one file: each import makes one plan.")


class ImportForm(FlaskForm):
    file = FileField("Plan file (.json)", validators=[FileRequired("Choose a plan file to import."), _one_file])


def first_step_url(plan_id: int) -> str:
    """Where a new plan opens: the wizard's first step."""
    try:
        return url_for("wizard.step", plan_id=plan_id, slug=STEPS[0].slug)
    except BuildError:
        # The wizard's routes may not be registered (yet); the URL is part of the design.
        return f"/plans/{plan_id}/steps/{STEPS[0].slug}"


@bp.get("/plans/<int:plan_id>/export.json")
def export_json(plan_id: int) -> Response:
    plan = plan_or_404(plan_id, "view")
    data = dumps(export_document(plan)).encode("utf-8")
    return send_file(
        BytesIO(data),
        mimetype="application/json",
        as_attachment=True,
        download_name=export_filename(plan, "json"),
        max_age=0,
    )


def _page(form: ImportForm, problems: list[Problem] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("interchange/import.html", form=form, problems=problems or []), status


@bp.get("/plans/import")
@login_required
def import_form() -> Any:
    return _page(ImportForm())


@bp.post("/plans/import")
@login_required
def import_upload() -> Any:
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    limit = max_import_bytes()
    try:
        plan = import_document(form.file.data.read(limit + 1), current_user, max_bytes=limit, owner=current_user)
    except ImportRefused as exc:
        return _page(form, exc.problems, status=422)
    flash(f"Imported “{plan.title}”.", "success")
    return redirect(first_step_url(plan.id), code=303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Any:
    # The whole request is larger than the app reads (MAX_CONTENT_LENGTH): say so on the page
    # rather than with a bare 413.
    problem = Problem("document", "is larger than this server accepts in one upload")
    return _page(ImportForm(formdata=None), [problem], status=413)
