"""The wizard through HTTP: steps, items added, edited, moved and deleted, errors kept."""

from __future__ import annotations

import re

import pytest

from planner.domain import STEPS
from planner.extensions import db
from planner.plans import store


@pytest.fixture
def plan_id(web) -> int:
    response = web.post("/plans", {"title": "Library plan"})
    assert response.status_code == 302
    return int(re.search(r"/plans/(\d+)/", response.location).group(1))


def doc_of(app, plan_id: int) -> dict:
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan_id))
        db.session.remove()
        return doc


def errors(response) -> list[str]:
    return re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.slug)
def test_every_step_has_its_own_page_with_prompt_and_example(web, plan_id, step):
    page = web.get(f"/plans/{plan_id}/steps/{step.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<h1 id="step-heading">{step.title}</h1>' in html
    assert step.prompt.split(":")[0] in html
    if step.example:
        assert "Example" in html
    # The progress bar links every step.
    for other in STEPS:
        assert f'href="/plans/{plan_id}/steps/{other.slug}"' in html


def test_unknown_plan_step_entity_and_item_answer_404(web, plan_id):
    assert web.get("/plans/999/steps/goals").status_code == 404
    assert web.get(f"/plans/{plan_id}/steps/nowhere").status_code == 404
    assert web.post(f"/plans/{plan_id}/items/unicorn/new", {}).status_code == 404
    assert web.post(f"/plans/{plan_id}/items/goal/g42", {"goal-g42-statement": "x"}).status_code == 404
    assert web.get(f"/plans/{plan_id}/items/goal/g42/delete").status_code == 404


def test_plan_fields_are_saved_and_shown_again(app, web, plan_id):
    response = web.post(
        f"/plans/{plan_id}/steps/starting-point",
        {
            "plan-title": "Library plan",
            "plan-organization": "Eastside Tool Library",
            "plan-period_start": "2027-01-01",
            "plan-period_end": "2027-12-31",
            "plan-staff_access": "partial",
            "plan-leadership_participation": "some",
        },
    )
    assert response.status_code == 302
    doc = doc_of(app, plan_id)
    assert doc["organization"] == "Eastside Tool Library"
    assert doc["period_start"] == "2027-01-01"
    assert doc["staff_access"] == "partial"
    page = web.get(response.location).get_data(as_text=True)
    assert 'value="Eastside Tool Library"' in page
    assert "Starting point saved." in page


def test_items_are_added_edited_and_references_picked_from_the_plan(app, web, plan_id):
    assert web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "More borrowing"}).status_code == 302
    response = web.post(
        f"/plans/{plan_id}/items/objective/new",
        {
            "new-objective-statement": "Answer repair questions",
            "new-objective-goal": "g1",
            "new-objective-kind": "provide_support",
        },
    )
    assert response.status_code == 302
    assert response.location.endswith("/steps/goals#objective-o1")
    page = web.get(f"/plans/{plan_id}/steps/goals").get_data(as_text=True)
    # The objective's goal is shown by name, and its edit form offers the plan's own goals.
    assert "<dd>More borrowing</dd>" in page
    editor = web.get(f"/plans/{plan_id}/items/objective/o1/edit").get_data(as_text=True)
    assert '<option selected value="g1">More borrowing</option>' in editor
    fragment = web.get(f"/plans/{plan_id}/items/objective/o1/edit?fragment=1").get_data(as_text=True)
    assert fragment.lstrip().startswith("<form") and 'value="Answer repair questions"' in fragment
    assert "<dd>Provide support</dd>" in page

    response = web.post(
        f"/plans/{plan_id}/items/goal/g1",
        {"goal-g1-statement": "Households borrow instead of buying", "goal-g1-why": "Less waste"},
    )
    assert response.status_code == 302
    doc = doc_of(app, plan_id)
    assert doc["goals"] == [{"key": "g1", "statement": "Households borrow instead of buying", "why": "Less waste"}]
    assert doc["objectives"][0]["goal"] == "g1"


