"""The wizard: one page per step, with the step's plan fields and its lists of items.

Every form posts, then redirects back to the step (POST-redirect-GET). A form that fails
validation is shown again on the step page, with the person's input and the errors beside
the fields, and status 422.

Every edit form carries the version it was opened on (`base_version`). A save that meets
someone else's is merged field by field, or answered with the conflict page, or, when the item
was deleted meanwhile, with a page that keeps the person's text (`planner.wizard.conflicts`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.accounts.access import plan_or_404
from planner.coach import coach_report, findings_for_step, grouped, picture_svg
from planner.coach.load import loads
from planner.discussion import visits
from planner.discussion.pages import step_context
from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, STEP_OF_ENTITY, STEPS, Entity, Field, Step, plan_field
from planner.domain.limits import KEY_PATTERN
from planner.plans import cached, store, view
from planner.plans.forms import kept_from
from planner.plans.store.cascade import cascade
from planner.wizard import conflicts
from planner.wizard.forms import form_class, form_data, values_from

bp = Blueprint("wizard", __name__)


@bp.app_errorhandler(store.TooManyItems)
def too_many_items(full: store.TooManyItems) -> Any:
    """An item past its kind's limit, from a route with no add form to say it on (a workshop card
    made a plan item): 422 and the reason, as JSON for a page's script. Nothing was saved."""
    if request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With"):
        return jsonify(error=str(full)), 422
    return render_template("errors/error.html", code=422, title="The plan is full", message=str(full)), 422


def _step_or_404(slug: str) -> Step:
    step = STEP_BY_SLUG.get(slug)
    if step is None:
        abort(404)
    return step


def _entity_or_404(name: str) -> Entity:
    entity = ENTITY_BY_NAME.get(name)
    if entity is None:
        abort(404)
    return entity


def _plan_fields(step: Step) -> tuple[Field, ...]:
    return tuple(plan_field(name) for name in step.plan_fields)


def _step_url(plan_id: int, step: Step, anchor: str | None = None) -> str:
    return url_for("wizard.step", plan_id=plan_id, slug=step.slug, _anchor=anchor)


class _StepForms:
    """A step page's forms, built when the page draws them. `failed` is (form id, form) for a
    form that did not validate, shown as the person sent it. A fresh form must not read the
    request: on a failed POST it holds another form's fields."""

    def __init__(self, plan: Any, doc: dict[str, Any], step: Step, failed: tuple[str, FlaskForm] | None) -> None:
        self.plan, self.doc, self.step = plan, doc, step
        self.failed_id, self.failed_form = failed if failed else (None, None)

    def _form(
        self, form_id: str, fields: tuple[Field, ...], read_only: dict[str, str] | None = None, **kwargs: Any
    ) -> FlaskForm:
        if form_id == self.failed_id:
            return self.failed_form
        # The form's class (its fields, their choices) follows from the plan's revision alone.
        kind = ("form", form_id, tuple(f.name for f in fields), tuple(sorted((read_only or {}).items())))
        made = cached.per_revision(self.plan, kind, lambda: form_class(fields, self.doc, read_only))
        return made(formdata=None, prefix=form_id, **kwargs)

    def fields(self) -> FlaskForm:
        """The step's answers; what the member's role may not change is shown read-only (the
        title, for anyone who may not rename the plan)."""
        fields = _plan_fields(self.step)
        return self._form("plan", fields, kept_from(g.get("plan_role")), data=form_data(fields, self.doc))

    def new(self, entity: Entity) -> FlaskForm:
        """An add form, drawn on the page only where it shows (an empty list, or sent back with
        errors); otherwise built on demand (see `new_item`), as edit forms are."""
        return self._form(f"new-{entity.name}", entity.fields)

    def of_item(self, entity: Entity, key: str) -> FlaskForm | None:
        """The item's edit form, only when it came back with errors. Edit forms are otherwise
        built on demand (see `edit_item`): with every reference offered as a checkbox, a form
        per item would make a step page grow with the square of the plan."""
        return self.failed_form if self.failed_id == f"{entity.name}-{key}" else None


