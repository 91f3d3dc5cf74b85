"""The workshop's few server-rendered forms. The live controls post small forms too (with the
CSRF token in a header when the page's script sends them); their fields are read in `routes`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from planner.domain import STEPS
from planner.workshop.models import NAME_MAX


class CodeForm(FlaskForm):
    code = StringField(
        "Join code",
        [DataRequired(message="Type the code shown on the screen."), Length(max=20)],
        description="Eight letters and digits, shown on the big screen.",
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class JoinForm(FlaskForm):
    name = StringField(
        "Your name",
        [DataRequired(message="Say who you are: a first name is enough."), Length(max=NAME_MAX)],
        description="Shown on your cards when the facilitator asks for names. No account needed.",
        render_kw={"autocomplete": "given-name", "maxlength": NAME_MAX},
    )


class StartForm(FlaskForm):
    step = SelectField("Start at step", choices=[SelectChoice(s.slug, f"{s.number}. {s.title}") for s in STEPS])
