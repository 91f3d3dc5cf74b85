"""The console's notice of names joined from one device, drawn and kept current by its script."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from planner.accounts.models import User
from planner.extensions import db
from planner.plans import store
from planner.workshop import access
from planner.workshop import operations as ops
from planner.workshop.models import WorkshopSession
from tests.browser.test_workshop import LIVE, signed_in, workshop_plan

pytestmark = pytest.mark.browser


def test_the_console_says_which_names_joined_from_one_device(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, password_hash: str
) -> None:
    plan_id = workshop_plan(app, password_hash)
    with app.app_context():
        fay = db.session.scalar(db.select(User).where(User.email == "fay@example.org"))
        ws = ops.start_session(store.get_plan(plan_id), fay, "audiences")
        code, session_id, phone = ws.code, ws.id, access.device_tag(ws, "one-phone")
        for name in ("Cy", "Ann"):
            ops.join(ws, name, device=phone)
        ops.join(ws, "Dee", device=access.device_tag(ws, "another-phone"))
        db.session.remove()
    console = signed_in(app, new_context(viewport={"width": 1280, "height": 900}), live_server, "fay@example.org")
    page = console.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/workshop/{code}/console")
    notice = page.locator("#shared-devices")
    expect(notice.locator("li")).to_have_text(["2 names from one device: Ann, Cy"])
    expect(notice).to_be_visible()

    # A third name from the same phone arrives live; the name is text, never markup.
    with app.app_context():
        ops.join(db.session.get(WorkshopSession, session_id), "<b>Bob</b>", device=phone)
        db.session.remove()
    expect(notice.locator("li")).to_have_text(["3 names from one device: <b>Bob</b>, Ann, Cy"], timeout=LIVE)
    assert notice.locator("b").count() == 0
    assert errors == []