class _ItemUrls:
    """An item's links on a step page, `item_url(endpoint, entity, key, ...)`: each endpoint's
    URL is built once per kind, with a mark where the key goes, and the key put in its place
    (`url_for` per link of every item was a fifth of a page's time). A key holds only
    characters a URL carries as they are (`planner.domain.limits.KEY_PATTERN`)."""

    _MARK = "\x00"  # a character no key holds; url_for writes it as %00

    def __init__(self, plan_id: int) -> None:
        self.plan_id = plan_id
        self._made: dict[tuple[Any, ...], str] = {}

    def __call__(self, endpoint: str, entity: Entity, key: str, **args: Any) -> str:
        made = (endpoint, entity.name, tuple(sorted(args.items())))
        url = self._made.get(made)
        if url is None:
            url = url_for(endpoint, plan_id=self.plan_id, entity_name=entity.name, key=self._MARK, **args)
            self._made[made] = url
        if not KEY_PATTERN.fullmatch(key):  # never, for a stored key: built the long way
            return url_for(endpoint, plan_id=self.plan_id, entity_name=entity.name, key=key, **args)
        return url.replace("%00", key, 1)


def _render_step(
    plan: Any,
    doc: dict[str, Any],
    step: Step,
    failed: tuple[str, FlaskForm] | None = None,
    status=200,
    seen: list[Any] | None = None,
):
    """Render a step page. `failed` is (form id, form) for a form that did not validate. What
    the page works out from the plan is kept per revision (`planner.plans.cached`)."""
    lists = [(entity, view.items(doc, entity)) for entity in (ENTITY_BY_NAME[name] for name in step.entities)]
    # The coach judges milestones against today's date: what it says is kept per revision and day.
    today = date.today()
    report = cached.per_revision(plan, ("coach", today), lambda: coach_report(doc, today=today))
    names = cached.per_revision(plan, "names", lambda: view.names(doc))
    review = step.slug == "review"
    return (
        render_template(
            "wizard/review.html" if review else "wizard/step.html",
            report=report,
            # Several checks meeting one gap are said once (`grouped`).
            advice=cached.per_revision(
                plan,
                ("advice", today, step.slug),
                lambda: grouped(report.checks if review else findings_for_step(report, step.slug)),
            ),
            picture=cached.per_revision(plan, ("picture", today), lambda: picture_svg(report)) if review else None,
            coach_day=today,
            listed=view.items,  # an entity's items in the order every page lists them
            plan=plan,
            doc=doc,
            step=step,
            progress=cached.per_revision(plan, "progress", lambda: view.progress(doc)),
            needs=cached.per_revision(plan, "needs", lambda: view.all_needs(doc)),
            names=names,
            forms=_StepForms(plan, doc, step, failed),
            lists=lists,
            # Each person's load, the coach's own figures, shown beside them on the Team step.
            loads=cached.per_revision(plan, "loads", lambda: {load.person: load for load in loads(doc)})
            if "person" in step.entities
            else {},
            failed_id=failed[0] if failed else None,
            item_url=_ItemUrls(plan.id),
            **step_context(plan, step, failed[0] if failed else None, seen),
        ),
        status,
    )


@bp.get("/plans/<int:plan_id>/steps/<slug>")
def step(plan_id: int, slug: str):
    plan = plan_or_404(plan_id, "view")
    step = _step_or_404(slug)
    seen = visits.step_visits(plan.id, current_user)  # read once, for the visit and the news
    visits.record_visit(plan.id, current_user, step.slug, membership=g.membership, seen=seen)
    return _render_step(plan, store.page_doc(plan), step, seen=seen)


@bp.get("/plans/<int:plan_id>")
def first_step(plan_id: int):
    plan_or_404(plan_id, "view")
    return redirect(_step_url(plan_id, STEPS[0]))


