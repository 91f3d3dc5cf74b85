"""The whole wizard with the keyboard alone: Tab, Shift+Tab, Enter, Space and typing.

Starting on a new plan's first step (the only `goto`), a facilitator fills in a field and saves,
adds a channel, opens it for editing in place and saves it, walks with "next" through every step
to the review, and opens the document. No mouse, no clicks. At every Tab stop passed on the way
the focused element must show a focus ring (an outline or box-shadow from :focus-visible) and be
on screen; every page's first Tab stop is its "Skip to content" link, and it works. The item
editor that opens in place must let focus leave and come back (no keyboard trap).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.accounts.models import Membership, User
from planner.domain import STEPS
from planner.extensions import db
from planner.plans import store
from tests.browser.team import signed_in

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")

# What a keyboard user can tell about the focused element, in one round trip.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  const name = el.getAttribute("aria-label") || label || el.textContent || "";
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    rel: el.getAttribute("rel") || "",
    name: name.trim().replace(/\\s+/g, " ").slice(0, 60),
    // A date field's calendar button has focus inside the field's own (shadow) tree.
    ring: (el.matches(":focus-visible") || el.matches(":focus-within:not(:focus)"))
      && ((style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none"),
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
    inMain: !!el.closest("main"),
    inEditor: !!el.closest(".edit-inline"),
  };
}"""
Stop = dict[str, Any]


class Keyboard:
    """Presses keys on a page and checks every Tab stop it passes."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops = 0
        self.last: list[str] = []
        self.unseen: list[str] = []

    def focused(self) -> Stop:
        stop = self.page.evaluate(FOCUSED)
        assert stop is not None, f"focus left the page on {self.page.url}, after {self.last[-3:]}"
        self.last.append(f"<{stop['tag']} id={stop['id']!r}> {stop['name']!r}")
        if not (stop["ring"] and stop["onScreen"]):
            problem = "no focus ring" if not stop["ring"] else "off screen"
            self.unseen.append(f"{self.page.url}: <{stop['tag']} id={stop['id']!r}> {stop['name']!r}: {problem}")
        return stop

    def tab(self, back: bool = False) -> Stop:
        self.page.keyboard.press("Shift+Tab" if back else "Tab")
        self.stops += 1
        return self.focused()

    def tab_to(self, wanted: Callable[[Stop], bool], what: str, back: bool = False, limit: int = 150) -> Stop:
        self.page.wait_for_load_state()  # after a save or a link, Tab goes on once the page is in
        for _ in range(limit):
            stop = self.tab(back)
            if wanted(stop):
                return stop
        raise AssertionError(f"no Tab stop is {what} within {limit} presses on {self.page.url}")

    def skip_to_content(self) -> None:
        """The page's first Tab stop is the skip link; following it puts the next stop in <main>."""
        self.page.wait_for_load_state()  # the page's scripts are deferred: let them run first
        first = self.tab()
        assert (first["tag"], first["name"]) == ("a", "Skip to content"), f"first Tab stop: {first}"
        if not self.stops - 1:
            self.shot("skip-link")
        self.page.keyboard.press("Enter")
        assert self.tab()["inMain"], "after the skip link, Tab goes on inside the page's main content"

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def shot(self, name: str) -> None:
        """What the focus looks like, to look at after a run."""
        SCREENS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"keyboard-{name}.png"))


def named(name: str, tag: str | None = None) -> Callable[[Stop], bool]:
    return lambda stop: stop["name"] == name and (tag is None or stop["tag"] == tag)


@pytest.fixture
def plan(app: Flask, password_hash: str) -> dict[str, Any]:
    """A new, empty plan; Fay facilitates it."""
    with app.app_context():
        fay = User(email="fay@example.org", name="Fay Facilitator", password_hash=password_hash)
        db.session.add(fay)
        db.session.flush()
        plan = store.create_plan("Harbourside plan", actor=fay)
        db.session.add(Membership(plan_id=plan.id, user_id=fay.id, role="facilitator"))
        db.session.commit()
        db.session.refresh(fay)
        db.session.expunge(fay)
        ids = {"plan": plan.id, "fay": fay}
        db.session.remove()
    return ids


