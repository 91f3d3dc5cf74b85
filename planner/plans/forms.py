"""Forms for creating and renaming plans."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from planner.domain import plan_field

TITLE = plan_field("title")


class TitleForm(FlaskForm):
    title = StringField(
        "Plan title",
        [DataRequired(message="Give the plan a title."), Length(max=TITLE.max_length)],
        description=TITLE.help,
    )
