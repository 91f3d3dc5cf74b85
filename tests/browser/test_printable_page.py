"""The printable page in Chromium, on a phone and on a desktop: with a very long word and a long
URL in every cell, every line of text stays on the screen and inside its table cell.

The PDF's side of the same promise is in tests/test_document_layout.py, which makes the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.accounts.models import Membership, User
from planner.extensions import db
from planner.plans import store
from tests.test_document_layout import LONG_URL, long_words_plan

pytestmark = pytest.mark.browser

# Each line box of each piece of text (a Range's client rects), against the screen's edges and
# against the table cell it sits in.
ESCAPES = """(width) => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const cell = node.parentElement.closest("td, th");
    const box = cell && cell.getBoundingClientRect();
    for (const line of range.getClientRects()) {
      if (line.width === 0) continue;
      if (line.left < -1 || line.right > width + 1) {
        found.push(`off the screen: ${text.slice(0, 40)} (${Math.round(line.left)}-${Math.round(line.right)} px)`);
        break;
      }
      if (box && (line.left < box.left - 1 || line.right > box.right + 1)) {
        found.push(`out of its cell: ${text.slice(0, 40)}`);
        break;
      }
    }
  }
  return found;
}"""


def page_of_member(
    app: Flask,
    new_context: Callable[..., BrowserContext],
    live_server: str,
    plan_doc: dict[str, Any],
    role: str,
    width: int,
) -> tuple[Page, int]:
    """A page `width` pixels wide, signed in as a new member of a new plan made from `plan_doc`
    (the session cookie is made as a login would make it), and the plan's id."""
    with app.app_context():
        plan = store.create_from_doc(plan_doc)
        member = User(email=f"{role}@example.org", name=f"Rae {role.title()}", password_hash="-")
        db.session.add(member)
        db.session.flush()
        db.session.add(Membership(plan_id=plan.id, user_id=member.id, role=role))
        db.session.commit()
        plan_id, user_id = plan.id, member.get_id()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user_id, True
    cookie = client.get_cookie("session")
    assert cookie is not None
    context = new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    return context.new_page(), plan_id


@pytest.mark.parametrize("width", [375, 1280])
def test_every_word_stays_on_the_screen_and_in_its_cell(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, width: int
) -> None:
    page, plan_id = page_of_member(app, new_context, live_server, long_words_plan(), "viewer", width)
    page.goto(f"/plans/{plan_id}/document")
    expect(page.locator("table.items").first).to_contain_text(LONG_URL[:20])
    assert page.evaluate(ESCAPES, width) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