def test_reference_lists_keep_their_choices(app, web, plan_id):
    for name in ("Ana", "Bo", "Cy"):
        web.post(f"/plans/{plan_id}/items/person/new", {"new-person-name": name, "new-person-hours_per_week": "2"})
    response = web.post(
        f"/plans/{plan_id}/items/practice/new",
        {
            "new-practice-description": "Answer questions in the parents' group",
            "new-practice-owners": ["p3", "p1"],
            "new-practice-mode": "respond",
            "new-practice-hours_per_week": "1.5",
        },
    )
    assert response.status_code == 302
    practice = doc_of(app, plan_id)["practices"][0]
    assert set(practice["owners"]) == {"p1", "p3"}
    assert practice["hours_per_week"] == 1.5
    page = web.get(f"/plans/{plan_id}/steps/engagement").get_data(as_text=True)
    assert re.search(r"<li>(Ana|Cy)</li><li>(Cy|Ana)</li>", page)


def test_validation_errors_show_beside_the_field_and_keep_the_input(app, web, plan_id):
    response = web.post(
        f"/plans/{plan_id}/items/person/new",
        {"new-person-name": "Zoë Fischer", "new-person-role": "Volunteer lead", "new-person-hours_per_week": "500"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert errors(response) == ["Enter a number from 0 to 168."]
    assert 'value="Zoë Fischer"' in html
    assert 'value="Volunteer lead"' in html
    # The failed form is open, so the person sees it without hunting.
    assert '<details class="add card" id="new-person" open>' in html
    assert doc_of(app, plan_id)["people"] == []


def test_a_required_field_left_empty_is_refused_and_nothing_saved(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "Keep me"})
    response = web.post(f"/plans/{plan_id}/items/goal/g1", {"goal-g1-statement": "  ", "goal-g1-why": "typed"})
    assert response.status_code == 422
    assert errors(response) == ["This is required."]
    assert re.search(r">\s*typed</textarea>", response.get_data(as_text=True))
    assert doc_of(app, plan_id)["goals"][0]["statement"] == "Keep me"


def test_too_long_text_is_refused(app, web, plan_id):
    response = web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "x" * 201})
    assert response.status_code == 422
    assert errors(response) == ["Field cannot be longer than 200 characters."]


def test_plan_title_cannot_be_emptied(app, web, plan_id):
    response = web.post(f"/plans/{plan_id}/steps/starting-point", {"plan-title": ""})
    assert response.status_code == 422
    assert doc_of(app, plan_id)["title"] == "Library plan"


# ---------------------------------------------------------------- renaming is the facilitator's

STARTING_POINT = {
    "plan-organization": "Eastside Tool Library",
    "plan-staff_access": "partial",
    "plan-leadership_participation": "some",
}


@pytest.fixture
def editor_web(add_user, add_member, as_user, plan_id):
    user = add_user("eddie@example.org", "Eddie Editor")
    add_member(plan_id, user, "editor")
    return as_user(user)


def title_input(html: str) -> str:
    return re.search(r'<input[^>]*name="plan-title"[^>]*>', html).group(0)


def test_an_editor_sees_the_title_read_only_with_who_can_change_it(web, editor_web, plan_id):
    page = editor_web.get(f"/plans/{plan_id}/steps/starting-point").get_data(as_text=True)
    assert "readonly" in title_input(page) and 'value="Library plan"' in title_input(page)
    assert "Only a facilitator can rename the plan." in page
    mine = web.get(f"/plans/{plan_id}/steps/starting-point").get_data(as_text=True)
    assert "readonly" not in title_input(mine) and "Only a facilitator can rename the plan." not in mine


def test_an_editor_saves_step_1_but_cannot_rename_the_plan_through_it(app, editor_web, plan_id):
    response = editor_web.post(
        f"/plans/{plan_id}/steps/starting-point", {"plan-title": "Renamed by an editor", **STARTING_POINT}
    )
    assert response.status_code == 302
    doc = doc_of(app, plan_id)
    assert doc["title"] == "Library plan"
    assert doc["organization"] == "Eastside Tool Library"  # the rest of the step is saved
    page = editor_web.get(response.location).get_data(as_text=True)
    assert "Starting point saved." in page
    assert "Plan title not changed. Only a facilitator can rename the plan." in page


