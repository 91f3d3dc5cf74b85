"""Forms, built from the domain declaration.

`form_class` turns declared fields into a Flask-WTF form (CSRF included), so every step's
plan fields and every entity's add and edit forms come from the one declaration. Reference
fields offer the plan's own items, so the form needs the plan document it edits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, NumberInput, html_params

from planner.domain import ENTITIES, ENTITY_BY_NAME, STEP_OF_ENTITY, Field, Kind
from planner.plans import view
from planner.text import shorten


class LinesField(TextAreaField):
    """A list of short strings, typed one per line."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            self.data = [line.strip() for line in valuelist[0].splitlines() if line.strip()]
        else:
            self.data = []

    def _value(self) -> str:
        return "\n".join(self.data or [])


class CheckboxList:
    """The HTML of `ListWidget(prefix_label=False)` with a `CheckboxInput` per choice, drawn in one
    pass. A practice's form has a box for every audience, channel and person, and building a
    WTForms subfield and widget per box was a third of a step page's time. Every value goes
    through `html_params` or `escape`, as in WTForms; tests/test_wizard.py checks the two agree."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        name = escape(field.name)
        html = [f"<ul {html_params(**kwargs)}>"]
        for index, choice in enumerate(field.iter_choices()):
            box = escape(f"{field.id}-{index}")
            checked = "checked " if choice.selected else ""
            html.append(
                f'<li><input {checked}id="{box}" name="{name}" type="checkbox" value="{escape(choice.value)}"> '
                f'<label for="{box}">{escape(choice.label)}</label></li>'
            )
        html.append("</ul>")
        return Markup("".join(html))


class CheckboxesField(SelectMultipleField):
    """Several values from a closed set, shown as checkboxes."""

    widget = CheckboxList()
    option_widget = CheckboxInput()


class EntriesWithin:
    """Each entry of a list is at most `max_length` long, and there are at most `max_items`."""

    def __init__(self, max_items: int, max_length: int) -> None:
        self.max_items = max_items
        self.max_length = max_length

    def __call__(self, form: FlaskForm, field: Any) -> None:
        entries = field.data or []
        if len(entries) > self.max_items:
            raise ValidationError(f"At most {self.max_items} entries.")
        for entry in entries:
            if len(entry) > self.max_length:
                raise ValidationError(f"Each entry can be at most {self.max_length} characters: “{shorten(entry, 30)}”")


class AtMost:
    """At most `max_items` boxes ticked: the import takes no longer a list (`Field.max_items`)."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items

    def __call__(self, form: FlaskForm, field: Any) -> None:
        if len(field.data or []) > self.max_items:
            raise ValidationError(f"Choose at most {self.max_items}.")


def _presence(field: Field) -> list[Any]:
    return [DataRequired(message="This is required.")] if field.required else [Optional()]


def _choices(field: Field) -> list[SelectChoice]:
    # The choice's explanation goes into its label: a bare "Enable" or "Creators" says too little.
    return [SelectChoice(c.value, f"{c.label}: {c.help}" if c.help else c.label) for c in field.choices]


def _item_choices(doc: dict[str, Any], field: Field) -> list[SelectChoice]:
    target = ENTITY_BY_NAME[field.target]
    return [SelectChoice(i["key"], view.title_of(target, i)) for i in view.items(doc, target)]


