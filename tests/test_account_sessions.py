"""Accounts that stay their owner's: sessions kept on the server, links that point home, and
limits that do not lock the owner out (issue 12, point 4).

- log-out ends the session on the server: a copied cookie (or remember cookie) stops working;
- a new password ends every session but the one that set it; sessions expire on the server;
- reset links and invitations never point at the Host a request claims;
- the per-account log-in limit leaves the owner a way in: a reset link.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from flask_login.utils import encode_cookie
from sqlalchemy import select, update

from config import TestConfig
from planner import create_app
from planner.accounts import MailNeedsBaseUrl, sessions
from planner.accounts.models import AccountSession
from planner.extensions import db
from planner.models import utcnow
from tests.conftest import PASSWORD, Web
from tests.test_accounts import log_in
from tests.test_query_counts import counting_queries

SIGNED_IN = "Your plans"
SIGNED_OUT = "Create an account"


def session_rows(app: Flask) -> list[AccountSession]:
    with app.app_context():
        rows = db.session.scalars(select(AccountSession).order_by(AccountSession.id)).all()
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return list(rows)


def copy_of(web: Web, app: Flask) -> Web:
    """Another browser holding a copy of `web`'s session cookie (a stolen cookie)."""
    thief = Web(app.test_client())
    thief.client.set_cookie("session", web.client.get_cookie("session").value)
    return thief


def home(web: Web) -> str:
    return web.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- log-out ends it on the server


def test_a_copied_session_cookie_stops_working_at_log_out(app: Flask, anonymous: Web, owner: Any) -> None:
    assert log_in(anonymous, owner.email).status_code == 302
    thief = copy_of(anonymous, app)
    assert SIGNED_IN in home(thief)
    [row] = session_rows(app)
    assert len(row.token_hash) == 64 and row.token_hash not in anonymous.client.get_cookie("session").value

    assert anonymous.post("/logout").status_code == 302
    assert session_rows(app) == []
    assert SIGNED_OUT in home(thief)  # the copy names a session that no longer exists
    assert SIGNED_OUT in home(anonymous)


def test_a_copied_remember_cookie_stops_working_at_log_out(app: Flask, anonymous: Web, owner: Any) -> None:
    """Planner sets no remember cookie, but one made with the secret key (as Flask-Login
    would make it) names the same server session, and ends with it."""
    log_in(anonymous, owner.email)
    with anonymous.client.session_transaction() as session:
        cookie_id = session["_user_id"]
    with app.test_request_context():
        remember = encode_cookie(cookie_id)
    thief = Web(app.test_client())
    thief.client.set_cookie(REMEMBER_COOKIE, remember)
    assert SIGNED_IN in home(thief)

    anonymous.post("/logout")
    later = Web(app.test_client())
    later.client.set_cookie(REMEMBER_COOKIE, remember)
    assert SIGNED_OUT in home(later)


def test_a_cookie_naming_a_made_up_session_is_refused(app: Flask, anonymous: Web, owner: Any) -> None:
    for made_up in (f"{owner.id}:{'x' * 43}", f"{owner.id}:{owner.password_fingerprint}", str(owner.id), "1:"):
        with anonymous.client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = made_up, True
        assert SIGNED_OUT in home(anonymous), made_up


# ---------------------------------------------------------------- a new password ends the others


def test_changing_the_password_ends_every_other_session_on_the_server(
    app: Flask, anonymous: Web, owner: Any, login: Any
) -> None:
    laptop, phone = Web(app.test_client()), Web(app.test_client())
    login(laptop, owner)
    log_in(phone, owner.email, keep="y")
    copy = copy_of(phone, app)
    assert len(session_rows(app)) == 2

    changed = phone.post("/account", {"current": PASSWORD, "password": "a brand new one", "confirm": "a brand new one"})
    assert changed.status_code == 302
    assert SIGNED_IN in home(phone)  # the device that changed it stays signed in, on a new session
    assert SIGNED_OUT in home(laptop) and SIGNED_OUT in home(copy)  # even a copy of that device's old cookie
    [row] = session_rows(app)
    assert row.keep  # "keep me signed in" carries over to the new session


def test_a_reset_ends_every_session(app: Flask, anonymous: Web, owner: Any, login: Any, caplog: Any) -> None:
    laptop = Web(app.test_client())
    login(laptop, owner)
    with caplog.at_level(logging.WARNING):
        anonymous.post("/reset-password", {"email": owner.email})
    link = re.search(r"http://\S+?(/reset-password/\S+)", caplog.text).group(1)
    assert anonymous.post(link, {"password": "my new password", "confirm": "my new password"}).status_code == 302
    assert SIGNED_OUT in home(laptop)
    assert SIGNED_IN in home(anonymous)
    assert len(session_rows(app)) == 1


