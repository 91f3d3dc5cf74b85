"""A new user signs up, writes a whole plan in a real browser, then downloads it as a PDF.

The walk goes through every step in the wizard's order, as a person would: fill in, save,
see the item listed after the redirect, move on with the "next" link. One deliberate
mistake shows that an error appears beside its field and that what was typed is kept.
The second test checks that every step (and the members and account pages) fits a phone's screen.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pypdf import PdfReader

from planner.domain import STEPS
from planner.extensions import db
from planner.plans import store
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")
PHONE_WIDTH = 375
# For a failure's message: the outermost elements that stick out past the right edge of the
# screen. What scrolls inside a box is fine, unless it is positioned and so escapes the box.
STICKING_OUT = """(width) => {
  const escapes = (el) => ["absolute", "fixed"].includes(getComputedStyle(el).position);
  const inScroller = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const out = [...document.querySelectorAll("body *")].filter(
    (el) => el.getBoundingClientRect().right > width + 1 && (escapes(el) || !inScroller(el)));
  return out.filter((el) => !out.some((other) => other !== el && other.contains(el))).slice(0, 3)
    .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}"> ${el.textContent.trim().slice(0, 30)}`);
}"""

# Distinctive strings, so that finding them in the PDF proves they came from the form.
TITLE = "Harbourside Repair Network plan"
ORGANIZATION = "Zoë's café cooperative"
MISSION = "Fix things together and waste less."
SPONSOR = "Ines Balogun"
CHANNEL = "Kettle Forum thread"
GOAL = "Halve repairable waste in Harbourside"
OBJECTIVE = "Become the neighbourhood repair helpdesk"
SEGMENT = "Renters on Quay Street"
VENUE = "Quay Street tenants chat"
PERSON = "Zoë Okafor"
LISTENING_VENUE = "Harbourside subreddit"
PRACTICE = "Answer fix-it questions within a day"
PROTOCOL = "Reply within four hours, in public, then offer a call."
METRIC = "Questions answered per month"
MILESTONE = "Pilot the first live fix-along"


def add_form(page: Page, label: str) -> Locator:
    """The form that adds one kind of item: the one whose button says "Add <label>"."""
    return page.locator("form").filter(has=page.get_by_role("button", name=f"Add {label}", exact=True))


def fields_form(page: Page) -> Locator:
    """The form with the step's own plan fields."""
    return page.locator("form").filter(has=page.get_by_role("button", name="Save", exact=True))


def item_list(page: Page, label_plural: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(label_plural)}\b"))


def expect_saved(page: Page, slug: str, message: str) -> None:
    """After a POST the browser is redirected back to the step (a GET), with a message."""
    expect(page).to_have_url(re.compile(rf"/plans/\d+/steps/{slug}(#.*)?$"))
    expect(page.get_by_role("status")).to_contain_text(message)


def expect_listed(page: Page, label_plural: str, *titles: str) -> None:
    expect(item_list(page, label_plural).get_by_role("heading", level=3)).to_have_text(list(titles))


