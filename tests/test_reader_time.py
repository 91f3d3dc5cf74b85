"""Times in the reader's time zone: the one `when` filter, the `tz` cookie, and the pages.

The browser's side (static/app.js rewriting each time with Intl.DateTimeFormat, and setting
the cookie) is tried in tests/browser/test_courtesies.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from planner.accounts import timezones
from planner.accounts.models import Invitation, User
from planner.discussion import comments
from planner.discussion.models import Comment
from planner.extensions import db
from planner.plans import cached
from planner.plans.models import Change
from tests.conftest import Web

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# 17:05 UTC on a Thursday is 09:05 in Vancouver (PST, UTC-8); 05:00 UTC on Thursday is still
# Wednesday evening there.
AFTERNOON = datetime(2026, 12, 3, 17, 5)
EARLY = datetime(2026, 12, 3, 5, 0)
# An invitation's expiry must lie ahead of the real clock, or the members page no longer lists
# it: the same moment of the day, ten years on (AFTERNOON itself passed at 17:05 on 3 Dec 2026).
EXPIRY = datetime(2036, 12, 3, 17, 5)


def drawn(app: Flask, moment: datetime, form: str = "datetime", zone: str | None = None) -> str:
    headers = {"Cookie": f"tz={zone}"} if zone else {}
    with app.test_request_context("/", headers=headers):
        return str(timezones.when(moment, form))  # type: ignore[arg-type]


def test_a_time_is_a_time_element_in_utc_with_a_text_that_says_utc(app: Flask) -> None:
    assert drawn(app, AFTERNOON) == (
        '<time datetime="2026-12-03T17:05:00Z" data-when="datetime">3 Dec 2026, 17:05 UTC</time>'
    )
    assert drawn(app, AFTERNOON, "time").endswith(">17:05 UTC</time>")
    assert drawn(app, AFTERNOON, "day").endswith(">Thursday 3 December 2026</time>")


def test_a_zone_the_browser_told_draws_the_text_in_it_and_keeps_utc_for_the_script(app: Flask) -> None:
    vancouver = drawn(app, AFTERNOON, zone="America/Vancouver")
    assert 'datetime="2026-12-03T17:05:00Z"' in vancouver  # the script always gets UTC
    assert ">3 Dec 2026, 09:05 PST</time>" in vancouver
    assert drawn(app, EARLY, "day", zone="America/Vancouver").endswith(">Wednesday 2 December 2026</time>")
    assert drawn(app, AFTERNOON, zone="Europe/Berlin").endswith(">3 Dec 2026, 18:05 CET</time>")


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "../../../etc/passwd", "America/Vancouver%00", "", "x" * 500])
def test_a_cookie_that_is_no_known_zone_is_ignored(app: Flask, cookie: str) -> None:
    assert drawn(app, AFTERNOON, zone=cookie).endswith(">3 Dec 2026, 17:05 UTC</time>")


def test_no_template_writes_a_time_itself() -> None:
    """Every time on a page goes through `|when`: a template that formats hours or says "UTC"
    itself would show the server's zone to everyone."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if re.search(r"%H|\bUTC\b", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert not offenders


def test_pages_show_times_in_the_readers_zone(app: Flask, web: Web, example_plan: Any, owner: User) -> None:
    web.post(f"/plans/{example_plan.id}/invitations", {"role": "editor", "days": "7"})
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=EXPIRY))
        db.session.execute(update(Change).values(at=EARLY))
        db.session.commit()
        db.session.remove()
    web.client.set_cookie("tz", "America/Vancouver")

    members = web.get(f"/plans/{example_plan.id}/members").get_data(as_text=True)
    assert ">3 Dec 2036, 09:05 PST</time>" in members  # the invitation's expiry
    history = web.get(f"/plans/{example_plan.id}/history").get_data(as_text=True)
    assert ">Wednesday 2 December 2026</time>" in history and ">21:00 PST</time>" in history
    assert "Thursday 3 December" not in history
    home = web.get("/").get_data(as_text=True)
    assert "changed <time" in home and " UTC</time>" not in home


def test_a_kept_step_page_is_not_shown_in_another_readers_zone(
    app: Flask, web: Web, example_plan: Any, owner: User
) -> None:
    with app.app_context():
        plan = db.session.merge(example_plan)
        comments.add_comment(plan, db.session.get(User, owner.id), "Which goal first?", entity="goal", key="g1")
        db.session.execute(update(Comment).values(created_at=AFTERNOON))
        db.session.commit()
        db.session.remove()
    cached.clear()
    url = f"/plans/{example_plan.id}/steps/goals"
    assert ">3 Dec 2026, 17:05 UTC</time>" in web.get(url).get_data(as_text=True)  # drawn and kept
    web.client.set_cookie("tz", "America/Vancouver")
    page = web.get(url).get_data(as_text=True)
    assert ">3 Dec 2026, 09:05 PST</time>" in page and "17:05 UTC" not in page
