"""A phone's stream sends only the cards that changed since the state that stream sent before
(`base`). The room the phone shows may be newer than that state: a poll answered by another
server process (after the phone's own post, or while its stream reconnects). Changes merged
into that newer room, rather than into the stream's own state, would leave a card the
facilitator hid shown for good, or a card edited and edited back with the wrong text.

One process serves the browser tests, so the other process's answer is played here: the
phone's `/state` answer, once, is the real room plus a card and with a card's text changed,
at a higher revision (what another process could have read a moment later, before the card
was hidden and the text put back). Then real cards arrive through the stream, as changes,
and the phone must show exactly the real room.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Route, expect

from tests.browser.test_workshop import LIVE, PHONE, add_idea, card, open_room, workshop_plan

pytestmark = pytest.mark.browser

STATE = re.compile(r"/workshop/[^/]+/state(\?|$)")
HIDDEN = "A card the facilitator hid a moment later"
EDITED = "First card, edited and then edited back"

# What the page's stream sends, recorded as it arrives (the page's own listener is untouched).
RECORD_STREAM = """
(function () {
  var Real = window.EventSource;
  if (!Real) return;
  window.streamStates = [];
  function Recorded(url, options) {
    var source = new Real(url, options);
    source.addEventListener("state", function (event) {
      var data = JSON.parse(event.data);
      window.streamStates.push({ revision: data.revision, base: data.base === undefined ? null : data.base });
    });
    return source;
  }
  Recorded.prototype = Real.prototype;
  window.EventSource = Recorded;
})();
"""


@pytest.fixture
def plan_id(app: Flask, password_hash: str) -> int:
    return workshop_plan(app, password_hash)


def test_a_phone_shows_the_real_room_after_a_newer_poll_from_another_process(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan_id: int
) -> None:
    other_process: dict[str, Any] = {"armed": False, "served": None}

    def answer(route: Route) -> None:
        """Once armed, the next answer is another process's newer one; then the real ones again."""
        if not other_process["armed"] or other_process["served"] is not None:
            route.continue_()
            return
        # The whole room (a poll `since` what the phone holds may be 204 by now), as it was.
        parts = urlsplit(route.request.url)
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "since"])
        real = route.fetch(url=urlunsplit(parts._replace(query=query)))
        data = real.json()
        ideas = data["view"]["ideas"]
        first = next(idea for idea in ideas if idea["text"] == "First card")
        ideas.append({**first, "n": max(idea["n"] for idea in ideas) + 1000, "text": HIDDEN})
        first["text"] = EDITED
        data["revision"] += 1
        other_process["served"] = data["revision"]
        route.fulfill(response=real, json=data)

    def prepare(context: BrowserContext) -> None:
        context.add_init_script(RECORD_STREAM)
        context.route(STATE, answer)

    room = open_room(app, new_context, live_server, plan_id, [("Ana", PHONE, prepare), ("Ben", {}, None)])
    ana, ben = room["people"]["Ana"], room["people"]["Ben"]
    cards = ana.locator("#ideas .ws-card-text")

    # The phone's stream has sent a state: from now on it sends changes to that state.
    add_idea(ben, "First card")
    expect(card(ana, "First card")).to_be_visible(timeout=LIVE)
    ana.wait_for_function("window.streamStates.length > 0", timeout=LIVE)

    # Ana's own card: the page then asks for the state, and another process answers, newer.
    other_process["armed"] = True
    add_idea(ana, "Ana's card")
    expect(card(ana, HIDDEN)).to_be_visible(timeout=LIVE)
    expect(cards.first).to_have_text(EDITED)
    heard_before = ana.evaluate("window.streamStates.length")

    # Real changes arrive through the stream; the phone shows exactly the real room.
    add_idea(ben, "Second card")
    add_idea(ben, "Third card")
    expect(cards).to_have_text(["First card", "Ana's card", "Second card", "Third card"], timeout=LIVE)
    expect(card(ana, HIDDEN)).to_have_count(0)

    # It was the stream's changes that put it right, not a poll or a whole state.
    assert other_process["served"] is not None
    heard = ana.evaluate("window.streamStates")
    after = heard[heard_before:]
    assert after and all(state["base"] is not None for state in after), heard
    assert max(state["revision"] for state in after) > other_process["served"]
    assert room["errors"] == []
