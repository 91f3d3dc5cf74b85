"""Two people edit the same plan at once, in two real browsers (two Playwright contexts).

Ana and Ben open the same audience segment's editor on the step page. What each sees after
saving is what the issue asks for: different fields both go through; the same field is not
overwritten, and the second person sees both versions side by side and chooses; an item
deleted under someone's editor is announced, with their text kept to add again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from tests.browser.team import make_team, signed_in

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")
SEGMENT = ENTITY_BY_NAME["segment"]


@pytest.fixture
def people(app: Flask, password_hash: str) -> dict[str, Any]:
    return make_team(app, password_hash, {"name": "New parents", "priority": "secondary"})


@pytest.fixture
def browsers(
    app: Flask, new_context: Callable[..., BrowserContext], live_server: str, people: dict[str, Any]
) -> dict[str, Page]:
    """Ana's and Ben's pages, each in a browser context of its own, on the audiences step."""
    pages = {}
    for name in ("ana", "ben"):
        context = signed_in(app, new_context(viewport={"width": 1200, "height": 900}), live_server, people[name])
        page = context.new_page()
        page.goto(f"/plans/{people['plan_id']}/steps/audiences")
        pages[name] = page
    return pages


def open_editor(page: Page) -> Any:
    item = page.locator("li.item").filter(has=page.get_by_role("heading", name="New parents"))
    item.get_by_role("link", name="Edit").click()
    form = item.locator("form.item-form")
    expect(form).to_be_visible()
    return form


def saved_segment(app: Flask, plan_id: int) -> dict[str, Any]:
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan_id))
        db.session.remove()
    return doc["segments"][0] if doc["segments"] else {}


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_edits_of_different_fields_both_go_through(app: Flask, browsers: dict[str, Page], people: dict) -> None:
    ana, ben = browsers["ana"], browsers["ben"]
    anas, bens = open_editor(ana), open_editor(ben)
    anas.get_by_label("Name", exact=True).fill("Young parents")
    bens.get_by_label("Priority").select_option("primary")
    bens.get_by_label("Where they already talk").fill("Parents' forum")

    anas.get_by_role("button", name="Save audience segment").click()
    expect(ana.get_by_role("status")).to_have_text("Audience segment saved.")
    bens.get_by_role("button", name="Save audience segment").click()
    expect(ben.get_by_role("status")).to_have_text(
        "Audience segment saved. Ana Alvarez had changed name meanwhile: their changes are kept too."
    )
    expect(ben.get_by_role("heading", name="Young parents")).to_be_visible()
    saved = saved_segment(app, people["plan_id"])
    assert (saved["name"], saved["priority"], saved["venues"]) == ("Young parents", "primary", ["Parents' forum"])


def test_the_same_field_is_never_overwritten_the_second_person_chooses(
    app: Flask, browsers: dict[str, Page], people: dict
) -> None:
    ana, ben = browsers["ana"], browsers["ben"]
    anas, bens = open_editor(ana), open_editor(ben)
    anas.get_by_label("Name", exact=True).fill("Young parents")
    anas.get_by_label("What stops them taking part").fill("Naps and the school run.")
    bens.get_by_label("Name", exact=True).fill("Parents of toddlers")
    bens.get_by_label("What stops them taking part").fill("No time in the evening; the library shuts at six.")
    bens.get_by_label("Priority").select_option("primary")

    anas.get_by_role("button", name="Save audience segment").click()
    expect(ana.get_by_role("status")).to_have_text("Audience segment saved.")
    bens.get_by_role("button", name="Save audience segment").click()

    # Ben's save did not go through; he sees both versions, with his own text kept.
    expect(ben.get_by_role("heading", level=1)).to_have_text(
        "Ana Alvarez saved audience segment “Young parents” while you were editing"
    )
    assert saved_segment(app, people["plan_id"])["name"] == "Young parents"
    name = ben.get_by_role("group", name="Name: you both changed it")
    expect(name.get_by_role("textbox")).to_have_value("Parents of toddlers")
    expect(name.locator(".their-value")).to_have_text("Young parents")
    barriers = ben.get_by_role("group", name="What stops them taking part: you both changed it")
    expect(barriers.get_by_role("textbox")).to_have_value("No time in the evening; the library shuts at six.")
    expect(ben.get_by_label("Priority")).to_have_value("primary")  # only he changed it
    shot(ben, "conflict-1200")
    ben.set_viewport_size({"width": 375, "height": 812})
    shot(ben, "conflict-375")
    ben.set_viewport_size({"width": 1200, "height": 900})

    # He keeps Ana's name and his own text about barriers.
    name.get_by_label("Keep Ana Alvarez\u2019s version").check()
    ben.get_by_role("button", name="Save with these choices").click()
    expect(ben.get_by_role("status")).to_contain_text("Audience segment saved.")
    saved = saved_segment(app, people["plan_id"])
    assert saved["name"] == "Young parents"
    assert saved["barriers"] == "No time in the evening; the library shuts at six."
    assert saved["priority"] == "primary"


def test_an_item_deleted_while_someone_edits_it_keeps_their_text(
    app: Flask, browsers: dict[str, Page], people: dict
) -> None:
    ana, ben = browsers["ana"], browsers["ben"]
    bens = open_editor(ben)
    bens.get_by_label("Name", exact=True).fill("Parents of toddlers")
    bens.get_by_label("What we offer them").fill("A pram-friendly opening hour.")

    item = ana.locator("li.item").filter(has=ana.get_by_role("heading", name="New parents"))
    ana.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Delete").click()
    expect(ana.get_by_role("status")).to_contain_text("deleted")

    bens.get_by_role("button", name="Save audience segment").click()
    expect(ben.get_by_role("heading", level=1)).to_have_text(
        "This audience segment was deleted while you were editing it"
    )
    expect(ben.get_by_role("alert")).to_contain_text(
        re.compile(r"“New parents” was deleted by Ana Alvarez at .+\d:\d\d")
    )
    expect(ben.get_by_label("Name", exact=True)).to_have_value("Parents of toddlers")
    expect(ben.get_by_label("What we offer them")).to_have_value("A pram-friendly opening hour.")
    shot(ben, "deleted-while-editing-1200")

    ben.get_by_role("button", name="Add it as a new audience segment").click()
    expect(ben.get_by_role("status")).to_have_text("Audience segment added.")
    assert saved_segment(app, people["plan_id"])["value_to_them"] == "A pram-friendly opening hour."


# ---------------------------------------------------------------- drafts after a conflict
# Once a conflict is resolved (on the conflict page, or by saving the form again after leaving
# it), the draft it came from is gone: no "You have an unsaved draft" offer comes back.


def typed(page: Page, field: Any, text: str) -> None:
    field.fill(text)
    page.wait_for_timeout(700)  # the debounced draft save


def drafts(page: Page) -> list[str]:
    page.wait_for_load_state()
    return page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('planner-draft:'))")


def conflict_on_the_name(ana: Page, ben: Page) -> None:
    anas, bens = open_editor(ana), open_editor(ben)
    typed(ana, anas.get_by_label("Name", exact=True), "Young parents")
    typed(ben, bens.get_by_label("Name", exact=True), "Parents of toddlers")
    anas.get_by_role("button", name="Save audience segment").click()
    expect(ana.get_by_role("status")).to_have_text("Audience segment saved.")
    bens.get_by_role("button", name="Save audience segment").click()
    expect(ben.get_by_role("heading", level=1)).to_contain_text("while you were editing")


def assert_no_offer_after_reload(ben: Page, plan_id: int, step: str = "audiences") -> None:
    ben.goto(f"/plans/{plan_id}/steps/{step}")
    ben.reload()
    ben.wait_for_timeout(300)
    expect(ben.locator(".draft-notice")).to_have_count(0)
    assert drafts(ben) == []


def test_a_resolved_conflict_leaves_no_draft_to_restore(browsers: dict[str, Page], people: dict) -> None:
    ana, ben = browsers["ana"], browsers["ben"]
    conflict_on_the_name(ana, ben)
    ben.get_by_label("Keep Ana Alvarez\u2019s version").check()
    ben.wait_for_timeout(700)
    ben.get_by_role("button", name="Save with these choices").click()
    expect(ben.get_by_role("status")).to_contain_text("Audience segment saved.")
    assert_no_offer_after_reload(ben, people["plan_id"])


def test_dropping_my_changes_on_a_conflict_leaves_no_draft_to_restore(browsers: dict[str, Page], people: dict) -> None:
    ana, ben = browsers["ana"], browsers["ben"]
    conflict_on_the_name(ana, ben)
    ben.get_by_role("button", name="Drop my changes, keep what is saved").click()
    expect(ben.get_by_role("status")).to_contain_text("your changes were dropped")
    assert_no_offer_after_reload(ben, people["plan_id"])


def test_a_conflict_settled_in_the_editor_leaves_no_draft_to_restore(browsers: dict[str, Page], people: dict) -> None:
    """Ben leaves the conflict page for the step, is offered his draft, and settles it himself:
    he types his name into the saved version and saves. His old draft must not come back."""
    ana, ben = browsers["ana"], browsers["ben"]
    conflict_on_the_name(ana, ben)
    ben.get_by_role("link", name="Step 3: Audiences").click()
    expect(ben.locator(".draft-notice")).to_contain_text("You have an unsaved draft")
    form = ben.locator("form.item-form")
    typed(ben, form.get_by_label("Name", exact=True), "Young parents of toddlers")
    form.get_by_role("button", name="Save audience segment").click()
    expect(ben.locator(".flashes")).to_have_text("Audience segment saved.")
    assert_no_offer_after_reload(ben, people["plan_id"])


def test_a_conflict_on_a_steps_answers_is_offered_on_that_step(browsers: dict[str, Page], people: dict) -> None:
    """Leaving the conflict page of a step's answers, what Ben typed there is offered on the
    step's form (it was kept where no form looks), and once he saves that form it is gone."""
    ana, ben = browsers["ana"], browsers["ben"]
    for page in (ana, ben):
        page.goto(f"/plans/{people['plan_id']}/steps/engagement")
    voice = "form.fields-form textarea"
    typed(ana, ana.locator(voice).first, "Ana's answer")
    typed(ben, ben.locator(voice).first, "Ben's answer")
    ana.locator("form.fields-form").get_by_role("button", name="Save").click()
    expect(ana.get_by_role("status")).to_contain_text("saved")
    ben.locator("form.fields-form").get_by_role("button", name="Save").click()
    expect(ben.get_by_role("heading", level=1)).to_contain_text("while you were editing")
    typed(ben, ben.locator("form.conflict-form textarea").first, "Ben's second thoughts")
    ben.get_by_role("link", name="Step 6").click()
    notice = ben.locator("form.fields-form .draft-notice")
    notice.get_by_role("button", name="Restore my draft").click()
    expect(ben.locator(voice).first).to_have_value("Ben's second thoughts")
    ben.get_by_role("button", name="Discard").click()
    typed(ben, ben.locator(voice).first, "Ana's answer, and Ben's")
    ben.locator("form.fields-form").get_by_role("button", name="Save", exact=True).click()
    expect(ben.locator(".flashes")).to_contain_text("saved")
    assert_no_offer_after_reload(ben, people["plan_id"], "engagement")
