"""Small courtesies in a real browser: the invitation link's Copy button, and times shown in the
reader's own time zone (static/app.js)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import update

from planner.accounts.models import Invitation
from planner.extensions import db
from planner.plans import cached
from tests.browser.team import make_team, signed_in

pytestmark = pytest.mark.browser

# 17:05 UTC is 22:35 in India (UTC+5:30 all year: no daylight-saving rule that the browser's and
# Python's zone data might disagree on, as they may for North America's coming changes).
EXPIRES = datetime(2036, 12, 31, 17, 5)  # ahead of the real clock, or the invitation is no longer listed


@pytest.fixture
def team(app: Flask, password_hash: str) -> dict[str, Any]:
    return make_team(app, password_hash, {"name": "New parents"})


def test_the_copy_button_puts_the_invitation_link_on_the_clipboard(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, team: dict[str, Any]
) -> None:
    context = new_context(viewport={"width": 1200, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    page = signed_in(app, context, live_server, team["ana"]).new_page()
    page.goto(f"/plans/{team['plan_id']}/members")
    page.get_by_role("button", name="Make a link").click()
    link = page.get_by_role("textbox", name="Invitation link").input_value()
    assert "/invitations/" in link

    page.bring_to_front()  # the clipboard answers a page that has the focus
    page.get_by_role("button", name="Copy").click()
    # A busy machine may take a while to answer; the page says "Copied" once it has.
    expect(page.locator(".copy-status")).to_have_text("Copied", timeout=15_000)
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_without_the_clipboard_the_copy_button_selects_the_link(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, team: dict[str, Any]
) -> None:
    page = signed_in(app, new_context(viewport={"width": 1200, "height": 900}), live_server, team["ana"]).new_page()
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    page.goto(f"/plans/{team['plan_id']}/members")
    page.get_by_role("button", name="Make a link").click()
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_contain_text("press Ctrl+C")
    field = page.get_by_role("textbox", name="Invitation link")
    expect(field).to_be_focused()
    selected = page.evaluate("(f => f.value.slice(f.selectionStart, f.selectionEnd))(document.activeElement)")
    assert selected == field.input_value()


def test_a_clipboard_that_never_answers_still_leaves_the_link_selected(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, team: dict[str, Any]
) -> None:
    page = signed_in(app, new_context(viewport={"width": 1200, "height": 900}), live_server, team["ana"]).new_page()
    page.add_init_script("navigator.clipboard.writeText = () => new Promise(() => {})")
    page.goto(f"/plans/{team['plan_id']}/members")
    page.get_by_role("button", name="Make a link").click()
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_contain_text("press Ctrl+C")
    expect(page.get_by_role("textbox", name="Invitation link")).to_be_focused()


def test_times_are_shown_in_the_browsers_zone_and_then_drawn_in_it_without_script(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, team: dict[str, Any]
) -> None:
    url = f"/plans/{team['plan_id']}/members"
    zone = {"timezone_id": "Asia/Kolkata", "locale": "en-GB", "viewport": {"width": 1200, "height": 900}}
    context = signed_in(app, new_context(**zone), live_server, team["ana"])
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Make a link").click()
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=EXPIRES))
        db.session.commit()
        db.session.remove()
    cached.clear()

    page.goto(url)
    shown = page.locator(".invitations time")
    expect(shown).to_have_text("31 Dec 2036, 22:35")  # Intl.DateTimeFormat, in India, in en-GB
    expect(shown).to_have_attribute("datetime", "2036-12-31T17:05:00Z")
    tz = next(c for c in context.cookies() if c["name"] == "tz")
    # Chromium may name the zone by its older alias; either is a zone the server knows.
    assert tz["value"] in ("Asia/Kolkata", "Asia/Calcutta"), tz

    # The server now knows the zone: a browser whose script does not run sees it too.
    quiet = new_context(java_script_enabled=False, viewport={"width": 1200, "height": 900})
    quiet.add_cookies([c for c in context.cookies() if c["name"] in ("session", "tz")])
    still = quiet.new_page()
    still.goto(url)
    expect(still.locator(".invitations time")).to_have_text("31 Dec 2036, 22:35 IST")
