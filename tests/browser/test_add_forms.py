"""An add form opened on request: a listed kind's "Add" button fetches its form into the page,
moves focus into it and says it is open; Cancel closes it and gives focus back; a draft of an
item deleted meanwhile is offered to that form, opened for it."""

from __future__ import annotations

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


@pytest.fixture
def plan(app: Flask, password_hash: str) -> dict[str, Any]:
    team = make_team(app, password_hash, {"name": "New parents", "barriers": "Opening hours."})
    return {"id": team["plan_id"], **team}


@pytest.fixture
def page(app: Flask, new_context: Callable[..., BrowserContext], live_server: str, plan: dict) -> Page:
    context = signed_in(app, new_context(viewport={"width": 1200, "height": 900}), live_server, plan["ana"])
    page = context.new_page()
    page.goto(f"/plans/{plan['id']}/steps/audiences")
    return page


def test_add_opens_the_form_in_place_with_focus_and_cancel_gives_it_back(page: Page, plan: dict) -> None:
    add = page.locator("#new-segment a[data-inline-edit]")  # the open form's title while it is open
    expect(add).to_have_text("Add an audience segment")
    expect(add).to_have_attribute("aria-expanded", "false")
    expect(page.locator("form[action$='/items/segment/new']")).to_have_count(0)  # not drawn until asked
    add.focus()
    page.keyboard.press("Enter")
    form = page.locator("#new-segment .edit-inline form[action$='/items/segment/new']")
    expect(form).to_be_visible()
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    expect(add).to_have_attribute("aria-expanded", "true")
    expect(add).to_be_visible()  # what the form adds stays said above it

    form.get_by_role("link", name="Cancel").click()
    expect(page.locator("#new-segment .edit-inline")).to_have_count(0)
    expect(add).to_be_focused()
    expect(add).to_have_attribute("aria-expanded", "false")

    add.click()
    form.get_by_label("Name", exact=True).fill("Retirees who fix things")
    form.get_by_role("button", name="Add audience segment").click()
    expect(page.get_by_role("status")).to_have_text("Audience segment added.")
    expect(page.get_by_role("heading", name="Retirees who fix things")).to_be_visible()


def test_a_draft_of_an_item_deleted_since_is_offered_to_the_add_form_opened_for_it(
    app: Flask, page: Page, plan: dict
) -> None:
    with app.app_context():
        kept = store.get_plan(plan["id"])
        store.add_item(kept, SEGMENT, {"name": "Retirees"}, actor=plan["ben"])
        db.session.remove()
    page.reload()
    page.locator("#segment-s1").get_by_role("link", name="Edit").click()
    editor = page.locator("#segment-s1 form.item-form")
    editor.get_by_label("What stops them taking part").fill("No time at all")
    page.wait_for_timeout(700)  # the debounced draft
    with app.app_context():
        store.delete_item(store.get_plan(plan["id"]), SEGMENT, "s1", actor=plan["ben"])
        db.session.remove()
    page.reload()
    add = page.locator("form[action$='/items/segment/new']")
    expect(add.locator(".draft-notice")).to_contain_text("no longer in the plan")
    add.get_by_role("button", name="Put it in this form").click()
    expect(add.get_by_label("What stops them taking part")).to_have_value("No time at all")


def test_an_add_form_sent_back_empty_does_not_open_by_itself_next_time(page: Page, plan: dict) -> None:
    page.locator("#new-segment a[data-inline-edit]").click()
    form = page.locator("#new-segment form[action$='/items/segment/new']")
    form.get_by_role("button", name="Add audience segment").click()
    expect(page.locator("#new-segment")).to_contain_text("This is required.")
    page.goto(f"/plans/{plan['id']}/steps/audiences")
    page.wait_for_timeout(500)  # drafts are looked at once the page has loaded
    expect(page.locator("#new-segment form")).to_have_count(0)
    expect(page.locator("#new-segment a[data-inline-edit]")).to_have_attribute("aria-expanded", "false")
