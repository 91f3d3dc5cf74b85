"""A plan full of script, HTML and CSS payloads, opened in Chromium: nothing runs, nothing is injected.

tests/test_security_payloads.py reads every page's HTML; this opens the main pages, the
workshop's three screens included (their cards are drawn by script from the JSON state), in a
real browser and asserts that no dialog opened, no payload set `window.__pwned`, no element a
payload tried to make (`id="pwn-..."`) exists, nothing was fetched from the payloads' address,
and the Content-Security-Policy had nothing to block (escaping alone held).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.accounts.models import Membership, User
from planner.discussion.models import Comment
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from planner.workshop import access
from planner.workshop import operations as ops
from tests.test_security_payloads import COMMENT, EVIL_ADDRESS, GUEST, IDEA, LABEL, MY_NAME, NAME, hostile_plan_doc

pytestmark = pytest.mark.browser


def hostile_world(app: Flask, password_hash: str) -> dict[str, Any]:
    """The hostile plan, its hostile members and comment, and a workshop with hostile cards."""
    with app.app_context():
        plan = store.create_from_doc(hostile_plan_doc())
        fay = User(email="fay@example.org", name=MY_NAME, password_hash=password_hash)
        mallory = User(email="mallory@example.org", name=NAME, password_hash=password_hash)
        db.session.add_all([fay, mallory])
        db.session.flush()
        db.session.add(Membership(plan_id=plan.id, user_id=fay.id, role="facilitator"))
        db.session.add(Membership(plan_id=plan.id, user_id=mallory.id, role="editor"))
        db.session.add(Comment(plan_id=plan.id, user_id=mallory.id, step="goals", body=COMMENT))
        db.session.commit()
        ws = ops.start_session(plan, fay, "goals")
        ops.configure_step(ws, "goals", anonymous=False, private=False)
        guest = ops.join(ws, GUEST)
        idea = ops.add_idea(ws, guest, "goals", IDEA)
        group = ops.add_group(ws, "goals", LABEL)
        ops.set_group(ws, idea.number, group.id)
        me = ops.join(ws, None, fay)
        world = {
            "plan_id": plan.id,
            "code": ws.code,
            "user_id": fay.get_id(),
            "participant": (access.cookie_name(ws), access.participant_token(ws, me)),
            "projector_key": access.projector_key(ws),
        }
        db.session.remove()
    return world


def signed_in(app: Flask, context: BrowserContext, live_server: str, world: dict[str, Any]) -> BrowserContext:
    """Fay's session cookie, and the cookie that makes her a participant of the workshop."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = world["user_id"]
        session["_fresh"] = True
    cookie = client.get_cookie("session")
    assert cookie is not None
    name, token = world["participant"]
    context.add_cookies(
        [
            {"name": "session", "value": cookie.value, "url": live_server},
            {"name": name, "value": token, "url": live_server},
        ]
    )
    return context


def test_a_plan_full_of_payloads_runs_nothing_in_a_browser(
    app: Flask, password_hash: str, new_context: Callable[..., BrowserContext], live_server: str
) -> None:
    world = hostile_world(app, password_hash)
    plan, code = f"/plans/{world['plan_id']}", f"/workshop/{world['code']}"
    context = signed_in(app, new_context(viewport={"width": 1280, "height": 900}), live_server, world)
    page: Page = context.new_page()
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("request", lambda request: EVIL_ADDRESS in request.url and seen.append(f"request: {request.url}"))
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and seen.append(f"CSP blocked: {message.text}"),
    )

    # (page, a piece of typed text it must show, as text)
    pages = [
        (f"{plan}/steps/goals", "id=pwn-"),
        (f"{plan}/steps/review", "id=pwn-title"),
        (f"{plan}/items/goal/{ENTITY_BY_NAME['goal'].key_prefix}1/edit", "pwn-"),
        (f"{plan}/document", "window.__pwned"),
        (f"{plan}/history", "pwn-"),
        (f"{plan}/members", "id=pwn-name"),
        (f"{code}/console", "id=pwn-idea"),
        (f"{code}/projector?key={world['projector_key']}", "id=pwn-idea"),
        (code, "id=pwn-idea"),
    ]
    for url, typed in pages:
        page.goto(url)
        # The workshop's screens draw their cards once the state arrives: wait for the typed text.
        expect(page.locator("body")).to_contain_text(typed)
        assert page.evaluate("window.__pwned") is None, url
        assert page.locator("[id^='pwn-']").count() == 0, url
        assert page.locator("body").is_visible(), url  # no injected style hid the page
        assert not seen, (url, seen)
