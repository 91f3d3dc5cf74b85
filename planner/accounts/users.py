"""Accounts: creating them, changing their name, e-mail and password, and password-reset links.

Passwords are hashed with Werkzeug's default (scrypt); a new password ends every log-in
session of the account. A reset link is a token signed with
SECRET_KEY that carries the account's id and a fingerprint of its current password hash: once
the password changes, by this link or any other way, every older link stops working. Links
also expire (PASSWORD_RESET_MAX_AGE).
"""

from __future__ import annotations

import re
from functools import cache

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from planner import unit
from planner.accounts import sessions
from planner.accounts.models import User
from planner.extensions import db

MIN_PASSWORD = 8
MAX_PASSWORD = 200  # long passphrases are welcome; megabytes to hash are not
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESET_SALT = "planner.password-reset"

# The demo account that owns the example plan (`flask plan load-example`, run by `make run`).
# Its password is published in the README: load the example on a server only for a trial.
DEMO_EMAIL = "demo@example.org"
DEMO_NAME = "Demo facilitator"
DEMO_PASSWORD = "conversation-first"


class AccountError(ValueError):
    """A request about an account that cannot be met; the message says why, for the person,
    and `field` names the form field it is about, when it is about one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    return None


def create_user(email: str, name: str, password: str) -> User:
    email = normalize_email(email)
    if not EMAIL_PATTERN.match(email):
        raise AccountError("Enter an e-mail address like name@example.org.")
    if not name.strip():
        raise AccountError("Give a name, so that your team knows who you are.")
    if problem := password_problem(password):
        raise AccountError(problem)
    if find_by_email(email) is not None:
        raise AccountError("There is already an account with this e-mail address. Log in, or reset its password.")
    user = User(email=email, name=name.strip(), password_hash=generate_password_hash(password))
    db.session.add(user)
    unit.done()
    return user


def ensure_demo_account() -> User:
    """The demo account, made the first time it is asked for."""
    return find_by_email(DEMO_EMAIL) or create_user(DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD)


@cache
def _decoy_hash() -> str:
    return generate_password_hash("no account has this password")


def authenticate(email: str, password: str) -> User | None:
    """The account with this e-mail and password, or None. Takes as long for an unknown
    address as for a wrong password, so that timing tells nobody which addresses exist."""
    user = find_by_email(email)
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def change_profile(user: User, name: str, email: str, current_password: str = "") -> bool:
    """Give `user` a new name and e-mail address. A new address is normalized as at sign-up,
    must be free, and needs the current password: whoever holds an open session must not be
    able to take the account over through its reset links. Checks everything before it
    changes anything. Returns whether anything changed."""
    name = (name or "").strip()
    email = normalize_email(email)
    if not name:
        raise AccountError("Give your name, so that your team knows who you are.", "name")
    if len(name) > 100:
        raise AccountError("Use at most 100 characters.", "name")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise AccountError("Enter an e-mail address like name@example.org.", "email")
    new_email = email != user.email
    if new_email:
        if not check_password_hash(user.password_hash, current_password or ""):
            raise AccountError("To change your e-mail address, enter your current password.", "current")
        if find_by_email(email) is not None:
            raise AccountError("Another account uses this e-mail address.", "email")
    if not new_email and name == user.name:
        return False
    user.name, user.email = name, email
    try:
        unit.done()
    except IntegrityError:  # the address was taken a moment ago, by a sign-up in another request
        db.session.rollback()
        raise AccountError("Another account uses this e-mail address.", "email") from None
    return True


def set_password(user: User, password: str) -> None:
    if problem := password_problem(password):
        raise AccountError(problem)
    user.password_hash = generate_password_hash(password)
    # A new password ends every session of the account, this one too: whoever set it is
    # signed in afresh by the page (`auth.sign_in`), and a stolen cookie is worth nothing.
    sessions.end_all(user.id)
    unit.done()


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError("That is not your current password.")
    set_password(user, new)


# ---------------------------------------------------------------- reset links


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def reset_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "password": user.password_fingerprint})


def user_for_reset_token(token: str) -> User | None:
    """The account a reset token was made for, if the token is genuine, recent, and the
    password has not changed since it was made."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or data.get("password") != user.password_fingerprint:
        return None
    return user


# Where links point when neither BASE_URL nor TRUSTED_HOSTS says (`make run` on this machine).
LOCAL_URL = "http://127.0.0.1:5000"


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link for an e-mail, the log or the command line. Its scheme and host come
    from BASE_URL; else, when TRUSTED_HOSTS is set, from the request (Flask has refused any
    other Host with 400); else LOCAL_URL. Never from a Host header nobody checked: a forged one
    must not steer where a reset link or an invitation points."""
    config = current_app.config
    if config.get("BASE_URL"):
        return config["BASE_URL"] + url_for(endpoint, **values)
    if config.get("TRUSTED_HOSTS") and has_request_context():
        return url_for(endpoint, _external=True, **values)
    return LOCAL_URL + url_for(endpoint, **values)


def page_url(endpoint: str, **values: object) -> str:
    """An absolute link shown on a page to the person who asked for it (a new invitation
    link): BASE_URL's, else the address their own browser used."""
    base = current_app.config.get("BASE_URL")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)


def reset_url(user: User, next_url: str | None = None) -> str:
    """The reset link; `next_url` (a path on this site) is where it leads after the new
    password is set, such as the invitation the person was about to accept."""
    return external_url("accounts.reset_password", token=reset_token(user), next=next_url)
