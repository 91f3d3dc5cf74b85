"""Forms for accounts and plan members. The rules behind them live in `users` and `membership`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from planner.accounts.models import ROLES
from planner.accounts.roles import ROLE_LABELS
from planner.accounts.users import EMAIL_PATTERN, MAX_PASSWORD, MIN_PASSWORD

EMAIL_CHECKS = [
    DataRequired("Enter your e-mail address."),
    Length(max=254),
    Regexp(EMAIL_PATTERN, message="Enter an e-mail address like name@example.org."),
]
NEW_PASSWORD_CHECKS = [
    DataRequired("Choose a password."),
    Length(min=MIN_PASSWORD, max=MAX_PASSWORD, message=f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters."),
]
PASSWORD_HELP = f"At least {MIN_PASSWORD} characters. A few unrelated words make a strong password."
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in reversed(ROLES)]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _email(label: str = "E-mail") -> EmailField:
    return EmailField(label, EMAIL_CHECKS, filters=[_strip], render_kw={"autocomplete": "email", "spellcheck": "false"})


def _new_password(label: str) -> PasswordField:
    return PasswordField(
        label, NEW_PASSWORD_CHECKS, description=PASSWORD_HELP, render_kw={"autocomplete": "new-password"}
    )


def _password_again(label: str) -> PasswordField:
    return PasswordField(
        label,
        [DataRequired("Type the password again."), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = _email()
    password = PasswordField(
        "Password", [DataRequired("Enter your password.")], render_kw={"autocomplete": "current-password"}
    )
    keep = BooleanField("Keep me signed in on this device")


def _name() -> StringField:
    return StringField(
        "Your name",
        [DataRequired("Give your name, so that your team knows who you are."), Length(max=100)],
        description="Shown to the people you plan with.",
        render_kw={"autocomplete": "name"},
    )


class SignupForm(FlaskForm):
    name = _name()
    email = _email()
    password = _new_password("Password")
    confirm = _password_again("Password again")


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        "Current password",
        [DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password("New password")
    confirm = _password_again("New password again")


class ProfileForm(FlaskForm):
    """Name and e-mail on the account page; a new address also needs the current password."""

    name = _name()
    email = _email()
    current = PasswordField(
        "Current password",
        description="Needed only to change your e-mail address.",
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(FlaskForm):
    email = _email()


class ResetForm(FlaskForm):
    password = _new_password("New password")
    confirm = _password_again("New password again")


class AddMemberForm(FlaskForm):
    email = _email("Their e-mail address")
    role = SelectField("Role", choices=ROLE_CHOICES, default="editor")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class InvitationForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, default="editor")
    days = SelectField(
        "Link works for",
        choices=[SelectChoice("1", "1 day"), SelectChoice("7", "7 days"), SelectChoice("30", "30 days")],
        default="7",
    )