def test_an_editor_sending_step_1_without_the_title_keeps_it(app, editor_web, plan_id):
    assert editor_web.post(f"/plans/{plan_id}/steps/starting-point", STARTING_POINT).status_code == 302
    assert doc_of(app, plan_id)["title"] == "Library plan"
    assert doc_of(app, plan_id)["organization"] == "Eastside Tool Library"


def test_a_facilitator_renames_the_plan_through_step_1(app, web, plan_id):
    response = web.post(f"/plans/{plan_id}/steps/starting-point", {"plan-title": "Tool library plan", **STARTING_POINT})
    assert response.status_code == 302
    assert doc_of(app, plan_id)["title"] == "Tool library plan"
    assert "not changed" not in web.get(response.location).get_data(as_text=True)


def test_lists_are_typed_one_per_line(app, web, plan_id):
    web.post(
        f"/plans/{plan_id}/items/segment/new",
        {"new-segment-name": "New parents", "new-segment-venues": "Parents' group\n\n  School board  \n"},
    )
    assert doc_of(app, plan_id)["segments"][0]["venues"] == ["Parents' group", "School board"]


def test_items_are_reordered(app, web, plan_id):
    for statement in ("First", "Second", "Third"):
        web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": statement})
    web.post(f"/plans/{plan_id}/items/goal/g3/move", {"direction": "up"})
    assert [g["statement"] for g in doc_of(app, plan_id)["goals"]] == ["First", "Third", "Second"]
    web.post(f"/plans/{plan_id}/items/goal/g1/move", {"direction": "down"})
    assert [g["statement"] for g in doc_of(app, plan_id)["goals"]] == ["Third", "First", "Second"]
    # Moving past the end changes nothing.
    web.post(f"/plans/{plan_id}/items/goal/g2/move", {"direction": "down"})
    assert [g["statement"] for g in doc_of(app, plan_id)["goals"]] == ["Third", "First", "Second"]


def test_deleting_an_unreferenced_item_needs_no_confirmation(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/concern/new", {"new-concern-concern": "Trolls"})
    response = web.post(f"/plans/{plan_id}/items/concern/cn1/delete")
    assert response.status_code == 302
    assert doc_of(app, plan_id)["concerns"] == []


def test_deleting_a_referenced_item_says_what_refers_to_it_and_asks(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "More borrowing"})
    web.post(
        f"/plans/{plan_id}/items/objective/new", {"new-objective-statement": "Be asked", "new-objective-goal": "g1"}
    )
    web.post(f"/plans/{plan_id}/items/person/new", {"new-person-name": "Ana"})
    web.post(f"/plans/{plan_id}/items/milestone/new", {"new-milestone-title": "Pilot", "new-milestone-owner": "p1"})

    # Asked first: nothing is deleted yet.
    response = web.post(f"/plans/{plan_id}/items/person/p1/delete")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Milestone “Pilot” (owner)" in html
    assert "the reference will be removed" in html
    assert len(doc_of(app, plan_id)["people"]) == 1

    response = web.post(f"/plans/{plan_id}/items/person/p1/delete", {"confirm": "yes"})
    assert response.status_code == 302
    doc = doc_of(app, plan_id)
    assert doc["people"] == []
    assert doc["milestones"][0]["owner"] is None

    # An objective cannot exist without its goal: the page says it goes too.
    html = web.get(f"/plans/{plan_id}/items/goal/g1/delete").get_data(as_text=True)
    assert "Social objective “Be asked”" in html and "will be deleted too" in html
    web.post(f"/plans/{plan_id}/items/goal/g1/delete", {"confirm": "yes"})
    doc = doc_of(app, plan_id)
    assert doc["goals"] == [] and doc["objectives"] == []


