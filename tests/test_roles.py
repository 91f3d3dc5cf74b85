"""Every plan route checks the plan role: tried with every role, with no account, and by an outsider.

`NEEDS` is the table: each route with a `<int:plan_id>` (endpoint and method) and the least
need it asks for. `test_every_plan_route_is_in_the_table` reads the app's URL map, so a new plan
route fails the suite until it is added here. Then each route is requested as:

- nobody logged in: sent to the log-in page;
- an outsider (a member of another plan): 404, as for a plan that does not exist;
- a viewer, an editor, a facilitator of the plan: 403 when the role is too low, else let
  through (2xx or 3xx; 409 or 422 when the role was enough and the form's content decided).

Every POST carries a valid CSRF token, so a refusal is the role's doing, not the token's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from planner.accounts import membership, roles
from planner.discussion.models import Comment
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store
from planner.plans.models import Change
from tests.conftest import assert_table_covers

GOAL = ENTITY_BY_NAME["goal"]

# (endpoint, method) -> the least need: "view", "edit" or "manage".
NEEDS: dict[tuple[str, str], str] = {
    ("wizard.first_step", "GET"): "view",
    ("wizard.step", "GET"): "view",
    ("wizard.save_fields", "POST"): "edit",
    ("wizard.new_item", "GET"): "edit",
    ("wizard.add_item", "POST"): "edit",
    ("wizard.update_item", "POST"): "edit",
    ("wizard.edit_item", "GET"): "edit",
    ("wizard.move_item", "POST"): "edit",
    ("wizard.delete_item", "GET"): "edit",
    ("wizard.delete_item", "POST"): "edit",
    ("plans.rename_form", "GET"): "manage",
    ("plans.rename", "POST"): "manage",
    ("plans.duplicate", "POST"): "manage",
    ("plans.delete", "GET"): "manage",
    ("plans.delete", "POST"): "manage",
    ("documents.document", "GET"): "view",
    ("documents.pdf", "GET"): "view",
    ("documents.pdf_status", "GET"): "view",
    ("documents.markdown", "GET"): "view",
    ("documents.word", "GET"): "view",
    ("interchange.export_json", "GET"): "view",
    ("members.index", "GET"): "view",
    ("members.add", "POST"): "manage",
    ("members.change_role", "POST"): "manage",
    ("members.remove", "POST"): "manage",
    ("members.leave", "POST"): "view",  # anyone may leave; the last facilitator is refused
    ("members.invite", "POST"): "manage",
    ("members.revoke", "POST"): "manage",
    ("history.index", "GET"): "view",
    ("history.change", "GET"): "view",
    ("history.restore", "POST"): "edit",
    ("discussion.add_comment", "POST"): "view",  # viewers may comment (planner.discussion.comments.NEED)
    ("discussion.delete_comment", "POST"): "view",
    ("discussion.assign", "POST"): "manage",
    ("workshop.sessions", "GET"): "view",
    ("workshop.start", "POST"): "manage",
}

# What each POST sends: enough for the request to succeed when the role allows it.
FORMS: dict[str, Any] = {
    # Step 1 in full, so that the save is a real one (an editor's leaves the title as it is).
    "wizard.save_fields": {
        "plan-title": "Renamed by a test",
        "plan-organization": "A test's organization",
        "plan-staff_access": "partial",
        "plan-leadership_participation": "some",
    },
    "wizard.add_item": {"new-goal-statement": "A goal from a test"},
    "wizard.update_item": lambda ids: {f"goal-{ids['key']}-statement": "Changed by a test"},
    "wizard.move_item": {"direction": "down"},
    "wizard.delete_item": {"confirm": "yes"},
    "plans.rename": {"title": "Renamed by a test"},
    "members.add": {"email": "newcomer@example.org", "role": "viewer"},
    "members.change_role": {"role": "viewer"},
    "members.invite": {"role": "viewer", "days": "7"},
    "discussion.add_comment": {"step": "goals", "body": "A comment from a test"},
    "workshop.start": {"step": "goals"},
}

ACTORS = ("anonymous", "outsider", "viewer", "editor", "facilitator")


def plan_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if "<int:plan_id>" in rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_plan_route_is_in_the_table(app: Flask) -> None:
    assert_table_covers(plan_routes(app), NEEDS, "NEEDS in tests/test_roles.py")


def expected(actor: str, need: str) -> str:
    if actor == "anonymous":
        return "log in"
    if actor == "outsider":
        return "not found"
    return "let through" if roles.allows(actor, need) else "forbidden"


def outcome(response: Any) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308) and urlsplit(response.location).path == "/login":
        return "log in"
    if status == 404:
        return "not found"
    if status == 403:
        return "forbidden"
    if status < 400 or status in (409, 422):
        return "let through"
    return f"status {status}"


@pytest.fixture(autouse=True)
def _quick_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Who may download is the question here, not how the PDF looks: skip the slow drawing."""
    monkeypatch.setattr("planner.documents.routes.render_pdf", lambda *args, **kwargs: b"%PDF-1.7\n", raising=False)


@pytest.fixture
def people(facilitator: Any, editor: Any, viewer: Any, outsider: Any, add_user: Any) -> dict[str, Any]:
    add_user("newcomer@example.org", "Nia Newcomer")  # for members.add
    return {"facilitator": facilitator, "editor": editor, "viewer": viewer, "outsider": outsider}


def url_values(plan: Any, people: dict[str, Any], actor: str) -> dict[str, Any]:
    """A value for every argument a plan route may take, naming things that exist."""
    doc = store.load_doc(plan)
    key = doc["goals"][0]["key"]
    store.update_item(plan, GOAL, key, {"why": "So that history has a change to show"}, actor=people["facilitator"])
    change_id = db.session.scalar(select(Change.id).where(Change.plan_id == plan.id).order_by(Change.id.desc()))
    invitation, _token = membership.create_invitation(plan, "viewer", 7, people["facilitator"])
    # A member deletes their own comment (only the author may); others try the facilitator's.
    author = people["facilitator"] if actor in ("anonymous", "outsider") else people[actor]
    comment = Comment(plan_id=plan.id, user_id=author.id, step="goals", body="A comment to delete")
    db.session.add(comment)
    db.session.commit()
    return {
        "plan_id": plan.id,
        "slug": "starting-point",  # a step with fields of its own, so saving them is a real save
        "entity_name": "goal",
        "key": key,
        "user_id": people["viewer"].id,
        "invitation_id": invitation.id,
        "change_id": change_id,
        "comment_id": comment.id,
    }


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("endpoint", "method"), sorted(NEEDS), ids=lambda value: str(value))
def test_each_route_answers_each_role(
    app: Flask,
    example_plan: Any,
    people: dict[str, Any],
    anonymous: Any,
    as_user: Any,
    endpoint: str,
    method: str,
    actor: str,
) -> None:
    values = url_values(example_plan, people, actor)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
    unknown = set(rule.arguments) - values.keys()
    assert not unknown, f"{rule.rule}: give url_values() a value for {sorted(unknown)}"
    if endpoint == "members.change_role":
        values["user_id"] = people["editor"].id
    with app.test_request_context():
        url = url_for(endpoint, **{name: values[name] for name in rule.arguments})

    browser = anonymous if actor == "anonymous" else as_user(people[actor])
    if method == "GET":
        response = browser.get(url)
    else:
        form = FORMS.get(endpoint, {})
        response = browser.post(url, form(values) if callable(form) else form)

    assert outcome(response) == expected(actor, NEEDS[(endpoint, method)]), (
        f"{method} {url} as {actor}: {response.status_code} {response.location or ''}"
    )
