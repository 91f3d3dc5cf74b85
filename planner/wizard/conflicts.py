"""What the wizard shows when a save meets someone else's: the conflict page and the page
for an item deleted while someone edited it.

Every edit form carries `base_version`, the version it was opened on (an item's `version`, or
the plan's `fields_version`).  The store merges or refuses (`store.EditConflict`,
`store.ItemGone`); these helpers turn that into pages that keep the person's text:

* a conflict shows their form again, with their values where they changed something and the
  saved values elsewhere, and beside each field both of them changed, the other version and
  who saved it when, with a choice of which to keep.  It is based on the version saved now,
  so sending it saves (and merges again if yet another save came in between);
* a deleted item says who deleted it and when, and offers their text as a new item.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_wtf import FlaskForm

from planner.accounts.timezones import reader_text
from planner.domain import STEP_OF_ENTITY, STEP_OF_PLAN_FIELD, Entity
from planner.plans import store, view
from planner.text import joined
from planner.wizard.forms import form_class, form_data

# The conflict page's choice for a field: keep the value typed, or take the saved one.
TAKE_PREFIX = "take-"
DISCARD = "discard"


def base_version() -> int | None:
    """The version the submitted form was based on (None: an old form without one, or a
    number no version can be, which a database query could not even hold)."""
    version = request.form.get("base_version", type=int)
    return version if version is not None and 0 <= version < 2**31 else None


def chosen(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted values, less the fields where the person chose the saved version."""
    return {name: value for name, value in values.items() if request.form.get(TAKE_PREFIX + name) != "theirs"}


def discarded() -> bool:
    """Whether the person chose, on the conflict page, to drop their changes."""
    return request.form.get("resolution") == DISCARD


def _people(names: tuple[str, ...]) -> str:
    return joined(names) or "Someone"


def saved_message(label: str, saved: store.Saved, entity: Entity | None = None) -> str:
    """The flash after a save; it says so when the save was merged with someone else's."""
    if not saved.merged:
        return f"{label} saved."
    who = _people(saved.others)
    if saved.kept_theirs:
        return (
            f"{label} saved. {who} had changed {store.field_labels(entity, list(saved.kept_theirs))} meanwhile: "
            "their changes are kept too."
        )
    return f"{label} saved. {who} had saved it meanwhile, in other fields: both edits are kept."


def rename_clash(conflict: store.Conflict) -> str:
    """What the rename form says when someone renamed the plan while it was open."""
    edit = conflict.edits.get("title")
    who = edit.by if edit and edit.by else "Someone"
    at = f" at {reader_text(edit.at, 'time')}" if edit else ""
    return (
        f"{who} renamed the plan to “{conflict.theirs.get('title')}”{at}, while you were typing. "
        "Rename again to use your title, or cancel to keep theirs."
    )


def conflict_page(plan: Any, doc: dict[str, Any], conflict: store.Conflict, *, form_id: str, action: str) -> Any:
    """Answer a save that conflicts with someone else's: both versions, side by side (409)."""
    fields = conflict.fields
    form = form_class(fields, doc)(formdata=None, prefix=form_id, data=form_data(fields, conflict.form_values()))
    who = _people(tuple(dict.fromkeys(e.by or "Someone" for e in conflict.edits.values())))
    entity = conflict.entity
    if entity:
        step = STEP_OF_ENTITY[entity.name]
        what = f"{entity.label.lower()} “{view.title_of(entity, conflict.theirs)}”"
        back = f"{entity.name}-{conflict.key}"
        draft_id = form_id
    else:
        step = STEP_OF_PLAN_FIELD[fields[0].name]
        what = f"the answers of {step.title}"
        back = None
        # The step's answers form keeps its draft as "plan-<step>": the same draft, so that
        # the step offers it if the person leaves this page, and a save there settles it.
        draft_id = f"plan-{step.slug}"
    return (
        render_template(
            "history/conflict.html",
            plan=plan,
            step=step,
            entity=entity,
            conflict=conflict,
            form=form,
            form_id=form_id,
            draft_id=f"{plan.id}/{draft_id}",
            action=action,
            who=who,
            what=what,
            back=back,
            names=view.names(doc),
            base_version=conflict.version,
            # The draft stays under the version the person started from: restored later, it
            # is merged against that version, never saved over what others did since.
            draft_base=request.form.get("base_version", ""),
        ),
        409,
    )


def gone_page(plan: Any, doc: dict[str, Any], entity: Entity, key: str, sent: FlaskForm, gone: store.ItemGone) -> Any:
    """Answer the save of an item deleted meanwhile: who deleted it, and the person's text,
    ready to be added as a new item (409)."""
    prefix = f"new-{entity.name}"
    data = {name: value for name, value in sent.data.items() if name in entity.field_names}
    form = form_class(entity.fields, doc)(formdata=None, prefix=prefix, data=data)
    title = view.title_of(entity, gone.deletion.before) if gone.deletion and gone.deletion.before else key
    return (
        render_template(
            "history/gone.html",
            plan=plan,
            step=STEP_OF_ENTITY[entity.name],
            entity=entity,
            key=key,
            title=title,
            gone=gone,
            form=form,
            form_id=prefix,
            returned_id=f"{entity.name}-{key}",
        ),
        409,
    )
