"""Two people on one plan, each in a browser of their own, for tests of working together.

Browsers are signed in with a session cookie rather than through the log-in page, which
tests/test_accounts.py covers.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import BrowserContext

from planner.accounts.models import Membership, User
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store


def make_team(app: Flask, password_hash: str, segment: dict[str, Any]) -> dict[str, Any]:
    """A plan with one audience segment; Ana facilitates it and Ben edits it."""
    with app.app_context():
        ana = User(email="ana@example.org", name="Ana Alvarez", password_hash=password_hash)
        ben = User(email="ben@example.org", name="Ben Brown", password_hash=password_hash)
        db.session.add_all([ana, ben])
        db.session.flush()
        plan = store.create_plan("Library plan", actor=ana)
        store.add_item(plan, ENTITY_BY_NAME["segment"], segment, actor=ana)
        db.session.add(Membership(plan_id=plan.id, user_id=ana.id, role="facilitator"))
        db.session.add(Membership(plan_id=plan.id, user_id=ben.id, role="editor"))
        db.session.commit()
        for user in (ana, ben):
            db.session.refresh(user)
            db.session.expunge(user)
        team = {"plan_id": plan.id, "ana": ana, "ben": ben}
        db.session.remove()
    return team


def signed_in(app: Flask, context: BrowserContext, live_server: str, user: Any) -> BrowserContext:
    """Give a browser context the session cookie of `user`, as the log-in page would."""
    client = app.test_client()
    with app.app_context():
        session_id = user.get_id()  # starts a server-side session (planner/accounts/sessions.py)
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    cookie = client.get_cookie("session")
    context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    return context
