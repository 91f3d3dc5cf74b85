"""Forms for creating and renaming plans, and who may rename one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from planner.accounts import roles
from planner.domain import plan_field

TITLE = plan_field("title")

# Renaming is the facilitators' (`planner.accounts.roles`: the "manage" need). The title is also
# one of step 1's fields, so the wizard's form and a restore of an old version of those fields
# leave it as it is for anyone who may not rename: those are the fields `kept_from` names.
RENAME_NEED = "manage"
WHO_RENAMES = "Only a facilitator can rename the plan."


def kept_from(role: str | None) -> dict[str, str]:
    """The plan fields `role` may not change, each with the sentence that says who can."""
    return {} if roles.allows(role, RENAME_NEED) else {TITLE.name: WHO_RENAMES}


class TitleForm(FlaskForm):
    title = StringField(
        "Plan title",
        [DataRequired(message="Give the plan a title."), Length(max=TITLE.max_length)],
        description=TITLE.help,
    )
