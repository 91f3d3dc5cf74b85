"""What a viewer sees: no control they cannot use, and the comments they may write.

Viewers may comment (`planner.discussion.comments.NEED`): a director reviewing the plan wants to
say something beside the step it is about. Everything else on a plan's pages a viewer only
reads. These tests open every page a viewer reaches from the steps of the example plan, and
use every form and button on them: none may answer 403.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from planner.discussion.models import Comment
from planner.domain import STEPS
from planner.extensions import db

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ATTR = re.compile(r'([\w-]+)="([^"]*)"')
INPUT = re.compile(r"<(input|textarea|select|button)\b([^>]*)>", re.S)


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in ATTR.findall(tag)}


def _post_forms(page: str) -> list[tuple[str, dict[str, str]]]:
    """Each POST form of a page: its action and what it sends as it stands (text filled in)."""
    found = []
    for attrs, body in FORM.findall(page):
        form = _attrs(attrs)
        if form.get("method", "get").lower() != "post":
            continue
        data = {}
        for kind, tag in INPUT.findall(body):
            field = _attrs(tag)
            if "name" not in field or field.get("type") in ("checkbox", "radio", "file"):
                continue
            data[field["name"]] = field.get("value") or ("A viewer's remark" if kind == "textarea" else "")
        found.append((form["action"], data))
    return found


@pytest.fixture
def as_viewer(web, login, viewer) -> Any:
    login(web, viewer)
    return web


def test_a_viewer_may_comment_on_a_step_and_on_an_item(as_viewer, example_plan, viewer) -> None:
    page = as_viewer.get(f"/plans/{example_plan.id}/steps/audiences").get_data(as_text=True)
    assert 'placeholder="A comment on this step"' in page
    assert 'placeholder="A comment on this item"' in page
    response = as_viewer.post(f"/plans/{example_plan.id}/comments", {"step": "audiences", "body": "Who reads this?"})
    assert response.status_code == 302
    page = as_viewer.get(f"/plans/{example_plan.id}/steps/audiences").get_data(as_text=True)
    assert "Who reads this?" in page and "Comment added." in page
    # And deletes it: a Delete button on their own comment, which works.
    comment = db.session.scalar(select(Comment).where(Comment.body == "Who reads this?"))
    assert f"/comments/{comment.id}/delete" in page
    assert as_viewer.post(f"/plans/{example_plan.id}/comments/{comment.id}/delete").status_code == 302
    assert db.session.get(Comment, comment.id) is None


def test_a_viewer_is_told_what_they_may_do(as_viewer, example_plan) -> None:
    page = as_viewer.get(f"/plans/{example_plan.id}/steps/goals").get_data(as_text=True)
    assert "You are a viewer of this plan: you can read it and download it, and comment on it." in page


def test_no_form_or_link_on_a_viewers_pages_is_refused(as_viewer, example_plan) -> None:
    base = f"/plans/{example_plan.id}"
    pages = [f"{base}/steps/{s.slug}" for s in STEPS]
    seen: set[str] = set()
    refused: list[str] = []
    while pages:
        url = pages.pop()
        if url in seen:
            continue
        seen.add(url)
        response = as_viewer.get(url)
        if response.status_code == 403:
            refused.append(f"GET {url}")
            continue
        if not response.content_type.startswith("text/html") or response.status_code != 200:
            continue
        page = response.get_data(as_text=True)
        for action, data in _post_forms(page):
            answer = as_viewer.post(action, data)
            if answer.status_code == 403:
                refused.append(f"POST {action} (on {url})")
        for href in re.findall(r'href="([^"#]+)', page):
            path = urlsplit(html.unescape(href)).path
            if path.startswith(base) and not path.endswith((".pdf", ".docx", ".md", ".json")) and "/pdf" not in path:
                pages.append(path)
    assert refused == []
    assert len(seen) > len(STEPS)