def saved(app: Flask, plan: int) -> dict[str, Any]:
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan))
        db.session.remove()
    return doc


def test_the_whole_wizard_with_the_keyboard_alone(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan: dict[str, Any]
) -> None:
    context = signed_in(app, new_context(viewport={"width": 1280, "height": 900}), live_server, plan["fay"])
    page = context.new_page()
    page.goto(f"/plans/{plan['plan']}/steps/{STEPS[0].slug}")
    keys = Keyboard(page)
    status = page.get_by_role("status")

    # A field of the step's own, saved with Enter on the Save button.
    keys.skip_to_content()
    keys.tab_to(named("Organization"), "the Organization field")
    keys.type("Harbourside Repair Network")
    keys.tab_to(named("Save", "button"), "the Save button")
    keys.shot("save-button")
    page.keyboard.press("Enter")
    expect(status).to_have_text(f"{STEPS[0].title} saved.")

    # An item, added through the open "add" form.
    keys.skip_to_content()
    keys.tab_to(lambda stop: stop["id"] == "new-channel-name", "the new channel's Name field")
    keys.type("Kettle Forum thread")
    keys.tab_to(named("Add channel", "button"), "the Add channel button")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Channel added.")

    # The redirect lands on the new item, so Tab goes on from there: open its editor in place.
    keys.tab_to(named("Edit", "a"), "the channel's Edit link")
    page.keyboard.press("Enter")
    expect(page.locator(".edit-inline form.item-form :focus")).to_have_count(1)
    first = keys.focused()
    keys.shot("editor")
    assert first["id"].endswith("-name"), f"the editor opens with its first field focused, not {first}"

    # No trap: Tab leaves the editor forwards, and Shift+Tab comes back into it, on Cancel.
    keys.tab_to(lambda stop: not stop["inEditor"], "past the editor")
    back = keys.tab(back=True)
    assert back["inEditor"] and back["name"] == "Cancel", f"Shift+Tab goes back into the editor, not to {back}"
    # Cancel closes it and gives focus back to Edit, which opens it again.
    page.keyboard.press("Enter")
    expect(page.locator(".edit-inline")).to_have_count(0)
    assert keys.focused()["name"] == "Edit", "focus goes back to the Edit link"
    page.keyboard.press("Enter")
    expect(page.locator(".edit-inline form.item-form :focus")).to_have_count(1)
    assert keys.focused()["id"] == first["id"]
    page.keyboard.press("Control+A")
    keys.type("Kettle Forum weekly thread")
    keys.tab_to(named("Save channel", "button"), "the Save channel button")
    page.keyboard.press("Space")
    expect(status).to_have_text("Channel saved.")
    expect(page.get_by_role("heading", name="Kettle Forum weekly thread")).to_be_visible()

    # Every step, with "next" at the foot of each, passing every Tab stop on the way.
    for step in STEPS[1:]:
        keys.tab_to(lambda stop: stop["rel"] == "next", f"the link to {step.title}")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        keys.skip_to_content()

    # The review offers the document.
    keys.tab_to(named("Printable page", "a"), "the link to the printable document")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/plans/{plan['plan']}/document$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbourside plan")
    keys.tab_to(named("Download PDF", "a"), "the document's PDF link")  # its own stylesheet's focus, too

    doc = saved(app, plan["plan"])
    assert doc["organization"] == "Harbourside Repair Network"
    assert [channel["name"] for channel in doc["channels"]] == ["Kettle Forum weekly thread"]
    assert keys.stops > 100, "the walk passed every step's controls"
    assert not keys.unseen, f"{len(keys.unseen)} Tab stops without a visible focus ring:\n" + "\n".join(keys.unseen)
