"""Requests a user did not mean to send: CSRF on every route that changes anything, log-in
sessions, `next` redirects, framing and the request size limit.

CSRF: `RECIPES` names every route of the URL map that takes POST, PUT, PATCH or DELETE, with the
form a real request would send. Each is sent *without* the token by someone who may do
everything (the plan's facilitator, who has also joined its workshop): the answer must be 400,
the friendly page, refused by the CSRF check itself, and the database must not change at all.
A route missing from `RECIPES` fails `test_every_state_changing_route_has_a_recipe`, so a new
route cannot be forgotten. A token from another session is refused too, in a form and in the
header the workshop's fetch() calls send.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from planner.accounts import membership, users
from planner.accounts.auth import safe_next
from planner.accounts.models import Membership, User
from planner.discussion.models import Comment
from planner.domain import ENTITY_BY_NAME
from planner.extensions import csrf, db
from planner.interchange.example import example_document
from planner.plans import store
from planner.plans.models import Change
from planner.workshop import operations as ops
from tests.conftest import PASSWORD, Web, assert_table_covers

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FRIENDLY_400 = "The form may have expired"

# endpoint -> the form a genuine request sends (all but the CSRF token).
RECIPES: dict[str, dict[str, str]] = {
    "accounts.account": {"current": PASSWORD, "password": "another long password", "confirm": "another long password"},
    "accounts.profile": {"profile-name": "Fay F.", "profile-email": "fay.f@example.org", "profile-current": PASSWORD},
    "accounts.login": {"email": "fay@example.org", "password": PASSWORD},
    "accounts.logout": {},
    "accounts.signup": {"name": "Sam", "email": "sam@example.org", "password": PASSWORD, "confirm": PASSWORD},
    "accounts.reset_request": {"email": "fay@example.org"},
    "accounts.reset_password": {"password": "another long password", "confirm": "another long password"},
    "members.accept": {},
    "members.accept_sent": {},
    "members.decline_sent": {},
    "members.add": {"email": "newcomer@example.org", "role": "viewer"},
    "members.leave": {},
    "members.change_role": {"role": "viewer"},
    "members.remove": {},
    "members.invite": {"role": "viewer", "days": "7"},
    "members.revoke": {},
    "plans.create": {"title": "A plan nobody asked for"},
    "plans.rename": {"title": "Renamed by a forged form"},
    "plans.duplicate": {},
    "plans.delete": {"confirm": "yes"},
    "interchange.import_upload": {},
    "wizard.save_fields": {"plan-title": "Changed by a forged form"},
    "wizard.add_item": {"new-goal-statement": "A forged goal"},
    "wizard.update_item": {"goal-g1-statement": "Changed by a forged form"},
    "wizard.move_item": {"direction": "down"},
    "wizard.delete_item": {"confirm": "yes"},
    "discussion.add_comment": {"step": "goals", "body": "A forged comment"},
    "discussion.delete_comment": {},
    "history.restore": {},
    "discussion.assign": {"owner": "", "due": ""},
    "workshop.start": {"step": "goals"},
    "workshop.join_code": {"code": "CODE"},
    "workshop.join": {"name": "A forged guest"},
    "workshop.add_idea": {"text": "A forged idea", "step": "goals"},
    "workshop.place_dot": {"idea": "1", "change": "add"},
    "workshop.write_card": {"text": "A forged card", "for": "Someone", "step": "goals"},
    "workshop.edit_idea": {"text": "Changed by a forged form"},
    "workshop.hide_idea": {"hidden": "1"},
    "workshop.group_idea": {"group": "GROUP"},
    "workshop.promote": {"entity": "goal"},
    "workshop.add_group": {"label": "A forged group", "step": "goals"},
    "workshop.rename_group": {"label": "Renamed by a forged form"},
    "workshop.delete_group": {},
    "workshop.move_room": {"step": "team"},
    "workshop.set_roam": {"roam": "1"},
    "workshop.configure_step": {"anonymous": "", "private": "1"},
    "workshop.reveal": {},
    "workshop.voting": {"dots": "3", "per_idea": "2"},
    "workshop.timer": {"minutes": "5"},
    "workshop.end": {},
}


def state_changing_routes(app: Flask) -> dict[str, Any]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules() if STATE_CHANGING & set(rule.methods or ())}


def test_every_state_changing_route_has_a_recipe(app: Flask) -> None:
    assert_table_covers(state_changing_routes(app), RECIPES, "RECIPES in tests/test_csrf_everywhere.py")


# ---------------------------------------------------------------- a world with one of everything


@pytest.fixture
def world(app: Flask, owner: User, add_user: Any, web: Web) -> dict[str, Any]:
    """Ids of real things for every argument a route takes; `web` (the facilitator) has joined the workshop.

    Built in an app context of its own, closed before any request: a request made while a test
    holds one would share its database session (and, on SQLite, its stale snapshot)."""
    editor = add_user("eddie@example.org", "Eddie Editor")
    add_user("newcomer@example.org", "Nia Newcomer")  # for members.add
    with app.app_context():
        plan = store.create_from_doc(example_document()["plan"])
        db.session.add(Membership(plan_id=plan.id, user_id=owner.id, role="facilitator"))
        db.session.add(Membership(plan_id=plan.id, user_id=editor.id, role="editor"))
        db.session.commit()
        key = store.load_doc(plan)["goals"][0]["key"]
        store.update_item(plan, ENTITY_BY_NAME["goal"], key, {"why": "So that history has a change"}, actor=owner)
        comment = Comment(plan_id=plan.id, user_id=owner.id, step="goals", body="A comment to keep")
        db.session.add(comment)
        db.session.commit()
        invitation, invitation_token = membership.create_invitation(plan, "viewer", 7, owner)
        ws = ops.start_session(plan, owner, "goals")
        idea = ops.add_idea(ws, None, "goals", "An idea to keep", written_for="Ana")
        group = ops.add_group(ws, "goals", "A group to keep")
        values = {
            "plan_id": plan.id,
            "comment_id": comment.id,
            "change_id": db.session.scalar(select(func.max(Change.id)).where(Change.plan_id == plan.id)),
            "invitation_id": invitation.id,
            "user_id": editor.id,
            "entity_name": "goal",
            "key": key,
            "slug": "starting-point",
            "code": ws.code,
            "number": idea.number,
            "group_id": group.id,
            "token": {
                "members.accept": invitation_token,
                "accounts.reset_password": users.reset_token(db.session.get(User, owner.id)),
            },
        }
        db.session.remove()
    assert web.post(f"/join/{values['code']}").status_code in (302, 303)
    return {"plan_id": values["plan_id"], "values": values, "code": values["code"], "editor": editor}


def url_of(app: Flask, rule: Any, values: dict[str, Any]) -> str:
    args = {}
    for name in rule.arguments:
        assert name in values, f"{rule.rule}: give world() a value for {name!r}"
        value = values[name]
        args[name] = value[rule.endpoint] if isinstance(value, dict) else value
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def table_rows(app: Flask) -> dict[str, list[str]]:
    """Every row of every table: what a refused request must leave exactly as it was."""
    with app.app_context(), db.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in db.metadata.sorted_tables}


def snapshot(app: Flask, plan_id: int) -> dict[str, Any]:
    """Every row of every table, and the plan as its JSON export would have it."""
    with app.app_context():
        plan = store.load_doc(store.get_plan(plan_id))
        db.session.remove()
    return {"rows": table_rows(app), "plan": plan}


@pytest.fixture
def csrf_refusals(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reason of every request the CSRF check refused, so a 400 is known to be its doing."""
    refused: list[str] = []
    real_protect = csrf.protect

    def spy(*args: Any, **kwargs: Any) -> None:
        try:
            real_protect(*args, **kwargs)
        except Exception as error:
            refused.append(getattr(error, "description", str(error)))
            raise

    monkeypatch.setattr(csrf, "protect", spy)
    return refused