@bp.post("/plans/<int:plan_id>/steps/<slug>")
def save_fields(plan_id: int, slug: str):
    plan = plan_or_404(plan_id, "edit")
    step = _step_or_404(slug)
    doc = store.load_doc(plan)
    fields = _plan_fields(step)
    if not fields:
        abort(404)
    if conflicts.discarded():
        flash(f"Kept the saved answers of {step.title}; your changes were dropped.", "success")
        return redirect(_step_url(plan_id, step))
    # What the member's role may not change (the title, unless they may rename the plan) is
    # never taken from the form, whatever it holds; the rest of the step is saved as usual.
    kept = kept_from(g.plan_role)
    form = form_class(fields, doc, kept)(prefix="plan")
    if not form.validate():
        return _render_step(plan, doc, step, ("plan", form), 422)
    mine = tuple(f for f in fields if f.name not in kept)
    try:
        saved = store.update_plan_fields(
            plan, conflicts.chosen(values_from(form, mine)), actor=current_user, base_version=conflicts.base_version()
        )
    except store.EditConflict as exc:
        return conflicts.conflict_page(plan, doc, exc.conflict, form_id="plan", action=request.path)
    flash(conflicts.saved_message(step.title, saved), "success")
    for f in fields:
        if f.name in kept and _sent_changed(form, f, doc):
            # A page opened before their role changed, say: tell them, rather than drop it quietly.
            flash(f"{f.label} not changed. {kept[f.name]}", "error")
    return redirect(_step_url(plan_id, step))


def _sent_changed(form: FlaskForm, field: Field, doc: dict[str, Any]) -> bool:
    sent = form[field.name]
    return bool(sent.raw_data) and (sent.data or "").strip() != (doc.get(field.name) or "")


@bp.get("/plans/<int:plan_id>/items/<entity_name>/new")
def new_item(plan_id: int, entity_name: str):
    """An add form: a page of its own, or (with ?fragment=1) just the form, which the step
    page's script shows in place. The step page draws it itself only on an empty list."""
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    doc = store.form_doc(plan, entity)
    form = form_class(entity.fields, doc)(formdata=None, prefix=f"new-{entity.name}")
    template = "wizard/_new_item_form.html" if request.args.get("fragment") else "wizard/new_item.html"
    return render_template(template, plan=plan, entity=entity, form=form, step=STEP_OF_ENTITY[entity.name], cancel=True)


@bp.post("/plans/<int:plan_id>/items/<entity_name>/new")
def add_item(plan_id: int, entity_name: str):
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    step = STEP_OF_ENTITY[entity.name]
    # What the form offers (and so validates) is read alone, not the whole plan, and once.
    read = store.form_read(plan, entity)
    form = form_class(entity.fields, read.doc)(prefix=f"new-{entity.name}")
    if not form.validate():
        # Shown again in place, on the step page, with what the person typed.
        return _render_step(plan, store.page_doc(plan), step, (f"new-{entity.name}", form), 422)
    try:
        item = store.add_item(plan, entity, values_from(form, entity.fields), actor=current_user, read=read)
    except store.TooManyItems as full:
        # Said on the add form, beside the item's name, with what the person typed kept.
        form[entity.title_field].errors.append(str(full))
        return _render_step(plan, store.page_doc(plan), step, (f"new-{entity.name}", form), 422)
    flash(f"{entity.label} added.", "success")
    return redirect(_step_url(plan_id, step, f"{entity.name}-{item.key}"))


