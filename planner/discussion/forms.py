"""Forms for comments and step owners."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from planner.discussion.comments import MAX_LENGTH


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Comment",
        [DataRequired(message="Write something first."), Length(max=MAX_LENGTH)],
        render_kw={"maxlength": MAX_LENGTH, "rows": 2},
    )
    step = HiddenField()
    entity = HiddenField()
    key = HiddenField()


class AssignmentForm(FlaskForm):
    owner = SelectField("Owner", choices=[], coerce=str, default="")
    due = DateField("Due", [Optional()])

    def __init__(self, *args, members: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", "Nobody yet"), *((str(user_id), name) for user_id, name in members)]
