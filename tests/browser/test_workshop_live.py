"""The live workshop in real browsers, beyond the whole session of test_workshop.py: people
roaming freely, and a participant whose stream a proxy blocks or holds back.

The roam test follows one person who wanders off to another step, adds an idea there and
starts another, while the room is brought back and moves on: their half-typed idea must
survive. It ends with the facilitator grouping a card and renaming the group. The
blocked-stream test checks the polling fallback keeps that person within the issue's
2 seconds of the room, in both directions.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from tests.browser.test_workshop import LIVE, PHONE, Person, add_idea, card, open_room, workshop_plan

pytestmark = pytest.mark.browser

# The issue asks for changes on every screen within 2 s; a polling screen gets them within
# one interval plus a request. The slack is for a busy CI machine.
WITHIN_2S = 3_000
POLL_INTERVAL = 1.5  # seconds, workshop.js's POLL_MS


@pytest.fixture
def plan_id(app: Flask, password_hash: str) -> int:
    return workshop_plan(app, password_hash)


def test_a_roaming_participant_adds_ideas_elsewhere_and_keeps_a_half_typed_one_when_the_room_moves(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan_id: int
) -> None:
    room = open_room(app, new_context, live_server, plan_id, [("Ana", PHONE, None), ("Ben", {}, None)])
    console, projector, ana, ben = room["console"], room["projector"], room["people"]["Ana"], room["people"]["Ben"]

    console.get_by_role("button", name="Let people roam freely").click()
    expect(ana.get_by_label("Look at step")).to_be_visible(timeout=LIVE)
    ana.get_by_label("Look at step").select_option("listening")
    expect(ana.locator("#step-title")).to_have_text("Listening")
    add_idea(ana, "Read the repair forum")
    expect(card(ana, "Read the repair forum")).to_contain_text("Yours")
    # Ben stays with the room, and so does the projector: the idea is not on their step.
    expect(ben.locator("#step-title")).to_have_text("Audiences")
    expect(card(ben, "Read the repair forum")).to_have_count(0)
    expect(projector.locator("#step-title")).to_have_text("Audiences")
    # The console shows it under Listening, not under the room's step, and its picker says so.
    expect(console.locator("#focus-step option[value=listening]")).to_have_text("5. Listening (1)", timeout=LIVE)
    expect(console.locator("#focus-status")).to_have_text("0 ideas")
    console.locator("#focus-step").select_option("listening")
    expect(card(console, "Read the repair forum")).to_be_visible(timeout=LIVE)

    # Ana starts another idea; the facilitator brings everyone back, then moves the room on.
    ana.locator("#idea-text").fill("Ask the bike")
    console.get_by_role("button", name="Bring everyone back to Audiences").click()
    expect(ana.locator("#step-title")).to_have_text("Audiences", timeout=LIVE)
    expect(ana.get_by_label("Look at step")).to_be_hidden()
    expect(ana.locator("#idea-text")).to_have_value("Ask the bike")
    expect(ana.locator("#draft-note")).to_contain_text("step 5, Listening")
    console.locator("#room-step").select_option("engagement")
    console.get_by_role("button", name="Move the room").click()
    for page in (ana, ben, projector):
        expect(page.locator("#step-title")).to_have_text("Engagement", timeout=LIVE)
    expect(ana.locator("#idea-text")).to_have_value("Ask the bike")
    # She finishes the sentence and adds it where she meant it to go.
    ana.locator("#idea-text").press("End")
    ana.locator("#idea-text").press_sequentially(" forum about winter")
    ana.get_by_role("button", name="Add to Listening").click()
    expect(ana.locator("#idea-text")).to_have_value("")
    expect(ana.locator("#draft-note")).to_be_hidden()

    console.locator("#room-step").select_option("listening")
    console.get_by_role("button", name="Move the room").click()
    expect(projector.locator("#step-title")).to_have_text("Listening", timeout=LIVE)
    expect(projector.locator("#board li")).to_have_text(
        ["Read the repair forum", "Ask the bike forum about winter"], timeout=LIVE
    )
    expect(card(ben, "Ask the bike forum about winter")).to_be_visible(timeout=LIVE)

    # The facilitator groups a card and renames the group: every screen shows the new name.
    console.get_by_label("New group").fill("Forums")
    console.get_by_role("button", name="Add group").click()
    card(console, "Read the repair forum").get_by_label("Group").select_option(label="Forums", timeout=LIVE)
    expect(projector.locator(".ws-group-label")).to_have_text(["Forums", "Not grouped yet"], timeout=LIVE)
    console.get_by_label("Name of the group Forums").fill("Online forums")
    console.get_by_role("button", name="Rename the group Forums").click()
    expect(projector.locator(".ws-group-label")).to_have_text(["Online forums", "Not grouped yet"], timeout=LIVE)
    expect(card(ben, "Read the repair forum")).to_contain_text("Online forums", timeout=LIVE)
    expect(card(console, "Read the repair forum").get_by_label("Group")).to_have_value(re.compile(r"^\d+$"))
    assert room["errors"] == []


def hold_back(route: Route) -> None:
    """A proxy that buffers the stream: the request is never answered."""


def polls_of(page: Page) -> list[float]:
    """When `page` asks for the state by polling (from now on)."""
    times: list[float] = []

    def seen(request: Request) -> None:
        if "/state?since=" in request.url:
            times.append(time.monotonic())

    page.on("request", seen)
    return times


def test_with_streaming_blocked_a_participant_polls_and_keeps_up(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan_id: int
) -> None:
    blocked = lambda context: context.route(re.compile(r"/events\b"), lambda route: route.abort())  # noqa: E731
    held = lambda context: context.route(re.compile(r"/events\b"), hold_back)  # noqa: E731
    people: list[Person] = [("Ana", {}, None), ("Cleo", PHONE, blocked), ("Dan", {}, held)]
    room = open_room(app, new_context, live_server, plan_id, people)
    console, projector, ana = room["console"], room["projector"], room["people"]["Ana"]
    cleo, dan = room["people"]["Cleo"], room["people"]["Dan"]
    polls = {"Cleo": polls_of(cleo), "Dan": polls_of(dan)}

    add_idea(ana, "Parents at the school gate")
    for page in (cleo, dan):
        expect(card(page, "Parents at the school gate")).to_be_visible(timeout=WITHIN_2S)
    console.locator("#room-step").select_option("listening")
    console.get_by_role("button", name="Move the room").click()
    for page in (cleo, dan):
        expect(page.locator("#step-title")).to_have_text("Listening", timeout=WITHIN_2S)
    console.locator("#timer-minutes").fill("3")
    console.locator(".ws-timer-forms button", has_text="Start").click()
    for page in (cleo, dan):
        expect(page.locator("#timer")).to_have_text(re.compile(r"^(3:00|2:5\d)$"), timeout=WITHIN_2S)

    # Their own ideas reach the projector and the console as anyone's do.
    add_idea(cleo, "The bike forum")
    add_idea(dan, "The library's comments")
    expect(projector.locator("#board li")).to_have_text(["The bike forum", "The library's comments"], timeout=LIVE)
    expect(card(console, "The bike forum")).to_be_visible(timeout=LIVE)
    expect(card(ana, "The library's comments")).to_be_visible(timeout=LIVE)

    # What made that possible: they asked at least every 1.5 s, all along.
    for name, times in polls.items():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert len(gaps) >= 2, (name, gaps)
        assert statistics.median(gaps) < POLL_INTERVAL + 0.1 and max(gaps) < 2.5, (name, gaps)
    expect(cleo.locator("#ws-conn")).to_have_text("Following the room by polling.", timeout=LIVE)
    assert room["errors"] == []