def test_progress_marks_steps_complete_when_required_items_are_filled(web, plan_id):
    page = web.get(f"/plans/{plan_id}/steps/team").get_data(as_text=True)
    assert "0 of 9 steps complete" in page
    web.post(f"/plans/{plan_id}/items/person/new", {"new-person-name": "Ana"})
    page = web.get(f"/plans/{plan_id}/steps/team").get_data(as_text=True)
    assert "1 of 9 steps complete" in page
    assert re.search(r'<li class="complete current">\s*<a href="/plans/\d+/steps/team"', page)


def test_review_shows_the_whole_plan_with_names(example_plan, web):
    html = web.get(f"/plans/{example_plan.id}/steps/review").get_data(as_text=True)
    doc = store.load_doc(example_plan)
    for collection in ("goals", "segments", "people", "practices", "milestones"):
        for item in doc[collection]:
            title = next(v for k, v in item.items() if k != "key" and isinstance(v, str))
            assert title.replace("'", "&#39;").replace('"', "&#34;") in html


def test_a_post_without_csrf_token_is_refused(app, client, web, plan_id):
    response = client.post(f"/plans/{plan_id}/items/goal/new", data={"new-goal-statement": "Sneaky"})
    assert response.status_code == 400
    assert doc_of(app, plan_id)["goals"] == []


