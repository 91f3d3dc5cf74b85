"""Drafts kept in the browser are their writer's: removed at log-out, never shown to another account.

Two members of one plan share a browser, as on a library's public computer. Ana types into
step 1 and, without saving, logs out (or leaves her session to end); Ben logs in on the same
browser and opens the same step; then Ana logs back in. Her draft is offered to neither.

Log-out clears drafts twice over: the answer carries `Clear-Site-Data`, and the log-out
button's script removes them for browsers that ignore the header. Each is tried alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.team import make_team
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

DRAFT = "Lend tools, share skills, and keep the list of who has what private."


@pytest.fixture
def team(app: Flask, password_hash: str) -> dict[str, Any]:
    return make_team(app, password_hash, {"name": "New parents"})


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(viewport={"width": 1200, "height": 900}).new_page()


def log_in(page: Page, user: Any) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Your account")).to_contain_text(user.name)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")


def mission(page: Page, plan_id: int) -> Any:
    page.goto(f"/plans/{plan_id}/steps/starting-point")
    page.wait_for_load_state()  # autosave.js runs once the page is parsed
    return page.locator("form.fields-form").get_by_label("Mission")


def type_a_draft(page: Page, plan_id: int) -> None:
    field = mission(page, plan_id)
    field.fill(DRAFT)
    page.wait_for_timeout(700)  # the debounced save
    assert any(DRAFT in value for value in stored(page).values()), "the draft is kept while typing"


def stored(page: Page) -> dict[str, str]:
    return page.evaluate("Object.fromEntries(Object.entries(localStorage))")


def assert_no_draft_offered(page: Page, plan_id: int) -> None:
    field = mission(page, plan_id)
    expect(field).to_have_value("")
    expect(page.locator(".draft-notice")).to_have_count(0)
    assert not any(DRAFT in value for value in stored(page).values())


def without_clear_site_data(route: Route) -> None:
    """The log-out answer as a browser that ignores Clear-Site-Data would act on it."""
    response = route.fetch(max_redirects=0)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "clear-site-data"}
    route.fulfill(response=response, headers=headers)


@pytest.mark.parametrize("way", ["header and script", "header alone", "script alone"])
def test_a_draft_is_gone_at_log_out_and_never_offered_to_the_next_account(
    page: Page, team: dict[str, Any], way: str
) -> None:
    plan_id = team["plan_id"]
    log_in(page, team["ana"])
    type_a_draft(page, plan_id)
    # An idea half typed on a workshop's page (static/workshop.js keeps it per session code).
    page.evaluate("localStorage.setItem('workshop:ABCD2345:draft', JSON.stringify({step: 'goals', text: 'An idea'}))")
    if way == "script alone":
        page.route("**/logout", without_clear_site_data)
    if way == "header alone":
        # Without the script's part, leaving the field must not start one more save on the way out.
        page.locator("form.fields-form").get_by_label("Mission").blur()
        page.wait_for_timeout(700)
        page.locator("form[data-logout]").evaluate("(form) => form.removeAttribute('data-logout')")
    log_out(page)
    page.wait_for_load_state()
    assert not [key for key in stored(page) if key.startswith(("planner-draft:", "workshop:"))]

    log_in(page, team["ben"])
    assert_no_draft_offered(page, plan_id)
    log_out(page)
    log_in(page, team["ana"])
    assert_no_draft_offered(page, plan_id)


def test_a_session_that_ended_without_log_out_leaves_no_draft_to_the_next_account(
    page: Page, team: dict[str, Any]
) -> None:
    plan_id = team["plan_id"]
    log_in(page, team["ana"])
    type_a_draft(page, plan_id)
    anas = [key for key in stored(page) if key.startswith("planner-draft:")]
    assert anas and not any(team["ana"].email in key for key in anas), "kept under an opaque id, not the address"
    page.context.clear_cookies()  # her session ends (the browser closed); nobody logged out

    # Someone else signs in on the same browser: her draft is not theirs to read, and goes.
    log_in(page, team["ben"])
    assert_no_draft_offered(page, plan_id)
    assert not set(anas) & set(stored(page))


def test_a_draft_kept_before_drafts_had_an_owner_is_adopted_once_and_gone_at_log_out(
    page: Page, team: dict[str, Any]
) -> None:
    plan_id = team["plan_id"]
    log_in(page, team["ana"])
    mission(page, plan_id)
    legacy = page.evaluate(
        """() => { const f = document.querySelector('form[data-autosave]');
        const base = f.dataset.autosaveBase || f.querySelector('input[name=base_version]')?.value || '';
        return 'planner-draft:' + f.dataset.autosave + '@' + base; }"""
    )
    # What the autosave.js of the last release stored: no account in the key.
    page.evaluate(
        "([key, text]) => localStorage.setItem(key,"
        " JSON.stringify({fields: {'plan-mission': text}, savedAt: Date.now()}))",
        [legacy, DRAFT],
    )
    field = mission(page, plan_id)
    expect(field).to_have_value(DRAFT)
    expect(page.locator(".draft-notice")).to_have_count(1)
    keys = [key for key, value in stored(page).items() if DRAFT in value]
    assert len(keys) == 1 and keys[0] != legacy and keys[0].endswith(legacy.removeprefix("planner-draft:"))

    log_out(page)
    page.wait_for_load_state()
    assert not [key for key in stored(page) if key.startswith("planner-draft:")]


def test_the_title_is_read_only_for_an_editor_and_their_draft_never_holds_it(page: Page, team: dict[str, Any]) -> None:
    plan_id = team["plan_id"]
    log_in(page, team["ben"])
    field = mission(page, plan_id)
    form = page.locator("form.fields-form")
    title = form.get_by_label("Plan title")
    expect(title).to_have_attribute("readonly", "")
    expect(form).to_contain_text("Only a facilitator can rename the plan.")
    field.fill(DRAFT)
    page.wait_for_timeout(700)
    assert not any("plan-title" in value for value in stored(page).values())