# ---------------------------------------------------------------- without the token


def test_every_state_changing_route_refuses_a_request_without_the_token(
    app: Flask, web: Web, world: dict[str, Any], csrf_refusals: list[str]
) -> None:
    values = dict(world["values"])
    failures = []
    before = snapshot(app, world["plan_id"])
    for endpoint, rule in sorted(state_changing_routes(app).items()):
        url = url_of(app, rule, values)
        form = {
            name: world["code"] if value == "CODE" else str(values["group_id"]) if value == "GROUP" else value
            for name, value in RECIPES[endpoint].items()
        }
        for method in sorted(STATE_CHANGING & set(rule.methods)):
            refused = len(csrf_refusals)
            response = web.client.open(url, method=method, data=form)
            page = response.get_data(as_text=True)
            if response.status_code != 400 or FRIENDLY_400 not in page:
                failures.append(f"{method} {url}: {response.status_code}")
            elif len(csrf_refusals) != refused + 1 or "CSRF token is missing" not in csrf_refusals[-1]:
                failures.append(f"{method} {url}: a 400, but not from the CSRF check")
            elif table_rows(app) != before["rows"]:
                failures.append(f"{method} {url}: refused, but the database changed")
                before = snapshot(app, world["plan_id"])  # judge the next route on its own
    assert not failures
    assert snapshot(app, world["plan_id"])["plan"] == before["plan"]