def test_step_pages_escape_what_people_type(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "<script>alert(1)</script>"})
    html = web.get(f"/plans/{plan_id}/steps/goals").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_failed_form_leaves_the_other_forms_on_the_page_as_saved(app, web, plan_id):
    web.post(
        f"/plans/{plan_id}/steps/starting-point",
        {"plan-title": "Library plan", "plan-staff_access": "partial", "plan-leadership_participation": "some"},
    )
    response = web.post(f"/plans/{plan_id}/items/channel/new", {"new-channel-name": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The plan's own answers on the same page still show what was saved, not the failed POST.
    assert '<option selected value="partial">' in html
    assert '<option selected value="some">' in html


def test_each_item_has_an_edit_page_that_works_without_script(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/person/new", {"new-person-name": "Dana", "new-person-is_leader": "y"})
    page = web.get(f"/plans/{plan_id}/steps/team").get_data(as_text=True)
    assert f'href="/plans/{plan_id}/items/person/p1/edit"' in page
    editor = web.get(f"/plans/{plan_id}/items/person/p1/edit").get_data(as_text=True)
    assert re.search(r'<input checked id="person-p1-is_leader"', editor)
    assert web.get(f"/plans/{plan_id}/items/person/p9/edit").status_code == 404


def test_checkbox_lists_draw_the_html_wtforms_would_with_every_label_escaped(app) -> None:
    """The wizard draws checkbox lists itself, for speed; the HTML must stay WTForms' own."""
    from flask_wtf import FlaskForm
    from wtforms.fields.choices import SelectChoice
    from wtforms.widgets import ListWidget

    from planner.wizard.forms import CheckboxesField

    class Form(FlaskForm):
        pick = CheckboxesField(
            "Pick",
            choices=[
                SelectChoice("a&b", 'Tom & "Jerry"'),
                SelectChoice("<x>", "<script>alert(1)</script>"),
                SelectChoice("c", "Plain"),
            ],
        )

    with app.test_request_context():
        form = Form(meta={"csrf": False}, data={"pick": ["<x>", "c"]})
        ours = form.pick(class_="checks")
        theirs = ListWidget(prefix_label=False)(form.pick, class_="checks")
    assert str(ours) == str(theirs)
    assert "<script>" not in ours and "&lt;script&gt;" in ours
    assert ours.count("checked") == 2


# ---------------------------------------------------------------- add forms, drawn when asked for


def test_a_listed_kind_offers_add_on_request_with_a_page_that_works_without_script(web, plan_id):
    """An empty list shows its add form open; once the list has items, the page carries an "Add"
    button instead (no form with every reference as a choice), which opens a page of its own,
    or (with the page's script) just the form in place."""
    goals = f"/plans/{plan_id}/steps/goals"
    assert '<details class="add card" id="new-goal" open>' in web.get(goals).get_data(as_text=True)
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "More borrowing"})
    html = web.get(goals).get_data(as_text=True)
    assert 'name="new-goal-statement"' not in html
    assert re.search(
        rf'<a class="button" href="/plans/{plan_id}/items/goal/new"\s+'
        rf'data-inline-edit="/plans/{plan_id}/items/goal/new\?fragment=1"\s+aria-expanded="false">Add a goal</a>',
        html,
    )
    # The objectives' list is empty: its form is open on the page, offering the goal.
    assert re.search(r'<option value="g1">More borrowing</option>', html)

    own_page = web.get(f"/plans/{plan_id}/items/goal/new").get_data(as_text=True)
    assert "<h1>Add a goal</h1>" in own_page and 'name="new-goal-statement"' in own_page
    assert f'class="button cancel" href="/plans/{plan_id}/steps/goals#new-goal">Cancel</a>' in own_page
    fragment = web.get(f"/plans/{plan_id}/items/goal/new?fragment=1").get_data(as_text=True)
    assert fragment.lstrip().startswith("<form") and 'name="new-goal-csrf_token"' in fragment
    assert web.get(f"/plans/{plan_id}/items/unicorn/new").status_code == 404


def test_an_add_form_opened_on_request_and_sent_back_with_errors_shows_in_place(app, web, plan_id):
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "More borrowing"})
    form = web.get(f"/plans/{plan_id}/items/objective/new?fragment=1").get_data(as_text=True)
    assert '<option value="g1">More borrowing</option>' in form  # its references' choices
    web.post(f"/plans/{plan_id}/items/objective/new", {"new-objective-statement": "First", "new-objective-goal": "g1"})
    response = web.post(
        f"/plans/{plan_id}/items/objective/new", {"new-objective-statement": "x" * 5000, "new-objective-goal": "g1"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<details class="add card" id="new-objective" open>' in html
    assert "x" * 5000 in html and 'role="alert"' in html
    assert re.search(r'<option selected value="g1">More borrowing</option>', html)
    assert [o["statement"] for o in doc_of(app, plan_id)["objectives"]] == ["First"]


def test_an_item_form_and_its_save_read_only_the_kinds_it_shows(app, client, web, plan_id):
    """Not the whole plan: a segment's form offers no references, so neither opening it nor
    saving it reads any other kind of item; a practice's reads the kinds it points to."""
    from tests.test_query_counts import counting_queries

    web.post(f"/plans/{plan_id}/items/segment/new", {"new-segment-name": "Parents"})
    web.post(f"/plans/{plan_id}/items/goal/new", {"new-goal-statement": "More borrowing"})
    with app.app_context():
        engine = db.engine

    def tables_read(method: str, url: str, data: dict | None = None) -> set[str]:
        with counting_queries(engine) as statements:
            response = web.get(url) if method == "GET" else web.post(url, data)
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
        return {m for s in statements if s.lstrip().upper().startswith("SELECT") for m in re.findall(r"FROM (\w+)", s)}

    others = {"goals", "objectives", "people", "channels", "listening_targets", "practices", "concerns", "metrics"}
    others |= {"milestones"}
    edit = tables_read("GET", f"/plans/{plan_id}/items/segment/s1/edit?fragment=1")
    page = web.get(f"/plans/{plan_id}/items/segment/s1/edit").get_data(as_text=True)
    version = re.search(r'name="base_version" value="(\d+)"', page).group(1)
    sent = {"segment-s1-name": "Parents of toddlers", "base_version": version}
    save = tables_read("POST", f"/plans/{plan_id}/items/segment/s1", sent)
    add_form = tables_read("GET", f"/plans/{plan_id}/items/segment/new?fragment=1")
    assert not (edit | save | add_form) & others, (edit, save, add_form)
    practice = tables_read("GET", f"/plans/{plan_id}/items/practice/new?fragment=1")
    assert practice & others == {"objectives", "channels", "people"}
