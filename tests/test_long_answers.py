"""The plan's long answers (the voice, the staff guidelines, the response protocol, the mission
and vision) show whole on their wizard step, in a box as tall as the text, not cut to three lines.

The form's textareas get rows counted from their text (about 70 characters a line), for browsers
without CSS `field-sizing`; tests/browser/test_long_answers.py checks Chromium shows every line.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from planner.domain import Kind, plan_field
from planner.plans import store
from tests.conftest import Web

LONG_FIELDS = ["mission", "vision", "voice", "staff_guidelines", "response_protocol"]


def textarea(page: str, name: str) -> tuple[int, str]:
    """The rows and the text of the form's textarea called `name`."""
    found = re.search(rf'<textarea([^>]*)name="plan-{name}"([^>]*)>(.*?)</textarea>', page, re.S)
    assert found, name
    rows = re.search(r'rows="(\d+)"', found.group(1) + found.group(2))
    assert rows, name
    return int(rows.group(1)), html.unescape(found.group(3)).strip()


@pytest.mark.parametrize("name", LONG_FIELDS)
def test_a_long_answer_gets_a_box_as_tall_as_its_text(example_plan: Any, web: Web, name: str) -> None:
    field = plan_field(name)
    assert field.kind is Kind.LONGTEXT
    step = "engagement" if name not in ("mission", "vision") else "starting-point"
    text = store.load_doc(example_plan)[name]
    assert len(text) > 150  # the example's answers are long enough to be cut off in three rows
    rows, shown = textarea(web.get(f"/plans/{example_plan.id}/steps/{step}").get_data(as_text=True), name)
    assert shown == text
    assert rows >= len(text) / 70 + text.count("\n")


def test_an_empty_or_short_answer_keeps_a_small_box(web: Web) -> None:
    response = web.post("/plans", {"title": "New plan"})
    plan_id = int(re.search(r"/plans/(\d+)/", response.location).group(1))
    page = web.get(f"/plans/{plan_id}/steps/engagement").get_data(as_text=True)
    assert textarea(page, "voice") == (3, "")