def test_a_fetch_without_the_token_is_refused(app: Flask, web: Web, world: dict[str, Any]) -> None:
    """The workshop's script sends the token in a header; leaving it out is refused alike."""
    before = snapshot(app, world["plan_id"])
    response = web.client.post(
        f"/workshop/{world['code']}/room/step", data={"step": "team"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert snapshot(app, world["plan_id"]) == before


def test_a_token_from_another_session_is_refused(
    app: Flask, web: Web, world: dict[str, Any], as_user: Any, csrf_refusals: list[str]
) -> None:
    plan_id, code = world["plan_id"], world["code"]
    theirs = as_user(world["editor"]).token()
    before = snapshot(app, plan_id)
    # In a form ...
    response = web.client.post(f"/plans/{plan_id}/rename", data={"title": "Forged", "csrf_token": theirs})
    assert response.status_code == 400 and FRIENDLY_400 in response.get_data(as_text=True)
    # ... and in the header the workshop's fetch() calls send.
    response = web.client.post(
        f"/workshop/{code}/room/step",
        data={"step": "team"},
        headers={"X-CSRFToken": theirs, "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert csrf_refusals == ["The CSRF tokens do not match."] * 2
    assert snapshot(app, plan_id) == before
    # The facilitator's own token works, so it was the token that was refused.
    mine = web.client.post(f"/plans/{plan_id}/rename", data={"title": "Renamed", "csrf_token": web.token()})
    assert mine.status_code == 302
    assert snapshot(app, plan_id)["plan"]["title"] == "Renamed"


# ---------------------------------------------------------------- log-in sessions


def log_in(browser: Web, email: str, next_url: str = "") -> Any:
    browser._token = None  # the token of the session as it is now
    response = browser.post(f"/login{next_url}", {"email": email, "password": PASSWORD})
    browser._token = None
    return response


def session_cookie(browser: Web) -> str:
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_logging_in_replaces_the_session_and_everything_in_it(anonymous: Web, owner: User, add_user: Any) -> None:
    """Beyond tests/test_accounts.py: the cookie itself changes, and stale log-in state
    (`_fresh`, a remembered user id, a flash meant for the visitor) does not carry over."""
    anonymous.get("/login")
    with anonymous.client.session_transaction() as session:
        session["_fresh"] = False
        session["_id"] = "a planted identifier"
        session["_flashes"] = [("info", "a planted message")]
    before = session_cookie(anonymous)
    assert log_in(anonymous, owner.email).status_code == 302
    after = session_cookie(anonymous)
    assert after != before
    with anonymous.client.session_transaction() as session:
        assert session["_fresh"] is True
        assert session.get("_id") != "a planted identifier"
        assert "a planted message" not in str(session.get("_flashes"))
        assert session["_user_id"].startswith(f"{owner.id}:")

    # Logging in as someone else in the same browser starts afresh again.
    other = add_user("olga@example.org")
    anonymous.post("/logout")
    assert log_in(anonymous, other.email).status_code == 302
    with anonymous.client.session_transaction() as session:
        assert session["_user_id"].startswith(f"{other.id}:")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "https:evil.example",
        "https:/evil.example",
        "http:\\\\evil.example",
        "%2F%2Fevil.example",
        "/%09/evil.example",
        "%2F%5Cevil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        " //evil.example",
        "//evil.example%2F..",
        "https://localhost@evil.example/",
        "https://evil.example\\@localhost/",
        "data:text/html,<script>alert(1)</script>",
        "JaVaScRiPt:alert(1)",
        "///evil.example",
        "/ /evil.example",
    ],
)
def test_next_cannot_send_anyone_elsewhere(app: Flask, anonymous: Web, owner: User, target: str) -> None:
    """Beyond tests/test_accounts.py: schemes without slashes, encoded and whitespace tricks."""
    response = log_in(anonymous, owner.email, f"?next={quote(target, safe='%')}")
    assert response.status_code == 302
    assert stays_on_the_site(response.location), response.location
    with app.test_request_context(base_url="http://localhost"):
        kept = safe_next(target)
    assert kept is None or stays_on_the_site(kept), kept


def stays_on_the_site(location: str) -> bool:
    """Whether a browser would read `location` as a path here: browsers drop tabs and newlines
    from URLs, read a backslash as a slash, and ignore leading spaces."""
    seen = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    parts = urlsplit(seen)
    return not parts.scheme and not parts.netloc and seen.startswith("/") and not seen.startswith("//")


# ---------------------------------------------------------------- framing


def test_no_page_can_be_framed_not_even_an_error(
    app: Flask, web: Web, anonymous: Web, world: dict[str, Any], as_user: Any, add_user: Any, failing_app: Flask
) -> None:
    """Every page of the URL map is walked in tests/test_security_payloads.py; here the error
    pages and the projector (the page most likely to be put in a frame on purpose)."""
    plan_id, code = world["plan_id"], world["code"]
    answers = {
        "projector": web.get(f"/workshop/{code}/projector"),
        "400": web.client.post(f"/plans/{plan_id}/rename", data={"title": "x"}),
        "403": as_user(world["editor"]).post(f"/plans/{plan_id}/rename", {"title": "x"}),
        "404": web.get("/no/such/page"),
        "405": web.get("/logout"),
        "413": anonymous.client.post("/login", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)),
        "500": failing_app.test_client().get("/fail"),
    }
    for name, response in answers.items():
        if name.isdigit():
            assert response.status_code == int(name), name
        assert response.headers.get("X-Frame-Options") == "DENY", name
        assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), name
        response.close()


# ---------------------------------------------------------------- size


def test_a_request_above_the_limit_gets_413_anywhere_and_changes_nothing(
    app: Flask, web: Web, world: dict[str, Any]
) -> None:
    """tests/test_security_headers.py checks the log-in form; this is a signed-in write."""
    plan_id = world["plan_id"]
    before = snapshot(app, plan_id)
    huge = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = web.post(f"/plans/{plan_id}/comments", {"step": "goals", "body": huge})
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)
    assert snapshot(app, plan_id) == before


def test_a_csrf_token_is_on_every_form(web: Web, world: dict[str, Any]) -> None:
    """The other half of the bargain: every POST form the pages show carries the token."""
    plan_id = world["plan_id"]
    pages = [f"/plans/{plan_id}/steps/goals", f"/plans/{plan_id}/members", f"/workshop/{world['code']}/console"]
    for url in pages:
        html = web.get(url).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", html, flags=re.S | re.I)
        assert forms, url
        for form in forms:
            # A prefixed form's token is "<prefix>-csrf_token"; Flask-WTF reads any field ending so.
            assert re.search(r'name="([\w-]+-)?csrf_token"', form), f"{url}: {form[:80]}"
