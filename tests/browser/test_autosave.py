"""Autosave: a draft in progress survives a reload, a closed tab and a dropped connection.

Each test types into a wizard form and then reloads (or closes the tab, or sends while
offline) in the middle of the edit, as a person on a train would. What was typed comes back
with a notice; a saved form leaves no draft behind; and a draft that is older than what is
saved now is offered, never put back silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from tests.browser.team import make_team, signed_in

pytestmark = pytest.mark.browser

SEGMENT = ENTITY_BY_NAME["segment"]
DRAFT = "Saturday mornings at the playgroup, and the school gate at 3pm."
RESTORED = r"Restored your unsaved draft from \d\d:\d\d\."


@pytest.fixture
def plan(app: Flask, password_hash: str) -> dict[str, Any]:
    team = make_team(app, password_hash, {"name": "New parents", "barriers": "Opening hours."})
    return {"id": team["plan_id"], **team}


@pytest.fixture
def context(app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan: dict) -> BrowserContext:
    return signed_in(app, new_context(viewport={"width": 1200, "height": 900}), live_server, plan["ana"])


@pytest.fixture
def page(context: BrowserContext, plan: dict) -> Page:
    page = context.new_page()
    page.goto(f"/plans/{plan['id']}/steps/audiences")
    return page


def editor(page: Page, name: str = "New parents") -> Any:
    return page.locator("li.item").filter(has=page.get_by_role("heading", name=name)).locator("form.item-form")


def open_editor(page: Page) -> Any:
    page.get_by_role("link", name="Edit").click()
    expect(editor(page)).to_be_visible()
    return editor(page)


def typed(page: Page, field: Any, text: str) -> None:
    """Type as a person does, then give the debounced save its moment."""
    field.fill(text)
    page.wait_for_timeout(700)


def drafts(page: Page) -> list[str]:
    page.wait_for_load_state()  # autosave.js runs once the page is parsed
    return page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('planner-draft:'))")


def saved(app: Flask, plan_id: int) -> dict[str, Any]:
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan_id))
        db.session.remove()
    return doc


def test_a_reload_in_the_middle_of_an_edit_loses_nothing(page: Page) -> None:
    form = open_editor(page)
    typed(page, form.get_by_label("What stops them taking part"), DRAFT)
    page.reload()

    # The editor opens by itself, with the text typed and a notice that says so.
    form = editor(page)
    expect(form.get_by_label("What stops them taking part")).to_have_value(DRAFT)
    expect(form.locator(".draft-notice")).to_have_text(re.compile(RESTORED + " Discard"))

    # Discard puts back what is saved.
    form.get_by_role("button", name="Discard").click()
    expect(form.get_by_label("What stops them taking part")).to_have_value("Opening hours.")
    assert drafts(page) == []


def test_a_closed_tab_loses_nothing_and_a_save_leaves_no_draft(app: Flask, context: BrowserContext, plan: dict) -> None:
    page = context.new_page()
    page.goto(f"/plans/{plan['id']}/steps/starting-point")
    mission = page.locator("form.fields-form").get_by_label("Mission")
    typed(page, mission, "Lend tools, share skills.")
    page.close()

    page = context.new_page()
    page.goto(f"/plans/{plan['id']}/steps/starting-point")
    form = page.locator("form.fields-form")
    expect(form.get_by_label("Mission")).to_have_value("Lend tools, share skills.")
    expect(form.locator(".draft-notice")).to_contain_text("Restored your unsaved draft")
    form.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_have_text("Starting point saved.")
    assert saved(app, plan["id"])["mission"] == "Lend tools, share skills."
    assert drafts(page) == []
    page.reload()
    expect(page.locator(".draft-notice")).to_have_count(0)


def test_a_new_item_typed_but_not_added_comes_back(page: Page) -> None:
    page.get_by_text("Add an audience segment").click()
    add = page.locator("form").filter(has=page.get_by_role("button", name="Add audience segment"))
    typed(page, add.get_by_label("Name", exact=True), "Retirees who fix things")
    page.reload()
    expect(add).to_be_visible()  # the folded form opens for its draft
    expect(add.get_by_label("Name", exact=True)).to_have_value("Retirees who fix things")


def test_a_send_that_never_arrived_is_kept(app: Flask, context: BrowserContext, page: Page, plan: dict) -> None:
    form = open_editor(page)
    form.get_by_label("What stops them taking part").fill(DRAFT)
    context.set_offline(True)
    form.get_by_role("button", name="Save audience segment").click()
    page.wait_for_timeout(500)
    context.set_offline(False)
    page.goto(f"/plans/{plan['id']}/steps/audiences")
    expect(editor(page).get_by_label("What stops them taking part")).to_have_value(DRAFT)
    assert saved(app, plan["id"])["segments"][0]["barriers"] == "Opening hours."


def test_a_draft_older_than_the_saved_version_is_offered_not_put_back(
    app: Flask, page: Page, plan: dict, new_context: Callable[..., BrowserContext], live_server: str
) -> None:
    form = open_editor(page)
    typed(page, form.get_by_label("What we offer them"), "A pram-friendly hour on Saturdays.")

    # Meanwhile Ben renames the segment in his own browser.
    ben = signed_in(app, new_context(), live_server, plan["ben"]).new_page()
    ben.goto(f"/plans/{plan['id']}/steps/audiences")
    bens = open_editor(ben)
    bens.get_by_label("Name", exact=True).fill("Young parents")
    bens.get_by_role("button", name="Save audience segment").click()
    expect(ben.get_by_role("status")).to_have_text("Audience segment saved.")

    page.reload()
    form = editor(page, "Young parents")
    notice = form.locator(".draft-notice")
    expect(notice).to_contain_text("but this was saved since")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Young parents")  # the saved version shows
    expect(form.get_by_label("What we offer them")).to_have_value("")

    form.get_by_role("button", name="Restore my draft").click()
    expect(form.get_by_label("What we offer them")).to_have_value("A pram-friendly hour on Saturdays.")
    form.get_by_role("button", name="Save audience segment").click()
    # Saved against the version the draft started from: Ben's rename is kept, and so is the draft.
    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text("Ben Brown had changed name meanwhile")
    segment = saved(app, plan["id"])["segments"][0]
    assert (segment["name"], segment["value_to_them"]) == ("Young parents", "A pram-friendly hour on Saturdays.")
    assert drafts(page) == []


def test_a_draft_kept_through_a_conflict_is_merged_again_after_a_reload(
    app: Flask, page: Page, plan: dict, new_context: Callable[..., BrowserContext], live_server: str
) -> None:
    form = open_editor(page)
    form.get_by_label("Name", exact=True).fill("Parents of toddlers")
    with app.app_context():
        store.update_item(store.get_plan(plan["id"]), SEGMENT, "s1", {"name": "Young parents"}, actor=plan["ben"])
        db.session.remove()
    form.get_by_role("button", name="Save audience segment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("while you were editing")

    # The tab closes on the conflict page. Back on the step, the draft is offered, not applied.
    page.goto(f"/plans/{plan['id']}/steps/audiences")
    form = editor(page, "Young parents")
    form.get_by_role("button", name="Restore my draft").click()
    expect(form.get_by_label("Name", exact=True)).to_have_value("Parents of toddlers")
    form.get_by_role("button", name="Save audience segment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("while you were editing")
    assert saved(app, plan["id"])["segments"][0]["name"] == "Young parents"