def _form_field(field: Field, doc: dict[str, Any]) -> Any:
    label, help_text = field.label, field.help
    if field.is_ref and not view.items(doc, field.target):
        # Say where the missing items come from, rather than offer an empty list; when they are
        # added on this very page (goals, for an objective), say so instead of naming the step.
        target = ENTITY_BY_NAME[field.target]
        step = STEP_OF_ENTITY[target.name]
        here = next((STEP_OF_ENTITY[e.name] for e in ENTITIES if any(f is field for f in e.fields)), None)
        if here is step:
            help_text = f"No {target.label_plural.lower()} yet: add one on this page first."
        else:
            help_text = f"No {target.label_plural.lower()} yet: add them in step {step.number}, {step.title}."
    match field.kind:
        case Kind.TEXT:
            return StringField(label, [*_presence(field), Length(max=field.max_length)], description=help_text)
        case Kind.LONGTEXT:
            return TextAreaField(label, [*_presence(field), Length(max=field.max_length)], description=help_text)
        case Kind.LIST:
            return LinesField(label, [EntriesWithin(field.max_items, field.max_length)], description=help_text)
        case Kind.ENUM:
            blank = [] if field.required else [SelectChoice("", "Not chosen")]
            return SelectField(label, choices=blank + _choices(field), default="", description=help_text)
        case Kind.ENUM_LIST:
            return CheckboxesField(label, choices=_choices(field), description=help_text)
        case Kind.REF:
            target = ENTITY_BY_NAME[field.target]
            prompt = f"Choose a {target.label.lower()}" if field.required else "None"
            validators = [DataRequired(message=f"{prompt}.")] if field.required else []
            return SelectField(
                label,
                validators,
                choices=[SelectChoice("", prompt), *_item_choices(doc, field)],
                default="",
                description=help_text,
            )
        case Kind.REF_LIST:
            return CheckboxesField(
                label, [AtMost(field.max_items)], choices=_item_choices(doc, field), description=help_text
            )
        case Kind.BOOL:
            return BooleanField(label, description=help_text)
        case Kind.NUMBER:
            return DecimalField(
                label,
                [
                    Optional(),
                    NumberRange(
                        min=field.minimum,
                        max=field.maximum,
                        message=f"Enter a number from {field.minimum:g} to {field.maximum:g}.",
                    ),
                ],
                places=None,
                widget=NumberInput(step="any", min=field.minimum, max=field.maximum),
                description=help_text,
            )
        case Kind.DATE:
            return DateField(label, [Optional()], description=help_text)
    raise ValueError(f"no form field for {field.kind}")


# Date fields that may not come before another field of the same form: (earlier, later).
# The JSON import refuses the same (`planner.interchange.validate`, ``plan.period_end``).
DATE_ORDER = (("period_start", "period_end"),)


def _not_before(earlier: str) -> Any:
    """A validator for a later date: it may not precede the form's `earlier` field."""

    def validate(form: FlaskForm, field: Any) -> None:
        start = form[earlier].data
        if isinstance(start, date) and isinstance(field.data, date) and field.data < start:
            raise ValidationError(f"The plan cannot end before it starts ({view.long_date(start.isoformat())}).")

    return validate


def _read_only_field(field: Field, note: str) -> Any:
    """A field shown as it is saved and not changed by this form: `note` says who can change it.
    It has no validators, and `values_from` is not asked for it (see `planner.wizard.routes`)."""
    if field.kind not in (Kind.TEXT, Kind.LONGTEXT):
        raise ValueError(f"{field.name}: only a text field can be shown read-only")
    kind = StringField if field.kind is Kind.TEXT else TextAreaField
    return kind(field.label, description=note, render_kw={"readonly": True})


def form_class(
    fields: Iterable[Field], doc: dict[str, Any], read_only: Mapping[str, str] | None = None
) -> type[FlaskForm]:
    """A form class for these declared fields, offering `doc`'s items for references. Fields
    named in `read_only` are shown but not for changing, each with its note (who can change it)."""
    read_only = read_only or {}
    attrs: dict[str, Any] = {
        f.name: _read_only_field(f, read_only[f.name]) if f.name in read_only else _form_field(f, doc) for f in fields
    }
    for earlier, later in DATE_ORDER:
        if earlier in attrs and later in attrs:
            attrs[f"validate_{later}"] = staticmethod(_not_before(earlier))
    return type("DeclaredForm", (FlaskForm,), attrs)


def form_data(fields: Iterable[Field], values: dict[str, Any]) -> dict[str, Any]:
    """A plan document's values as the form fields expect them (dates as `date`)."""
    data = {}
    for f in fields:
        value = values.get(f.name, f.empty())
        if f.kind is Kind.DATE and isinstance(value, str):
            value = date.fromisoformat(value)
        data[f.name] = value
    return data


def values_from(form: FlaskForm, fields: Iterable[Field]) -> dict[str, Any]:
    """The form's data as a plan document's values (what `planner.plans.store` takes)."""
    values: dict[str, Any] = {}
    for f in fields:
        value = form[f.name].data
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif value == "":
            value = None
        values[f.name] = value
    return values
