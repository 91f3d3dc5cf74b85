"""The coach and every page agree, and the coach speaks like an editor (issue 11, points 1 and 2).

What a reader would notice: the same people over their hours on the coach, the Team step and
every export; a cover that is never "ready" while a check fails; dates that make sense; the
milestones in date order wherever they are listed; and advice said once, in the reader's words,
never sending them to the page they are on.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import docx
import pytest

from planner.coach import Status, coach_report
from planner.coach.load import loads
from planner.documents import content
from planner.documents.markdown import render_markdown
from planner.documents.word import render_docx
from planner.extensions import db
from planner.interchange.example import example_document
from planner.interchange.validate import DocumentRefused, validate_document
from planner.plans import store


def doc_of(plan_id: int) -> dict[str, Any]:
    doc = store.load_doc(store.get_plan(plan_id))
    db.session.remove()
    return doc


@pytest.fixture
def plan_id(web) -> int:
    response = web.post("/plans", {"title": "Library plan"})
    return int(re.search(r"/plans/(\d+)/", response.location).group(1))


def advice_of(html: str) -> str:
    """The coach's advice box of a step page."""
    start = html.index('id="advice-heading"')
    return html[start : html.index("</aside>", start)]


# ---------------------------------------------------------------- one load, everywhere


def test_the_coach_the_document_and_every_export_name_the_same_people_over_their_hours():
    plan = example_document()["plan"]
    over = [load for load in loads(plan) if load.is_over]
    names = {p["key"]: p["name"] for p in plan["people"]}
    assert [names[load.person] for load in over] == ["Zoë Haddad", "Tom Brennan"]

    capacity = coach_report(plan).finding("capacity")
    assert capacity.status is Status.WARN
    assert [r.title for r in capacity.items] == ["Zoë Haddad", "Tom Brennan"]

    table = content.who_does_what(plan)
    assert table is not None
    marked = [row[0].value for row, mark in zip(table.rows, table.marks, strict=True) if mark == "over"]
    assert marked == ["Zoë Haddad", "Tom Brennan"]

    markdown = render_markdown(plan)
    word = "\n".join(cell.text for t in docx.Document(io.BytesIO(render_docx(plan))).tables for cell in t._cells)
    for text in (markdown, word):
        assert "3.25 h of 3 h: over by 0.25 h" in text and "1.75 h of 1 h: over by 0.75 h" in text
        assert "Zoë Haddad: 3.25 h a week of work against 3 h available, 0.25 h over." in text


def test_the_team_step_shows_each_persons_load(client, example_plan):
    html = client.get(f"/plans/{example_plan.id}/steps/team").get_data(as_text=True)
    zoe = html[html.index('id="person-p3"') :]
    zoe = zoe[: zoe.index("</li>")]
    assert '<p class="load over">This plan asks 3.25 h a week of work against 3 h available, 0.25 h over.</p>' in zoe
    dana = html[html.index('id="person-p1"') :]
    assert '<p class="load">This plan asks 2 h a week of work against 6 h available.</p>' in dana[: dana.index("</li>")]
    # The coach says it on the same page, in the same figures.
    assert "Zoë Haddad: 3.25 h a week of work against 3 h available, 0.25 h over." in advice_of(html)


# ---------------------------------------------------------------- the cover


def test_the_cover_is_never_ready_for_sign_off_while_a_check_fails():
    plan = example_document()["plan"]
    plan["staff_access"] = "blocked"  # every step still complete, but "Staff can take part" fails
    report = coach_report(plan)
    assert report.finding("open_access").status is Status.FAIL
    cover = content.build(plan, report=report).cover
    assert cover.status != content.READY
    assert cover.status == "Draft \N{EM DASH} 1 of the coach's checks fails"
    assert (content.TO_FIX, "Staff can take part") in cover.facts
    assert content.READY not in render_markdown(plan)


def test_a_ready_cover_still_names_what_the_coach_would_look_at():
    cover = content.build(example_document()["plan"]).cover
    assert cover.status == content.READY
    assert (content.TO_LOOK_AT, "Time for relationships") in cover.facts


# ---------------------------------------------------------------- dates


