"""Every page passes axe-core: no serious or critical accessibility violations.

One test walks every page in real Chromium, as each kind of visitor sees it (nobody signed in,
the plan's facilitator, a viewer, a workshop participant on a phone), in one browser context
per visitor, runs axe-core on it (axe-playwright-python bundles it) and reports every
violation of every page at once.

Each page checked is matched to the endpoint that served it, and at the end the app's URL map
is held against them: a GET route that serves HTML and is neither checked nor in SKIPPED (with
its reason) fails the test, so a new page cannot be forgotten. axe judges what a machine can
(contrast, names and labels, landmarks, ids, ARIA); docs/accessibility.md says what it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from werkzeug.exceptions import HTTPException

from planner.accounts import membership, users
from planner.accounts.models import Membership, User
from planner.domain import ENTITY_BY_NAME, STEPS
from planner.extensions import db
from planner.plans import store
from planner.plans.models import Change
from planner.workshop import operations as ops
from planner.workshop.models import Participant, WorkshopSession
from tests.browser.team import signed_in
from tests.plan_factory import generated_plan

SEGMENT = ENTITY_BY_NAME["segment"]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
# What must not be on any page. "moderate" and "minor" findings are worth a look, not a failure.
BLOCKING = {"serious", "critical"}

# GET routes that are not pages of their own. Every other GET route that serves HTML must be
# visited by test_every_page_has_no_serious_accessibility_violations.
SKIPPED = {
    "static": "stylesheets, scripts and images",
    "favicon": "a redirect to the site's icon",
    "wizard.first_step": "redirects to the plan's first step, which is checked",
    "documents.pdf": "a PDF download",
    "documents.pdf_status": "whether the PDF is ready, as JSON",
    "documents.word": "a Word download",
    "documents.markdown": "a Markdown download",
    "interchange.export_json": "a JSON download",
    "workshop.events": "the workshop's live channel (an event stream)",
    "workshop.current_state": "the workshop's state, as JSON",
    "workshop.qr": "an SVG image; the projector gives it a text alternative",
    "workshop.export_csv": "a CSV download",
    "workshop.export_markdown": "a Markdown download",
}


@dataclass
class Checked:
    """Every page checked so far, and what axe found on them."""

    axe: Axe = field(default_factory=Axe)
    endpoints: set[str] = field(default_factory=set)
    found: list[str] = field(default_factory=list)

    def check(self, app: Flask, page: Page, name: str) -> None:
        """Run axe on what `page` shows now; remember the endpoint it came from."""
        expect(page.locator("h1").first).to_be_visible()
        self.endpoints.add(endpoint_of(app, page.url))
        for violation in self.axe.run(page).response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                self.found.append(
                    f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
                )


def endpoint_of(app: Flask, url: str) -> str:
    """The endpoint that answered `url`; "404" when none did (the not-found page)."""
    parts = urlsplit(url)
    try:
        endpoint, _args = app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:
        return "404"
    return endpoint


def unchecked_pages(app: Flask, checked: set[str]) -> list[str]:
    """GET routes neither checked nor skipped. A route without arguments is asked what it
    serves, so that a new plain-text or JSON route (a health check, say) needs no entry."""
    found = []
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in checked or rule.endpoint in SKIPPED:
            continue
        if not rule.arguments and client.get(rule.rule).mimetype != "text/html":
            continue
        found.append(f"{rule.endpoint} ({rule.rule})")
    return sorted(found)


# ---------------------------------------------------------------- the world the pages show


@pytest.fixture
def world(app: Flask, password_hash: str) -> dict[str, Any]:
    """A plan with two of everything (so items have all their tools, and pages stay small
    enough to check quickly), facilitated by Fay and read by Vera, with a change in its
    history, an open invitation, a reset link for Vera, and a workshop on its audiences step."""
    with app.app_context():
        fay = User(email="fay@example.org", name="Fay Facilitator", password_hash=password_hash)
        vera = User(email="vera@example.org", name="Vera Viewer", password_hash=password_hash)
        db.session.add_all([fay, vera])
        db.session.flush()
        plan = store.create_from_doc(generated_plan(2))
        db.session.add(Membership(plan_id=plan.id, user_id=fay.id, role="facilitator"))
        db.session.add(Membership(plan_id=plan.id, user_id=vera.id, role="viewer"))
        db.session.commit()
        store.update_item(plan, SEGMENT, "s2", {"name": "Renters in the Riverside flats"}, actor=fay)
        change_id = db.session.scalar(db.select(db.func.max(Change.id)))
        _invitation, invitation = membership.create_invitation(plan, "editor", 7, fay)
        reset = users.reset_token(vera)
        ws = ops.start_session(plan, fay, "audiences")
        for user in (fay, vera):
            db.session.refresh(user)
            db.session.expunge(user)
        world = {
            "plan": plan.id,
            "fay": fay,
            "vera": vera,
            "change": change_id,
            "invitation": invitation,
            "reset": reset,
            "code": ws.code,
        }
        db.session.remove()
    return world


def workshop_ideas(app: Flask, code: str) -> None:
    """Two ideas on the room's step, one of them the participant's, and voting open."""
    with app.app_context():
        ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code))
        participant = db.session.scalar(db.select(Participant).where(Participant.session_id == ws.id))
        ops.add_idea(ws, participant, "audiences", "Night-shift nurses")
        ops.add_idea(ws, None, "audiences", "Parents at the school gate", written_for="Ben")
        ops.open_voting(ws, "audiences", 2, 1)
        db.session.remove()


def end_workshop(app: Flask, code: str) -> None:
    with app.app_context():
        ops.end_session(db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code)))
        db.session.remove()


# ---------------------------------------------------------------- the pages


def anonymous_pages(app: Flask, page: Page, world: dict[str, Any], checked: Checked) -> None:
    for name, url in (
        ("landing", "/"),
        ("log in", "/login"),
        ("sign up", "/signup"),
        ("password reset request", "/reset-password"),
        ("new password", f"/reset-password/{world['reset']}"),
        ("invitation", f"/invitations/{world['invitation']}"),
        ("not found", "/no-such-page"),
    ):
        page.goto(url)
        checked.check(app, page, name)
    # A log-in that fails shows its error beside the form.
    page.goto("/login")
    page.get_by_label("E-mail").fill("nobody@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    checked.check(app, page, "log in, refused")


def facilitator_pages(app: Flask, page: Page, world: dict[str, Any], checked: Checked) -> None:
    plan = f"/plans/{world['plan']}"
    pages = [("home", "/"), ("account", "/account"), ("import", "/plans/import")]
    pages += [("rename plan", f"{plan}/rename"), ("delete plan", f"{plan}/delete")]
    pages += [(f"step {s.number}, {s.title}", f"{plan}/steps/{s.slug}") for s in STEPS]
    pages += [
        ("edit item", f"{plan}/items/segment/s1/edit"),
        ("add item", f"{plan}/items/segment/new"),
        ("delete item, with what refers to it", f"{plan}/items/segment/s1/delete"),
        ("document", f"{plan}/document"),
        ("history", f"{plan}/history"),
        ("one change", f"{plan}/history/{world['change']}"),
        ("members", f"{plan}/members"),
        ("workshops", f"{plan}/workshops"),
    ]
    for name, url in pages:
        page.goto(url)
        checked.check(app, page, name)

    # A step whose form came back with an error (422): the browser's own checks are bypassed.
    page.goto(f"{plan}/steps/team")
    # People are listed, so their add form opens on request (the "Add" button fetches it).
    page.get_by_role("link", name="Add a person").click()
    expect(page.locator("form[action$='/items/person/new']")).to_be_attached()
    page.evaluate(
        """() => {
          const form = document.querySelector("form[action$='/items/person/new']");
          form.querySelector("input[name$='-name']").value = "Someone";
          form.querySelector("input[name$='-hours_per_week']").value = "500";
          form.submit();
        }"""
    )
    expect(page.locator("[aria-invalid=true]").first).to_be_attached()
    checked.check(app, page, "step with an error")

    # The conflict page: someone else renames the segment while Fay's editor is open.
    page.goto(f"{plan}/items/segment/s2/edit")
    with app.app_context():
        store.update_item(
            store.get_plan(world["plan"]), SEGMENT, "s2", {"name": "Riverside tenants"}, actor=world["vera"]
        )
        db.session.remove()
    page.locator("form.item-form").get_by_label("Name", exact=True).fill("Keen fixers")
    page.locator("form.item-form").get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("while you were editing")
    checked.check(app, page, "conflict")
    # Back on the step, with the message that says it is saved.
    page.get_by_role("button", name="Save with these choices").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    checked.check(app, page, "step, with a message")


def viewer_pages(app: Flask, page: Page, world: dict[str, Any], checked: Checked) -> None:
    plan = f"/plans/{world['plan']}"
    page.goto(f"{plan}/steps/{STEPS[0].slug}")
    checked.check(app, page, "step, read only")
    page.goto(f"{plan}/rename")
    expect(page.get_by_text("Error 403")).to_be_visible()
    checked.check(app, page, "forbidden (403)")


def participant_pages(app: Flask, page: Page, world: dict[str, Any], checked: Checked) -> None:
    code = world["code"]
    page.goto("/join")
    checked.check(app, page, "join code (phone)")
    page.get_by_label("Join code").fill(code)
    page.get_by_role("button", name="Next").click()
    checked.check(app, page, "join (phone)")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#me-name")).to_have_text("Ana")
    workshop_ideas(app, code)
    expect(page.locator("#ideas li")).to_have_count(2)
    checked.check(app, page, "participant (phone, 375 px)")
    page.set_viewport_size(DESKTOP["viewport"])
    checked.check(app, page, "participant (1280 px)")


@pytest.mark.browser
def test_every_page_has_no_serious_accessibility_violations(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, world: dict[str, Any]
) -> None:
    checked = Checked()
    anonymous = new_context(**DESKTOP).new_page()
    anonymous_pages(app, anonymous, world, checked)
    facilitator = signed_in(app, new_context(**DESKTOP), live_server, world["fay"]).new_page()
    facilitator_pages(app, facilitator, world, checked)
    viewer = signed_in(app, new_context(**DESKTOP), live_server, world["vera"]).new_page()
    viewer_pages(app, viewer, world, checked)
    phone = new_context(**PHONE).new_page()
    participant_pages(app, phone, world, checked)

    # With ideas on the board and voting open, the console and projector have the most to show.
    facilitator.goto(f"/workshop/{world['code']}/console")
    expect(facilitator.locator("#ideas li")).to_have_count(2)
    checked.check(app, facilitator, "workshop console, voting")
    projector = facilitator.locator("#projector-link").get_attribute("href")
    anonymous.goto(projector)
    expect(anonymous.locator("#board li")).to_have_count(2)
    checked.check(app, anonymous, "projector")
    end_workshop(app, world["code"])
    # The open live views switch to their ends by themselves: the projector's closing screen,
    # the phone's, and the console's look back.
    expect(anonymous.locator(".ws-closing")).to_be_visible()
    checked.check(app, anonymous, "projector, workshop ended")
    expect(phone.get_by_role("heading", name="The workshop has ended")).to_be_visible()
    checked.check(app, phone, "participant, workshop ended (phone)")
    expect(facilitator.locator("h1")).to_contain_text("a look back")
    checked.check(app, facilitator, "workshop look back")
    anonymous.goto(f"/join/{world['code']}")
    checked.check(app, anonymous, "join, workshop ended")

    unchecked = [
        f"not checked (add it above, or to SKIPPED with a reason): {page}"
        for page in unchecked_pages(app, checked.endpoints)
    ]
    problems = unchecked + checked.found
    assert not problems, f"{len(checked.found)} serious or critical violations:\n" + "\n".join(problems)