@bp.post("/plans/<int:plan_id>/items/<entity_name>/<key>")
def update_item(plan_id: int, entity_name: str, key: str):
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    step = STEP_OF_ENTITY[entity.name]
    form_id = f"{entity.name}-{key}"
    if conflicts.discarded():
        flash(f"Kept the saved {entity.label.lower()}; your changes were dropped.", "success")
        return redirect(_step_url(plan_id, step, form_id))
    # What the form offers and the item as saved, read once: the save writes from this read.
    read = store.form_read(plan, entity, key)
    doc = read.doc
    form = form_class(entity.fields, doc)(prefix=form_id)
    try:
        if read.obj is None:
            store.get_item(plan, entity, key)  # raises ItemGone: who deleted it, if anyone did
        if not form.validate():
            return _render_step(plan, store.page_doc(plan), step, (form_id, form), 422)
        saved = store.update_item(
            plan,
            entity,
            key,
            conflicts.chosen(values_from(form, entity.fields)),
            actor=current_user,
            base_version=conflicts.base_version(),
            # None if the item was missing at the read and is back now (restored meanwhile).
            read=read if read.obj is not None else None,
        )
    except store.ItemGone as gone:
        if gone.deletion is None:
            abort(404)
        return conflicts.gone_page(plan, doc, entity, key, form, gone)
    except store.EditConflict as exc:
        return conflicts.conflict_page(plan, doc, exc.conflict, form_id=form_id, action=request.path)
    flash(conflicts.saved_message(entity.label, saved, entity), "success")
    return redirect(_step_url(plan_id, step, form_id))


@bp.get("/plans/<int:plan_id>/items/<entity_name>/<key>/edit")
def edit_item(plan_id: int, entity_name: str, key: str):
    """An item's edit form: a page of its own, or (with ?fragment=1) just the form, which the
    step page's script shows in place."""
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    # The version is read before the values: a save in between then merges as someone else's.
    # Read after, it could be newer than the values, and saving the form would undo that save.
    try:
        base_version = store.item_version(plan, entity, key)
    except store.NotFound:
        abort(404)
    doc = store.form_doc(plan, entity, key)
    item = next((i for i in view.items(doc, entity) if i["key"] == key), None)
    if item is None:
        abort(404)
    form_id = f"{entity.name}-{key}"
    form = form_class(entity.fields, doc)(formdata=None, prefix=form_id, data=form_data(entity.fields, item))
    template = "wizard/_item_form.html" if request.args.get("fragment") else "wizard/edit_item.html"
    return render_template(
        template,
        plan=plan,
        entity=entity,
        item=item,
        form=form,
        step=STEP_OF_ENTITY[entity.name],
        base_version=base_version,
    )


@bp.post("/plans/<int:plan_id>/items/<entity_name>/<key>/move")
def move_item(plan_id: int, entity_name: str, key: str):
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    offset = -1 if request.form.get("direction") == "up" else 1
    try:
        store.move_item(plan, entity, key, offset, actor=current_user)
    except store.NotFound:
        abort(404)
    return redirect(_step_url(plan_id, STEP_OF_ENTITY[entity.name], f"{entity.name}-{key}"))


@bp.route("/plans/<int:plan_id>/items/<entity_name>/<key>/delete", methods=["GET", "POST"])
def delete_item(plan_id: int, entity_name: str, key: str):
    """Delete an item. When others refer to it, first say which, and ask."""
    plan = plan_or_404(plan_id, "edit")
    entity = _entity_or_404(entity_name)
    step = STEP_OF_ENTITY[entity.name]
    doc = store.load_doc(plan)
    item = next((i for i in view.items(doc, entity) if i["key"] == key), None)
    if item is None:
        abort(404)
    what = cascade(doc, entity, key)
    # CSRFProtect has already checked the token of any POST that reaches this view.
    confirmed = request.form.get("confirm") == "yes"
    if request.method == "POST" and (confirmed or not what):
        store.delete_item(plan, entity, key, actor=current_user)
        flash(f"{entity.label} “{view.title_of(entity, item)}” deleted.", "success")
        return redirect(_step_url(plan_id, step, entity.collection))
    return render_template(
        "wizard/delete_item.html",
        plan=plan,
        entity=entity,
        item=item,
        step=step,
        cascade=what,
        names=view.names(doc),
    )
