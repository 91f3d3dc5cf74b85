"""Accounts: sign up, log in and out, change and reset a password, and the limits on attempts.

These go through the real pages (and so the real, deliberately slow password hashing). The
other tests log in with the `login` fixture, which skips the page.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from config import TestConfig
from planner import create_app
from planner.accounts import users
from planner.accounts.auth import safe_next
from planner.accounts.models import RateLimitCounter, User
from planner.accounts.ratelimit import DatabaseStorage
from planner.extensions import db
from planner.models import utcnow
from tests.conftest import PASSWORD, Web


def log_in(web: Web, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    response = web.post("/login", {"email": email, "password": password, **extra})
    if response.status_code == 302:
        web._token = None  # a new session, with a new CSRF token
    return response


def user_by_email(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        db.session.remove()
        return user


def path_of(response: Any) -> str:
    return urlsplit(response.location).path


# ---------------------------------------------------------------- signing up


def test_sign_up_makes_an_account_with_a_hashed_password_and_logs_in(app: Flask, anonymous: Web) -> None:
    response = anonymous.post(
        "/signup",
        {"name": "Sam Signup", "email": " Sam@Example.org ", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    assert path_of(response) == "/"
    user = user_by_email(app, "sam@example.org")
    assert user is not None and user.name == "Sam Signup"
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    home = anonymous.get("/").get_data(as_text=True)
    assert "Your plans" in home and "Sam Signup" in home


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"password": "short", "confirm": "short"}, "Use 8 to 200 characters."),
        ({"confirm": "something else entirely"}, "The two passwords differ."),
        ({"email": "not-an-address"}, "Enter an e-mail address like name@example.org."),
        ({"name": ""}, "Give your name"),
    ],
)
def test_sign_up_explains_what_is_wrong(app: Flask, anonymous: Web, form: dict[str, str], message: str) -> None:
    data = {"name": "Sam", "email": "sam@example.org", "password": PASSWORD, "confirm": PASSWORD, **form}
    response = anonymous.post("/signup", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_by_email(app, "sam@example.org") is None


def test_an_address_can_have_only_one_account(anonymous: Web, owner: User) -> None:
    response = anonymous.post(
        "/signup", {"name": "Again", "email": "FAY@example.org", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 422
    assert "already an account with this e-mail address" in response.get_data(as_text=True)


# ---------------------------------------------------------------- logging in and out


def test_anonymous_visitors_see_the_landing_page(anonymous: Web) -> None:
    html = anonymous.get("/").get_data(as_text=True)
    assert "Create an account" in html and 'href="/login"' in html and 'href="/signup"' in html
    assert "Your plans" not in html


def test_log_in_with_the_right_password_only(app: Flask, anonymous: Web, owner: User) -> None:
    wrong = log_in(anonymous, owner.email, "not the password")
    assert wrong.status_code == 422
    assert "do not match an account" in wrong.get_data(as_text=True)
    unknown = log_in(anonymous, "nobody@example.org")
    assert unknown.status_code == 422
    assert "do not match an account" in unknown.get_data(as_text=True)

    right = log_in(anonymous, "  FAY@example.org ")
    assert right.status_code == 302 and path_of(right) == "/"
    assert "Fay Facilitator" in anonymous.get("/").get_data(as_text=True)
    assert user_by_email(app, owner.email).last_login_at is not None


def test_logging_in_starts_a_new_session(anonymous: Web, owner: User) -> None:
    with anonymous.client.session_transaction() as session:
        session["planted"] = "by someone else"
    old_token = anonymous.token()
    assert log_in(anonymous, owner.email).status_code == 302
    with anonymous.client.session_transaction() as session:
        assert "planted" not in session
        assert "csrf_token" not in session  # the token from before is gone with the old session
    # A form carrying the token from before the log-in is refused.
    response = anonymous.client.post("/logout", data={"csrf_token": old_token})
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_lax_and_secure_when_configured(
    anonymous: Web, owner: User, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = log_in(anonymous, owner.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires" not in cookie  # ends with the browser

    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    other = Web(app.test_client())
    cookie = log_in(other, owner.email, keep="y").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "Expires" in cookie  # "keep me signed in"


def test_log_out(anonymous: Web, owner: User) -> None:
    log_in(anonymous, owner.email)
    assert anonymous.get("/logout").status_code == 405  # a link cannot log anyone out
    response = anonymous.post("/logout")
    assert response.status_code == 302
    assert "Create an account" in anonymous.get("/").get_data(as_text=True)


def test_a_plan_page_sends_strangers_to_log_in_and_back(anonymous: Web, example_plan: Any, owner: User) -> None:
    page = f"/plans/{example_plan.id}/steps/goals"
    response = anonymous.get(page)
    assert response.status_code == 302
    assert response.location == f"/login?next=/plans/{example_plan.id}/steps/goals"
    back = anonymous.post(response.location, {"email": owner.email, "password": PASSWORD})
    assert back.status_code == 302 and back.location == page


def test_a_script_gets_401_rather_than_the_log_in_page(anonymous: Web, example_plan: Any) -> None:
    response = anonymous.get(f"/plans/{example_plan.id}/steps/goals", headers={"Sec-Fetch-Mode": "cors"})
    assert response.status_code == 401
    assert response.json["login"] == "/login"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://localhost.evil.example/",
        "plans/1",
        "",
    ],
)
def test_next_never_leaves_the_site(app: Flask, anonymous: Web, owner: User, target: str) -> None:
    with app.test_request_context(base_url="http://localhost"):
        assert safe_next(target) is None
    response = anonymous.post(f"/login?next={target}", {"email": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"


def test_next_keeps_a_path_on_this_site(app: Flask) -> None:
    with app.test_request_context(base_url="http://localhost"):
        assert safe_next("/plans/3/steps/goals?x=1") == "/plans/3/steps/goals?x=1"
        assert safe_next("http://localhost/invitations/abc") == "/invitations/abc"


def test_the_home_page_lists_only_my_plans_with_my_role(
    web: Web, example_plan: Any, outsider: User, viewer: User, as_user: Any
) -> None:
    mine = web.get("/").get_data(as_text=True)
    assert example_plan.title in mine and "Otto&#39;s own plan" not in mine
    assert "Facilitator" in mine
    theirs = as_user(viewer).get("/").get_data(as_text=True)
    assert example_plan.title in theirs and "Viewer" in theirs
    assert "Rename" not in theirs and "Delete" not in theirs


# ---------------------------------------------------------------- changing a password


def test_change_password_needs_the_current_one_and_signs_out_other_devices(
    app: Flask, web: Web, owner: User, login: Any
) -> None:
    laptop = Web(app.test_client())
    login(laptop, owner)
    assert laptop.get("/").status_code == 200 and "Your plans" in laptop.get("/").get_data(as_text=True)

    wrong = web.post("/account", {"current": "nope", "password": "a brand new one", "confirm": "a brand new one"})
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)

    right = web.post("/account", {"current": PASSWORD, "password": "a brand new one", "confirm": "a brand new one"})
    assert right.status_code == 302
    assert "Your plans" in web.get("/").get_data(as_text=True)  # this device stays signed in
    assert "Create an account" in laptop.get("/").get_data(as_text=True)  # the other is signed out
    assert log_in(Web(app.test_client()), owner.email, "a brand new one").status_code == 302


# ---------------------------------------------------------------- changing a name and e-mail


def profile(web: Web, name: str, email: str, current: str = "") -> Any:
    return web.post("/account/profile", {"profile-name": name, "profile-email": email, "profile-current": current})


def test_the_account_page_offers_name_and_e_mail_filled_in(web: Web, owner: User) -> None:
    page = web.get("/account").get_data(as_text=True)
    assert 'action="/account/profile"' in page
    assert 'name="profile-name"' in page and 'value="Fay Facilitator"' in page
    assert 'name="profile-email"' in page and 'value="fay@example.org"' in page
    assert "Needed only to change your e-mail address." in page


def test_a_new_name_needs_no_password_and_shows_everywhere(app: Flask, web: Web, owner: User) -> None:
    response = profile(web, "  Fay Fontaine ", owner.email)
    assert response.status_code == 302 and path_of(response) == "/account"
    page = web.get("/account").get_data(as_text=True)
    assert "Your name and e-mail address are saved." in page
    assert user_by_email(app, owner.email).name == "Fay Fontaine"
    assert "Fay Fontaine" in web.get("/").get_data(as_text=True)  # the header says who is signed in


def test_a_new_e_mail_needs_the_current_password_and_is_normalized(app: Flask, web: Web, owner: User) -> None:
    without = profile(web, "Fay Fontaine", "fay.new@example.org")
    assert without.status_code == 422
    assert "To change your e-mail address, enter your current password." in without.get_data(as_text=True)
    wrong = profile(web, "Fay Fontaine", "fay.new@example.org", "not my password")
    assert wrong.status_code == 422
    # Nothing changed: not the address, and not the name sent with it either.
    kept = user_by_email(app, owner.email)
    assert kept is not None and kept.name == "Fay Facilitator"

    right = profile(web, "Fay Facilitator", "  Fay.New@Example.ORG ", PASSWORD)
    assert right.status_code == 302
    assert user_by_email(app, owner.email) is None
    assert user_by_email(app, "fay.new@example.org").id == owner.id  # stored as at sign-up
    assert "Your plans" in web.get("/").get_data(as_text=True)  # still signed in
    assert log_in(Web(app.test_client()), "fay.new@example.org").status_code == 302


@pytest.mark.parametrize(
    ("name", "email", "field", "message"),
    [
        ("", "fay@example.org", "profile-name", "Give your name"),
        ("x" * 101, "fay@example.org", "profile-name", "100"),
        ("Fay", "not an address", "profile-email", "like name@example.org"),
        ("Fay", " EDDIE@example.org", "profile-email", "Another account uses this e-mail address."),
    ],
)
def test_a_bad_name_or_e_mail_is_refused_beside_its_field_and_changes_nothing(
    app: Flask, web: Web, owner: User, add_user: Any, name: str, email: str, field: str, message: str
) -> None:
    add_user("eddie@example.org", "Eddie Editor")
    response = profile(web, name, email, PASSWORD)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    # The error sits in the field's own box, which keeps what was typed.
    box = page[page.index(f'id="{field}"') :]
    assert message in box[: box.index("</div>")]
    kept = user_by_email(app, owner.email)
    assert kept is not None and kept.name == "Fay Facilitator"


def test_the_rule_as_a_plain_function_checks_everything_before_changing_anything(ctx: Flask, owner: User) -> None:
    user = db.session.get(User, owner.id)
    with pytest.raises(users.AccountError) as refused:
        users.change_profile(user, "New Name", "other@example.org", "wrong")
    assert refused.value.field == "current"
    assert (user.name, user.email) == ("Fay Facilitator", "fay@example.org")
    assert users.change_profile(user, "Fay Facilitator", "FAY@example.org") is False  # the same, normalized


def test_account_changes_are_limited_per_account(
    app: Flask, web: Web, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    # Guessing the password through the e-mail form, a new address each time, is counted all the same.
    for n in range(3):
        assert profile(web, "Fay", f"guess{n}@example.org", "guess").status_code == 422
    blocked = profile(web, "Fay", "guess9@example.org", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # The password form shares the count: no fresh guesses there either.
    assert web.post("/account", {"current": "guess", "password": "x" * 10, "confirm": "x" * 10}).status_code == 429
    assert user_by_email(app, owner.email) is not None


def test_current_password_guesses_share_one_budget_across_every_form_that_asks_for_it(
    app: Flask, web: Web, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    wrong = {"current": "guess", "password": "new password 123", "confirm": "new password 123"}
    assert [web.post("/account", wrong).status_code for _ in range(2)] == [422, 422]
    assert profile(web, "Fay", "thief@example.org", "guess").status_code == 422
    # The budget is spent: neither form tries another guess, not even the right password.
    assert profile(web, "Fay", "thief@example.org", PASSWORD).status_code == 429
    assert web.post("/account", {**wrong, "current": PASSWORD}).status_code == 429
    assert user_by_email(app, "thief@example.org") is None


def test_the_account_forms_need_the_csrf_token(web: Web, owner: User) -> None:
    sent = {"profile-name": "Mallory", "profile-email": owner.email, "csrf_token": "forged"}
    assert web.post("/account/profile", sent).status_code == 400


# ---------------------------------------------------------------- resetting a password


def reset_link_from_log(caplog: pytest.LogCaptureFixture) -> str:
    match = re.search(r"(http://\S+/reset-password/\S+)", caplog.text)
    assert match, caplog.text
    return urlsplit(match.group(1)).path


def test_without_mail_the_reset_link_goes_to_the_log_and_works_once(
    app: Flask, anonymous: Web, owner: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = anonymous.post("/reset-password", {"email": owner.email})
    assert response.status_code == 302
    page = anonymous.get(response.location).get_data(as_text=True)
    assert "If an account uses that address" in page
    assert "Ask the person who runs it for your link" in page  # tells how to get the link without mail
    assert "flask" not in page  # in the reader's words, not a command for whoever runs the server
    link = reset_link_from_log(caplog)

    assert anonymous.get(link).status_code == 200
    done = anonymous.post(link, {"password": "my new password", "confirm": "my new password"})
    assert done.status_code == 302
    assert "Fay Facilitator" in anonymous.get("/").get_data(as_text=True)  # logged in

    again = Web(app.test_client())
    assert again.get(link).status_code == 404  # used: the password it was made for is gone
    assert log_in(again, owner.email).status_code == 422  # the old password no longer works
    assert log_in(again, owner.email, "my new password").status_code == 302


def test_a_reset_request_for_an_unknown_address_looks_the_same(
    anonymous: Web, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = anonymous.post("/reset-password", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert "reset-password/" not in caplog.text


def test_reset_links_expire_and_cannot_be_forged(app: Flask, owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.test_request_context():
        user = db.session.get(User, owner.id)
        token = users.reset_token(user)
        assert users.user_for_reset_token(token).id == owner.id
        assert users.user_for_reset_token(token[:-2] + "xx") is None
        forged = users.URLSafeTimedSerializer("another key", salt=users.RESET_SALT).dumps(
            {"user": owner.id, "password": user.password_fingerprint}
        )
        assert users.user_for_reset_token(forged) is None
        monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
        assert users.user_for_reset_token(token) is None
        db.session.remove()


class FakeSMTP:
    sent: list[Any] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.calls = host, port, []

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, username: str, password: str) -> None:
        self.calls.append(f"login {username}")

    def send_message(self, message: Any) -> None:
        FakeSMTP.sent.append((self.host, self.port, self.calls, message))


def test_with_a_mail_server_the_link_is_mailed_not_logged(
    app: Flask, anonymous: Web, owner: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import smtplib

    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {"MAIL_SERVER": "mail.example.org", "MAIL_USERNAME": "planner", "MAIL_PASSWORD": "x"}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "BASE_URL", "https://planner.example.org")
    with caplog.at_level(logging.WARNING):
        anonymous.post("/reset-password", {"email": owner.email})
    assert "reset-password/" not in caplog.text
    [(host, port, calls, message)] = FakeSMTP.sent
    assert (host, port, calls) == ("mail.example.org", 587, ["starttls", "login planner"])
    assert message["To"] == owner.email
    body = message.get_content()
    # BASE_URL decides where the link points, not the Host the request claims (here "localhost").
    assert "https://planner.example.org/reset-password/" in body and "localhost" not in body


# ---------------------------------------------------------------- limits on attempts


def test_log_in_attempts_are_limited_per_account(
    app: Flask, anonymous: Web, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    for _ in range(3):
        assert log_in(anonymous, owner.email, "guess").status_code == 422
    blocked = log_in(anonymous, owner.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another account from the same address is not held up.
    assert log_in(anonymous, "someone.else@example.org", "guess").status_code == 422


def test_log_in_attempts_are_limited_per_address(app: Flask, owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "4 per minute")
    here = Web(app.test_client())
    for n in range(4):
        assert log_in(here, f"guess{n}@example.org", "guess").status_code == 422
    assert log_in(here, owner.email).status_code == 429
    elsewhere = Web(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert log_in(elsewhere, owner.email).status_code == 302


def test_every_app_process_shares_the_counts(
    app: Flask, database_url: str, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_process = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    try:
        for each in (app, other_process):
            monkeypatch.setitem(each.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per minute")
        assert log_in(Web(app.test_client()), owner.email, "guess").status_code == 422
        assert log_in(Web(other_process.test_client()), owner.email, "guess").status_code == 422
        assert log_in(Web(app.test_client()), owner.email).status_code == 429
        assert log_in(Web(other_process.test_client()), owner.email).status_code == 429
    finally:
        with other_process.app_context():
            db.engine.dispose()


# ---------------------------------------------------------------- the counters' storage


def test_database_storage_counts_in_fixed_windows(ctx: Flask) -> None:
    storage = DatabaseStorage("planner-db://")
    assert storage.check()
    assert storage.get("k") == 0
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3
    assert 55 < storage.get_expiry("k") - utcnow().timestamp() - _utc_offset() <= 60
    storage.clear("k")
    assert storage.get("k") == 0

    # A window that has ended starts again at the next attempt.
    db.session.add(RateLimitCounter(key="old", count=9, expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert storage.get("old") == 0
    assert storage.incr("old", 60) == 1
    assert storage.reset() == 1


def _utc_offset() -> float:
    """utcnow() is naive UTC; .timestamp() reads a naive time as local."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return now.replace(tzinfo=None).timestamp() - now.timestamp()


def test_database_storage_keeps_counts_when_the_request_rolls_back(ctx: Flask) -> None:
    storage = DatabaseStorage("planner-db://")
    storage.incr("attempt", 60)
    db.session.rollback()  # the request's own work failing does not undo the count
    assert storage.get("attempt") == 1


def test_database_storage_counts_every_one_of_many_attempts_at_once(app: Flask) -> None:
    storage = DatabaseStorage("planner-db://")
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    storage.incr("busy", 60)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert storage.get("busy") == 40
