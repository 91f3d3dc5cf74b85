"""The plan's long answers in Chromium: each textarea on its step is as tall as its text, so the
voice, the staff guidelines and the response protocol read whole, with nothing scrolled away."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from planner.interchange.example import example_document
from tests.browser.test_printable_page import page_of_member

pytestmark = pytest.mark.browser

# Every textarea whose text is taller than its box (the reader would have to scroll inside it).
CUT_OFF = """() => [...document.querySelectorAll("textarea")]
  .filter((box) => box.value && box.scrollHeight > box.clientHeight + 1)
  .map((box) => `${box.name}: ${box.clientHeight} of ${box.scrollHeight} px`)"""


@pytest.mark.parametrize("width", [375, 1280])
def test_long_answers_show_whole_on_their_step(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, width: int
) -> None:
    page, plan_id = page_of_member(app, new_context, live_server, example_document()["plan"], "editor", width)
    for step in ("starting-point", "engagement"):
        page.goto(f"/plans/{plan_id}/steps/{step}")
        expect(page.locator("textarea").first).to_be_visible()
        assert page.evaluate(CUT_OFF) == [], step
    Path("/tmp/screens").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=f"/tmp/screens/long-answers-{width}.png", full_page=True)
