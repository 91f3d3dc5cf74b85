"""A page whose live stream the server closed for being past a cap (planner/workshop/live.py)
follows the room by polling, and says so: the cap costs its viewer promptness, never the room."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from tests.browser.test_workshop import LIVE, add_idea, card, open_room, workshop_plan

pytestmark = pytest.mark.browser

WITHIN_2S = 3_000  # ms: a polling page gets a change within one interval (1.5 s) plus a request


@pytest.fixture
def plan_id(app: Flask, password_hash: str) -> int:
    return workshop_plan(app, password_hash)


def test_a_tab_whose_stream_a_newer_tab_displaced_polls_and_keeps_up(
    app: Flask,
    new_context: Callable[..., BrowserContext],
    live_server: str,
    plan_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAMS_PER_PARTICIPANT", 1)
    room = open_room(app, new_context, live_server, plan_id, [("Ana", {}, None), ("Cleo", {}, None)])
    ana, first = room["people"]["Ana"], room["people"]["Cleo"]
    expect(first.locator("#ws-conn")).to_have_text("")
    # Cleo opens the room in a second tab: its stream is the newest, so the first tab's ends.
    second = first.context.new_page()
    second.goto(first.url)
    expect(second.locator("#me-name")).to_have_text("Cleo")
    expect(first.locator("#ws-conn")).to_have_text("Following the room by polling.", timeout=LIVE)
    # Both tabs still follow the room within the 2 s, and the room sees their cards.
    add_idea(ana, "Parents at the school gate")
    for page in (first, second):
        expect(card(page, "Parents at the school gate")).to_be_visible(timeout=WITHIN_2S)
    add_idea(first, "The bike forum")
    expect(card(room["projector"], "The bike forum")).to_be_visible(timeout=LIVE)
    expect(second.locator("#ws-conn")).to_have_text("")
    assert room["errors"] == []