# ---------------------------------------------------------------- how long a session lasts


def test_without_keep_me_signed_in_the_session_ends_with_the_browser_and_on_the_server(
    app: Flask, anonymous: Web, owner: Any
) -> None:
    cookie = log_in(anonymous, owner.email).headers["Set-Cookie"]
    assert "Expires" not in cookie  # the browser forgets it when it closes
    [row] = session_rows(app)
    assert not row.keep
    assert row.expires_at - row.created_at == app.config["SESSION_IDLE_LIFETIME"]

    # Unused for longer than SESSION_IDLE_LIFETIME: the server ends it, whatever the browser kept.
    with app.app_context():
        db.session.execute(update(AccountSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    assert SIGNED_OUT in home(anonymous)


def test_with_keep_me_signed_in_the_session_lasts_thirty_days_unused(app: Flask, anonymous: Web, owner: Any) -> None:
    cookie = log_in(anonymous, owner.email, keep="y").headers["Set-Cookie"]
    assert "Expires" in cookie
    [row] = session_rows(app)
    assert row.keep and row.expires_at - row.created_at == timedelta(days=30)


def test_lifetimes_have_an_idle_and_an_absolute_limit(ctx: Flask) -> None:
    start = utcnow()
    assert sessions.expiry(start, start, keep=False) == start + timedelta(hours=8)
    # Used all day long: still over 24 hours after logging in.
    assert sessions.expiry(start, start + timedelta(hours=20), keep=False) == start + timedelta(hours=24)
    assert sessions.expiry(start, start + timedelta(days=85), keep=True) == start + timedelta(days=90)


def test_using_a_session_moves_its_expiry_on_at_most_every_few_minutes(app: Flask, anonymous: Web, owner: Any) -> None:
    log_in(anonymous, owner.email)
    with app.app_context():
        engine = db.engine
    with counting_queries(engine) as statements:
        home(anonymous)
    assert not [s for s in statements if "account_sessions" in s and not s.lstrip().upper().startswith("SELECT")]

    # Last seen ten minutes ago: this request moves it on, after the response, in one UPDATE.
    long_ago = utcnow() - timedelta(minutes=10)
    with app.app_context():
        db.session.execute(
            update(AccountSession).values(last_seen_at=long_ago, expires_at=long_ago + timedelta(hours=8))
        )
        db.session.commit()
        db.session.remove()
    with counting_queries(engine) as statements:
        home(anonymous)
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE ACCOUNT_SESSIONS")]) == 1
    [row] = session_rows(app)
    assert row.last_seen_at > long_ago + timedelta(minutes=9)
    assert row.expires_at > utcnow() + timedelta(hours=7)


def test_expired_sessions_are_cleared_away_at_log_in(app: Flask, anonymous: Web, owner: Any, login: Any) -> None:
    old = Web(app.test_client())
    login(old, owner)
    with app.app_context():
        db.session.execute(update(AccountSession).values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        db.session.remove()
    log_in(anonymous, owner.email)
    assert len(session_rows(app)) == 1


def test_a_log_in_clears_others_expired_sessions_after_its_own_commit(
    app: Flask, anonymous: Web, owner: Any, add_user: Any, login: Any
) -> None:
    nia = add_user("nia@example.org", "Nia")
    login(Web(app.test_client()), nia)
    with app.app_context():
        db.session.execute(update(AccountSession).values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        db.session.remove()
    log_in(anonymous, owner.email)
    assert [row.user_id for row in session_rows(app)] == [owner.id]


@pytest.mark.skipif(
    not __import__("os").environ.get("TEST_DATABASE_URL", "").startswith("postgresql"), reason="row locks: PostgreSQL"
)
@pytest.mark.postgres
def test_two_people_logging_in_at_once_never_deadlock(app: Flask, add_user: Any) -> None:
    """Each browser holds a session that expired overnight. A log-in ends the cookie's old
    session, then starts a new one (`auth.sign_in`); two at once, each holding its own old row,
    must not wait for each other's (PostgreSQL would answer one with a deadlock, a 503)."""
    import threading

    ids = [add_user(f"u{n}@example.org").id for n in range(2)]
    with app.app_context():
        cookies = [f"{uid}:{sessions.start_detached(uid)}" for uid in ids]
        db.session.execute(update(AccountSession).values(expires_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        db.session.remove()
    both_ended = threading.Barrier(2, timeout=10)
    results: dict[int, str] = {}

    def log_in_at_once(n: int) -> None:
        with app.test_request_context("/login", method="POST"):
            try:
                sessions.end(cookies[n])
                both_ended.wait()
                sessions.start(ids[n])
                db.session.commit()
                sessions.sweep_expired()
                results[n] = "ok"
            except Exception as exc:  # the test reports whatever went wrong
                results[n] = type(exc).__name__
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=log_in_at_once, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {0: "ok", 1: "ok"}
    assert sorted(row.user_id for row in session_rows(app)) == ids


def test_a_stranger_cannot_use_up_the_owners_reset_requests(
    app: Flask, owner: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per hour")
    monkeypatch.setitem(app.config, "RESET_LIMIT_PER_ACCOUNT", "4 per day")
    stranger = Web(app.test_client())
    stranger.client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert [stranger.post("/reset-password", {"email": owner.email}).status_code for _ in range(4)] == [302] * 3 + [429]

    fay = Web(app.test_client())
    with caplog.at_level(logging.WARNING):
        assert fay.post("/reset-password", {"email": owner.email}).status_code == 302
    assert re.search(r"http://\S+?(/reset-password/\S+)", caplog.text)
    # From every address together, the account's daily cap still holds.
    assert fay.post("/reset-password", {"email": owner.email}).status_code == 429


# ---------------------------------------------------------------- links never point at a forged Host


def forged(web: Web, host: str = "evil.example") -> dict[str, Any]:
    """Keyword arguments for a request that claims `host`, with `web`'s cookies going along."""
    web.token()
    web.client.set_cookie("session", web.client.get_cookie("session").value, domain=host)
    return {"base_url": f"http://{host}"}


def test_a_reset_requested_with_a_forged_host_never_logs_a_link_to_it(
    app: Flask, anonymous: Web, owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = anonymous.post("/reset-password", {"email": owner.email}, **forged(anonymous))
    assert response.status_code == 302
    assert "/reset-password/" in caplog.text and "evil.example" not in caplog.text
    assert "http://127.0.0.1:5000/reset-password/" in caplog.text  # neither BASE_URL nor TRUSTED_HOSTS is set


def test_a_reset_requested_with_a_forged_host_never_mails_a_link_to_it(
    app: Flask, anonymous: Web, owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smtplib

    from tests.test_accounts import FakeSMTP

    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example.org")
    monkeypatch.setitem(app.config, "BASE_URL", "https://planner.example.org")
    anonymous.post("/reset-password", {"email": owner.email}, **forged(anonymous))
    [(_host, _port, _calls, message)] = FakeSMTP.sent
    body = message.get_content()
    assert "https://planner.example.org/reset-password/" in body and "evil.example" not in body


def test_with_trusted_hosts_another_host_gets_400_and_no_link(
    app: Flask, anonymous: Web, owner: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kwargs = forged(anonymous)
    trusted = Web(app.test_client())
    trusted_kwargs = forged(trusted, "planner.example.org")
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["planner.example.org"])
    with caplog.at_level(logging.WARNING):
        assert anonymous.post("/reset-password", {"email": owner.email}, **kwargs).status_code == 400
    assert "/reset-password/" not in caplog.text

    # A trusted host: the link uses it (Flask checked it), not 127.0.0.1.
    with caplog.at_level(logging.WARNING):
        assert trusted.post("/reset-password", {"email": owner.email}, **trusted_kwargs).status_code == 302
    assert "http://planner.example.org/reset-password/" in caplog.text


def test_the_app_refuses_to_start_with_mail_and_no_base_url(database_url: str) -> None:
    with pytest.raises(MailNeedsBaseUrl, match="Set BASE_URL to the public address"):
        create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, MAIL_SERVER="mail.example.org", BASE_URL="")


# ---------------------------------------------------------------- the owner is never locked out


def test_the_log_in_limit_leaves_the_owner_a_reset_link_and_a_reset_lifts_it(
    app: Flask, owner: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    attacker = Web(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for _ in range(3):
        assert log_in(attacker, owner.email, "guess").status_code == 422

    fay = Web(app.test_client())
    blocked = log_in(fay, owner.email)
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Too many attempts" in page and "a password-reset link still works" in page
    assert 'href="/reset-password' in page

    # Asking for the link is counted apart from log-in attempts: it is not refused.
    with caplog.at_level(logging.WARNING):
        assert fay.post("/reset-password", {"email": owner.email}).status_code == 302
    link = re.search(r"http://\S+?(/reset-password/\S+)", caplog.text).group(1)
    assert fay.post(link, {"password": "my new password", "confirm": "my new password"}).status_code == 302

    # Proved by the link: the owner logs in at once, elsewhere too; the attacker's old guess still fails.
    assert log_in(Web(app.test_client()), owner.email, "my new password").status_code == 302
