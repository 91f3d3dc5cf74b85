"""Log in, log out, sign up, change a name, e-mail or password, and reset a forgotten password.

Log-in, sign-up and reset requests are rate-limited per account and per address
(`ratelimit.limit_attempts`; reset requests are counted apart, so that used-up log-in attempts
never stop the owner from asking for a link), and so are a signed-in person's changes to their
own account (`ratelimit.limit_account_changes`). The page over a limit says what still works:
a reset link, after which logging in works at once (`ratelimit.forget_log_in_attempts`).
Links between these pages keep `?next=`, so that whoever came from an invitation gets back to
it however they sign in. Every form posts, then redirects (POST-redirect-GET); a form that
fails is shown again with its errors and status 422.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from planner import unit
from planner.accounts import users
from planner.accounts.auth import safe_next, sign_in, sign_out
from planner.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    ResetForm,
    ResetRequestForm,
    SignupForm,
)
from planner.accounts.mail import send_password_reset
from planner.accounts.ratelimit import (
    forget_log_in_attempts,
    limit_account_changes,
    limit_attempts,
    limit_reset_requests,
)

bp = Blueprint("accounts", __name__)


@bp.errorhandler(429)
def too_many(error: HTTPException):
    """Over a limit on these pages: say what still works. Log-in and sign-up attempts are
    counted apart from reset links, so the owner of an account under attack can still get in."""
    reset = (
        None
        if request.endpoint in ("accounts.reset_request", "accounts.account", "accounts.profile")
        else (url_for("accounts.reset_request", next=_next_url()))
    )
    headers = {k: v for k, v in error.get_response().headers.items() if k == "Retry-After"}
    return render_template("accounts/too_many.html", reset_url=reset), 429, headers


def _next_url() -> str | None:
    return safe_next(request.args.get("next"))


def _home() -> str:
    return url_for("plans.index")


@bp.route("/login", methods=["GET", "POST"])
@limit_attempts
def login():
    next_url = _next_url()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or _home())
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in(user, keep=form.keep.data)
            return redirect(next_url or _home())
        form.password.errors.append("That e-mail address and password do not match an account.")
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout():
    sign_out()
    flash("You are logged out.", "success")
    return redirect(_home())


@bp.route("/signup", methods=["GET", "POST"])
@limit_attempts
def signup():
    next_url = _next_url()
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.email.data, form.name.data, form.password.data)
        except users.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            sign_in(user)
            flash(f"Welcome to Planner, {user.name}.", "success")
            return redirect(next_url or _home())
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/signup.html", form=form, next_url=next_url), status


def _profile_form(*, posted: bool = False) -> ProfileForm:
    """The name and e-mail form: as sent, or filled in with the account's own. Prefixed: the
    password form on the same page has a "current" field too."""
    if posted:
        return ProfileForm(prefix="profile")
    return ProfileForm(formdata=None, prefix="profile", name=current_user.name, email=current_user.email)


def _account_page(form: PasswordChangeForm, profile: ProfileForm, status: int) -> tuple[str, int]:
    return render_template("accounts/account.html", form=form, profile=profile), status


@bp.route("/account", methods=["GET", "POST"])
@limit_account_changes  # outside login_required: it counts before a query takes the write lock
@login_required
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current.data, form.password.data)
        except users.AccountError as exc:
            form.current.errors.append(str(exc))
        else:
            # The new password ends every other session; this one starts afresh.
            sign_in(current_user._get_current_object(), keep=session.permanent)
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("accounts.account"))
    status = 422 if request.method == "POST" else 200
    return _account_page(form, _profile_form(), status)


@bp.post("/account/profile")
@limit_account_changes  # outside login_required: it counts before a query takes the write lock
@login_required
def profile():
    form = _profile_form(posted=True)
    if form.validate_on_submit():
        try:
            changed = users.change_profile(current_user, form.name.data, form.email.data, form.current.data)
        except users.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            flash("Your name and e-mail address are saved." if changed else "Nothing to change.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(PasswordChangeForm(formdata=None), form, 422)


@bp.route("/reset-password", methods=["GET", "POST"])
@limit_reset_requests
def reset_request():
    next_url = _next_url()
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = users.find_by_email(form.email.data)
        if user is not None:
            send_password_reset(user, users.reset_url(user, next_url))
        # The same answer whether or not the address has an account.
        flash("If an account uses that address, a link to reset its password is on its way.", "success")
        return redirect(url_for("accounts.reset_request", sent=1, next=next_url))
    status = 422 if request.method == "POST" else 200
    mail = bool(current_app.config.get("MAIL_SERVER"))
    sent = "sent" in request.args
    return render_template("accounts/reset_request.html", form=form, mail=mail, sent=sent, next_url=next_url), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    next_url = _next_url()
    user = users.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_password.html", form=None, next_url=next_url), 404
    form = ResetForm()
    if form.validate_on_submit():
        email = user.email
        users.set_password(user, form.password.data)  # ends every session of the account
        # They proved who they are: logging in works at once, once the new password is kept.
        # (The counters have a connection of their own, which on SQLite would wait for the
        # request's write lock until the request commits.)
        unit.after_commit(lambda: forget_log_in_attempts(email))
        sign_in(user)
        flash("Your new password is set, and you are logged in.", "success")
        return redirect(next_url or _home())
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form, next_url=next_url), status