def go_next(page: Page, title: str, slug: str) -> None:
    page.get_by_role("link", name=f"{title} →").click()
    expect(page).to_have_url(re.compile(rf"/steps/{slug}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def pdf_text(data: bytes) -> str:
    """The PDF's text, with whitespace runs (line breaks included) made single spaces."""
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def test_a_new_user_writes_a_whole_plan_and_downloads_it(page: Page) -> None:
    # A newcomer signs up, and lands on their (empty) list of plans.
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill(SPONSOR)
    page.get_by_label("E-mail").fill("ines@example.org")
    page.get_by_label("Password", exact=True).fill("a long walkthrough password")
    page.get_by_label("Password again").fill("a long walkthrough password")
    page.get_by_role("button", name="Create account").click()

    # The home page: start a plan.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your plans")
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to Planner, {SPONSOR}.")
    page.get_by_label("Plan title").fill(TITLE)
    page.get_by_role("button", name="Create plan").click()

    # Step 1: the starting point, and a channel.
    expect(page).to_have_url(re.compile(r"/steps/starting-point$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Starting point")
    form = fields_form(page)
    expect(form.get_by_label("Plan title")).to_have_value(TITLE)
    form.get_by_label("Organization").fill(ORGANIZATION)
    form.get_by_label("Mission").fill(MISSION)
    form.get_by_label("Sponsor").fill(SPONSOR)
    form.get_by_label("Plan starts").fill("2025-03-01")
    form.get_by_label("Plan ends").fill("2026-02-28")
    form.get_by_label("Staff access to social sites today").select_option(value="open")
    form.get_by_label("How far leaders take part").select_option(value="active")
    form.get_by_role("button", name="Save", exact=True).click()
    expect_saved(page, "starting-point", "Starting point saved.")
    expect(fields_form(page).get_by_label("Organization")).to_have_value(ORGANIZATION)
    expect(fields_form(page).get_by_label("Staff access to social sites today")).to_have_value("open")

    form = add_form(page, "channel")
    form.get_by_label("Name", exact=True).fill(CHANNEL)
    form.get_by_label("Status").select_option(label="Planned")
    form.get_by_label("What it is for").fill("Answer repair questions where renters ask them")
    form.get_by_role("button", name="Add channel").click()
    expect_saved(page, "starting-point", "Channel added.")
    expect_listed(page, "Channels", CHANNEL)
    # With a channel listed, the add form folds away.
    expect(add_form(page, "channel")).to_be_hidden()

    # Step 2: a goal, then an objective that serves it.
    go_next(page, "Goals", "goals")
    form = add_form(page, "goal")
    form.get_by_label("Goal", exact=True).fill(GOAL)
    form.get_by_label("Why it matters").fill("Landfill fees rose again this year.")
    form.get_by_role("button", name="Add goal").click()
    expect_saved(page, "goals", "Goal added.")
    expect_listed(page, "Goals", GOAL)

    form = add_form(page, "social objective")
    form.get_by_label("Serves goal").select_option(label=GOAL)
    form.get_by_label("Objective", exact=True).fill(OBJECTIVE)
    form.get_by_label("Kind of objective").select_option(label="Build relationships")
    form.get_by_role("button", name="Add social objective").click()
    expect_saved(page, "goals", "Social objective added.")
    expect_listed(page, "Social objectives", OBJECTIVE)
    expect(item_list(page, "Social objectives")).to_contain_text(GOAL)

    # Step 3: an audience segment, with where it talks.
    go_next(page, "Audiences", "audiences")
    form = add_form(page, "audience segment")
    form.get_by_label("Name", exact=True).fill(SEGMENT)
    form.get_by_label("Priority").select_option(label="Primary")
    form.get_by_label("What they care about").fill("Deposits\nCheap fixes")
    form.get_by_label("Where they already talk").fill(VENUE)
    form.get_by_role("group", name="How they take part online").get_by_label("Conversationalists").check()
    form.get_by_role("button", name="Add audience segment").click()
    expect_saved(page, "audiences", "Audience segment added.")
    expect_listed(page, "Audience segments", SEGMENT)
    expect(item_list(page, "Audience segments")).to_contain_text(VENUE)

    # Step 4: a person. Too many hours first: the error shows beside the field, input kept.
    go_next(page, "Team", "team")
    form = add_form(page, "person")
    form.get_by_label("Name", exact=True).fill(PERSON)
    form.get_by_label("Role").fill("Volunteer coordinator")
    form.get_by_label("Is a leader of the organization").check()
    form.get_by_label("Hours per week for this plan").fill("500")
    form.get_by_role("button", name="Add person").click()
    expect(page).to_have_url(re.compile(r"/items/person/new$"))
    form = add_form(page, "person")
    hours = form.get_by_label("Hours per week for this plan")
    expect(hours).to_have_attribute("aria-invalid", "true")
    hours_field = form.locator(".field").filter(has=page.get_by_label("Hours per week for this plan"))
    expect(hours_field.get_by_role("alert")).to_have_text("Enter a number from 0 to 168.")
    expect(form.get_by_label("Name", exact=True)).to_have_value(PERSON)
    expect(form.get_by_label("Role")).to_have_value("Volunteer coordinator")
    expect(form.get_by_label("Is a leader of the organization")).to_be_checked()
    expect(hours).to_have_value("500")
    expect(item_list(page, "People").get_by_role("heading", level=3)).to_have_count(0)
    hours.fill("6")
    form.get_by_role("button", name="Add person").click()
    expect_saved(page, "team", "Person added.")
    expect_listed(page, "People", PERSON)
    expect(page.get_by_role("alert")).to_have_count(0)

    # Step 5: a listening target, for the segment, with the person listening.
    go_next(page, "Listening", "listening")
    form = add_form(page, "listening target")
    form.get_by_label("Where we listen").fill(LISTENING_VENUE)
    form.get_by_role("group", name="Whom we hear there").get_by_label(SEGMENT).check()
    form.get_by_label("Keywords and names to follow").fill("broken kettle\nrepair café")
    form.get_by_label("Which decision it informs").fill("Which repairs to teach first")
    form.get_by_label("Who listens").select_option(label=PERSON)
    form.get_by_label("How often").select_option(label="Weekly")
    form.get_by_role("button", name="Add listening target").click()
    expect_saved(page, "listening", "Listening target added.")
    expect_listed(page, "Listening targets", LISTENING_VENUE)
    expect(item_list(page, "Listening targets")).to_contain_text(PERSON)
    expect(item_list(page, "Listening targets")).to_contain_text(SEGMENT)

    # Step 6: a practice, and how we answer criticism.
    go_next(page, "Engagement", "engagement")
    form = add_form(page, "practice")
    form.get_by_label("Practice", exact=True).fill(PRACTICE)
    form.get_by_label("Serves objective").select_option(label=OBJECTIVE)
    form.get_by_role("group", name="With which audiences").get_by_label(SEGMENT).check()
    form.get_by_role("group", name="On which channels").get_by_label(CHANNEL).check()
    form.get_by_role("group", name="Who does it").get_by_label(PERSON).check()
    form.get_by_label("Hours per week").fill("3")
    form.get_by_label("How often").select_option(label="Daily")
    form.get_by_label("Mode").select_option(value="respond")
    form.get_by_role("button", name="Add practice").click()
    expect_saved(page, "engagement", "Practice added.")
    expect_listed(page, "Practices", PRACTICE)
    expect(item_list(page, "Practices")).to_contain_text("Respond")

    form = fields_form(page)
    form.get_by_label("Response protocol").fill(PROTOCOL)
    form.get_by_role("button", name="Save", exact=True).click()
    expect_saved(page, "engagement", "Engagement saved.")
    expect(fields_form(page).get_by_label("Response protocol")).to_have_value(PROTOCOL)

    # Step 7: a metric, and how often we review.
    go_next(page, "Measurement", "measurement")
    form = add_form(page, "metric")
    form.get_by_label("Measures objective").select_option(label=OBJECTIVE)
    form.get_by_label("Metric", exact=True).fill(METRIC)
    form.get_by_label("Where we are now").fill("0")
    form.get_by_label("Target", exact=True).fill("25")
    form.get_by_label("Kind", exact=True).select_option(value="engagement")
    form.get_by_role("button", name="Add metric").click()
    expect_saved(page, "measurement", "Metric added.")
    expect_listed(page, "Metrics", METRIC)

    form = fields_form(page)
    form.get_by_label("How often we review the plan").select_option(label="Monthly")
    form.get_by_role("button", name="Save", exact=True).click()
    expect_saved(page, "measurement", "Measurement saved.")

    # Step 8: a milestone.
    go_next(page, "First 90 days", "first-90-days")
    form = add_form(page, "milestone")
    form.get_by_label("Milestone", exact=True).fill(MILESTONE)
    form.get_by_label("Due").fill("2025-04-15")
    form.get_by_label("Owner").select_option(label=PERSON)
    form.get_by_role("button", name="Add milestone").click()
    expect_saved(page, "first-90-days", "Milestone added.")
    expect_listed(page, "Milestones", MILESTONE)
    expect(item_list(page, "Milestones")).to_contain_text("15 April 2025")

    # Step 9: every step is complete, and the plan downloads as a PDF.
    go_next(page, "Review", "review")
    progress = page.get_by_role("navigation", name="Steps of the plan")
    expect(progress).to_contain_text("9 of 9 steps complete")
    expect(progress.get_by_role("link", name=re.compile(r"\(complete\)"))).to_have_count(len(STEPS))
    expect(page.get_by_text("Not complete", exact=True)).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text(ORGANIZATION)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF", exact=True).click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".pdf")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    typed = (TITLE, ORGANIZATION, SPONSOR, CHANNEL, GOAL, OBJECTIVE, SEGMENT, PERSON, LISTENING_VENUE)
    missing = [words for words in (*typed, PRACTICE, PROTOCOL, METRIC, MILESTONE) if words not in text]
    assert not missing, f"missing from the PDF: {missing}"


@pytest.fixture
def filled_plan(app: Flask, example_doc: dict[str, Any], owner: Any, add_member: Any) -> int:
    """The example plan, stored, with `owner` as its facilitator; its id."""
    with app.app_context():
        plan = store.create_from_doc(example_doc["plan"])
        plan_id = plan.id
        db.session.remove()
    add_member(plan_id, owner)
    return plan_id


def test_every_step_fits_a_phone_screen(
    new_context: Callable[..., BrowserContext], filled_plan: int, owner: Any
) -> None:
    context = new_context(viewport={"width": PHONE_WIDTH, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(owner.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your plans")
    SCREENS.mkdir(parents=True, exist_ok=True)
    too_wide = {}
    pages = [("home", "/")] + [(f"{s.number}-{s.slug}", f"/plans/{filled_plan}/steps/{s.slug}") for s in STEPS]
    pages += [("members", f"/plans/{filled_plan}/members"), ("account", "/account")]
    for name, url in pages:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH + 1:
            too_wide[name] = (width, page.evaluate(STICKING_OUT, PHONE_WIDTH))
        page.screenshot(path=str(SCREENS / f"phone-{name}.png"), full_page=True)
    assert not too_wide, f"pages wider than the phone's {PHONE_WIDTH}px screen: " + "".join(
        f"\n{name}: {width}px, sticking out: {elements}" for name, (width, elements) in too_wide.items()
    )
