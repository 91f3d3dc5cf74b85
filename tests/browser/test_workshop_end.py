"""The end of a live workshop in real browsers, and the console's switches and group box.

When the facilitator ends the session, every open screen must switch by itself: the projector
to a closing screen (no code, no QR, no "add your ideas"; what the room did instead), each
phone to "it has ended" (no step picker, no empty prompt), and a second console tab to the
look back. The other test checks that the console's tick boxes take effect when ticked, and
that "New group" empties after adding and refuses a name the step has already.

Screenshots of every screen before and after land in /tmp/screens (see `shot`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from planner.extensions import db
from planner.workshop import state
from planner.workshop.models import WorkshopSession, WorkshopStep
from tests.browser.test_workshop import LIVE, PHONE, add_idea, card, open_room, shot, workshop_plan

pytestmark = pytest.mark.browser


@pytest.fixture
def plan_id(app: Flask, password_hash: str) -> int:
    return workshop_plan(app, password_hash)


def test_ending_switches_every_open_screen_to_its_end(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan_id: int
) -> None:
    room = open_room(app, new_context, live_server, plan_id, [("Ana", PHONE, None), ("Ben", {}, None)])
    console, projector, ana, ben = room["console"], room["projector"], room["people"]["Ana"], room["people"]["Ben"]
    add_idea(ana, "Night-shift nurses")
    add_idea(ben, "Parents at the school gate")
    console.locator("#vote-dots").fill("1")
    console.locator("#vote-per-idea").fill("1")
    console.locator("#open-voting-button").click()
    for person in (ana, ben):
        card(person, "Parents at the school gate").get_by_role("button", name=re.compile("^Give a dot")).click()
    expect(projector.locator("#room-status")).to_contain_text("2 of 2 have voted", timeout=LIVE)
    with console.context.expect_page() as opened:
        card(console, "Parents at the school gate").get_by_role("button", name="Add to plan").click()
    opened.value.close()
    expect(card(console, "Parents at the school gate")).to_contain_text("In the plan: Audience segment", timeout=LIVE)
    # A second console tab stays open on the live console while the first one ends the session.
    other_console = console.context.new_page()
    other_console.goto(console.url)
    expect(other_console.get_by_role("button", name="Move the room")).to_be_visible()
    expect(projector.locator("#join-code")).to_be_visible()
    expect(projector.locator(".ws-qr")).to_be_visible()
    for name, page in (("projector", projector), ("phone", ana), ("console", console)):
        shot(page, f"end-before-{name}")

    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_role("button", name="End the workshop").click()  # voting is still open

    # The projector: no code, no QR, no invitation to add ideas; what the room did instead.
    expect(projector.locator(".ws-closing")).to_be_visible(timeout=LIVE)
    expect(projector.locator("#join-code")).to_have_count(0)
    expect(projector.locator(".ws-qr")).to_have_count(0)
    expect(projector.get_by_text("Add your ideas")).to_have_count(0)
    expect(projector.locator(".ws-totals li")).to_have_text(
        ["2 people took part", "2 ideas", "2 dots from 2 people", "1 item into the plan"]
    )
    expect(projector.locator(".ws-into li")).to_have_text(
        [re.compile(r"Audience segment\s+Parents at the school gate")]
    )
    # The phones: it has ended; no step, no picker, no box, no "yours can be the first".
    for person in (ana, ben):
        expect(person.get_by_role("heading", name="The workshop has ended")).to_be_visible(timeout=LIVE)
        for gone in ("#step-title", "#step-prompt", "#roam-step", "#idea-form", "#ideas-note"):
            expect(person.locator(gone)).to_have_count(0)
        expect(person.locator(".ws-into")).to_contain_text("Parents at the school gate")
    # Both consoles: the look back, with no live-looking control left.
    for page in (console, other_console):
        expect(page.get_by_role("heading", level=1)).to_contain_text("a look back", timeout=LIVE)
        expect(page.get_by_role("button")).to_have_text(["Log out"])
        expect(page.locator(".ws-summary-ideas li").first).to_contain_text("Parents at the school gate")
        expect(page.locator(".ws-summary-ideas li").first).to_contain_text("2 dots")
    expect(console.get_by_role("link", name="Parents at the school gate")).to_be_visible()
    for name, page in (("projector", projector), ("phone", ana), ("console", console)):
        shot(page, f"end-after-{name}")
    assert room["errors"] == []


def test_the_console_switches_take_effect_and_new_group_empties_and_refuses_a_repeat(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan_id: int
) -> None:
    room = open_room(app, new_context, live_server, plan_id, [("Ana", {}, None)])
    console, projector, ana = room["console"], room["projector"], room["people"]["Ana"]

    def saved_step() -> tuple[bool, bool]:
        with app.app_context():
            ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.plan_id == plan_id))
            step = db.session.get(WorkshopStep, (ws.id, "audiences"))
            settings = (step.anonymous, step.private)
            db.session.remove()
        return settings

    # Ticking is saving: no Save button to forget.
    expect(console.locator("#settings-save")).to_be_hidden()
    console.get_by_label("Anonymous cards").uncheck()
    add_idea(ana, "Night-shift nurses")
    expect(card(projector, "Night-shift nurses")).to_contain_text("Ana", timeout=LIVE)  # names now show
    expect(console.locator("#settings-saved")).to_have_text("Saved")
    console.get_by_label("Hidden until I reveal them").check()
    expect(console.locator("#reveal-button")).to_be_visible(timeout=LIVE)
    expect(projector.locator("#board li")).to_have_count(0, timeout=LIVE)
    assert saved_step() == (False, True)
    console.reload()
    expect(console.get_by_label("Anonymous cards")).not_to_be_checked()
    expect(console.get_by_label("Hidden until I reveal them")).to_be_checked()

    # New group: empty again after adding; the same name again is refused, saying why.
    console.get_by_label("New group").fill("Forums")
    console.get_by_role("button", name="Add group").click()
    expect(console.locator("#groups li")).to_have_count(1, timeout=LIVE)
    expect(console.get_by_label("New group")).to_have_value("")
    console.get_by_label("New group").fill(" forums ")
    console.get_by_role("button", name="Add group").click()
    expect(console.locator("#action-error")).to_have_text("This step already has a group called “Forums”.")
    expect(console.get_by_label("New group")).to_have_value(" forums ")  # kept, to be corrected
    expect(console.locator("#groups li")).to_have_count(1)
    shot(console, "console-switches")
    with app.app_context():
        ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.plan_id == plan_id))
        assert [g["label"] for g in state.snapshot(ws).groups] == ["Forums"]
        db.session.remove()
    assert room["errors"] == []