def test_the_starting_point_refuses_an_end_before_the_start_beside_the_field(app, web, plan_id):
    response = web.post(
        f"/plans/{plan_id}/steps/starting-point",
        {
            "plan-title": "Library plan",
            "plan-organization": "Eastside Tool Library",
            "plan-period_start": "2027-03-01",
            "plan-period_end": "2027-02-01",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = html[html.index('id="plan-period_end"') :]
    field = field[: field.index("</div>")]
    assert "The plan cannot end before it starts (1 March 2027)." in field
    with app.app_context():
        doc = doc_of(plan_id)
    assert doc["period_end"] is None and doc["organization"] is None  # nothing saved


def test_an_import_refuses_an_end_before_the_start_and_names_the_place():
    document = example_document()
    document["plan"]["period_end"] = "2027-01-31"
    with pytest.raises(DocumentRefused) as refused:
        validate_document(document)
    assert "plan.period_end: 2027-01-31 is before the plan starts (2027-03-01)" in str(refused.value)
    assert validate_document(example_document())  # the example plan still imports


def test_the_coach_names_a_milestone_past_due_on_the_milestones_step(client, example_plan):
    page = client.get(f"/plans/{example_plan.id}/steps/first-90-days").get_data(as_text=True)
    assert "was due on" not in page  # the plan starts in March 2027: nothing is late yet
    report = coach_report(doc_of(example_plan.id), today=date(2027, 3, 15))
    assert "“Listening log set up; Amara and Zoë start reading the…” was due on 12 March 2027" in (
        report.finding("reflect").message
    )


# ---------------------------------------------------------------- milestones by date


def _shuffled_milestones(plan: dict[str, Any]) -> dict[str, Any]:
    plan["milestones"].reverse()
    plan["milestones"].insert(0, {"key": "ms99", "title": "Someday, a second pilot", "owner": "p1"})
    return plan


def _in_order(text: str, titles: list[str]) -> bool:
    found = [text.index(t) for t in titles]
    return found == sorted(found)


def test_milestones_are_listed_by_date_on_their_step_and_on_the_review(client, ctx, owner, add_member):
    plan = store.create_from_doc(_shuffled_milestones(example_document()["plan"]))
    add_member(plan, owner, "facilitator")
    titles = ["The team agrees the voice", "Listening log set up", "Pilot review", "Someday, a second pilot"]
    step = client.get(f"/plans/{plan.id}/steps/first-90-days").get_data(as_text=True)
    assert _in_order(step[step.index('id="milestones"') :], titles)
    review = client.get(f"/plans/{plan.id}/steps/review").get_data(as_text=True)
    assert _in_order(review[review.index('id="overview-first-90-days"') :], titles)


def test_milestones_are_listed_by_date_in_every_export():
    plan = _shuffled_milestones(example_document()["plan"])
    titles = ["The team agrees the voice", "Listening log set up", "Pilot review", "Someday, a second pilot"]
    document = content.build(plan)
    section = next(s for s in document.sections if s.slug == "first-90-days")
    part = section.parts[0]
    listed = [row[0].value for row in part.table.rows] if part.table else [c.title for c in part.cards]
    assert _in_order("\n".join(listed), titles)
    markdown = render_markdown(plan)
    assert _in_order(markdown[markdown.index("## 8. First 90 days") :], titles)


# ---------------------------------------------------------------- the coach as an editor


def test_a_gap_is_said_once_on_its_step_and_on_the_review(client, plan_id):
    audiences = client.get(f"/plans/{plan_id}/steps/audiences").get_data(as_text=True)
    assert advice_of(audiences).count("The plan names no audience segments yet") == 1
    review = client.get(f"/plans/{plan_id}/steps/review").get_data(as_text=True)
    assert review.count("The plan names no audience segments yet") == 1
    assert review.count("The plan has no practices yet") == 1


def test_the_advice_never_links_to_the_page_the_reader_is_on(client, plan_id):
    for slug in ("starting-point", "goals", "audiences", "team", "engagement", "measurement"):
        advice = advice_of(client.get(f"/plans/{plan_id}/steps/{slug}").get_data(as_text=True))
        assert "Next:" in advice
        assert f'href="/plans/{plan_id}/steps/{slug}"' not in advice
        assert " step, " not in advice  # nor "On the Starting point step, …" while on it


def test_the_progress_bar_says_what_each_step_still_needs(client, plan_id):
    html = client.get(f"/plans/{plan_id}/steps/goals").get_data(as_text=True)
    assert "To count as complete, this step needs: at least one goal, at least one social objective." in html
    assert 'title="Needs: at least one audience segment"' in html  # another step's, on its link
    # Step 1 asks only for its own answers: the voice or the review cadence are later steps' to ask.
    first = client.get(f"/plans/{plan_id}/steps/starting-point").get_data(as_text=True)
    needs = re.search(r'class="progress-needs">([^<]+)<', first).group(1)
    assert needs == (
        "To count as complete, this step needs: organization, staff access to social sites today, "
        "how far leaders take part."
    )
    for later in ("voice", "guidelines", "response protocol", "review"):
        assert later not in needs


def test_a_form_sends_the_reader_nowhere_when_the_missing_items_belong_on_this_page(client, plan_id):
    goals = client.get(f"/plans/{plan_id}/steps/goals").get_data(as_text=True)
    assert "No goals yet: add one on this page first." in goals
    assert "add them in step 2, Goals" not in goals
    # Items added on another step are still named by their step.
    assert "No people yet: add them in step 4, Team." in client.get(f"/plans/{plan_id}/steps/starting-point").get_data(
        as_text=True
    )


def test_no_page_shows_an_items_key_or_the_stores_words(client, web, example_plan):
    history = client.get(f"/plans/{example_plan.id}/history?entity=practice&key=pr1").get_data(as_text=True)
    assert "Showing the changes of one practice." in history
    assert "(pr1)" not in history
    assert web.post(f"/plans/{example_plan.id}/items/concern/cn1/delete", {"confirm": "yes"}).status_code == 302
    index = client.get(f"/plans/{example_plan.id}/history").get_data(as_text=True)
    change_id = re.search(rf"/plans/{example_plan.id}/history/(\d+)", index).group(1)
    change = client.get(f"/plans/{example_plan.id}/history/{change_id}").get_data(as_text=True)
    assert "Restoring adds the concern again" in change
    assert "with its key if it is free" not in change


def test_the_history_shortens_long_names_at_a_word(web, client, plan_id):
    description = "Answer every repair question in the Eastside parents' groupchat before lunchtime on Saturdays"
    web.post(f"/plans/{plan_id}/items/practice/new", {"new-practice-description": description})
    history = client.get(f"/plans/{plan_id}/history").get_data(as_text=True)
    shortened = re.search(r"“([^”]*)…”", history)
    assert shortened is not None
    assert all(word in description.split() for word in shortened.group(1).replace("&#39;", "'").split())
