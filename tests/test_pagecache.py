"""Step pages keep values worked out from the plan per revision (`planner.plans.cached`), never
HTML: what they show must be exactly what a page worked out anew would show, to each member,
whoever opened it first.

The rest of the suite runs with the values kept too (`PAGE_CACHE` is on in TestConfig, and
tests/conftest.py empties them between tests); these tests aim at what could leak between
members through anything kept: a CSRF token, a role's buttons, someone's changed marks, their
comments' Delete buttons, a form sent back with errors, a day-old "overdue".
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from planner.accounts.models import Membership
from planner.discussion import assignments
from planner.domain import STEPS
from planner.extensions import db
from planner.models import utcnow
from planner.plans import cached

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def page(web: Any, url: str) -> str:
    response = web.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def tokens_named(html: str) -> str:
    """The page with its session's CSRF token written as TOKEN: two requests of one session
    may sign it at different seconds. A token that is not the page's own stays as it is."""
    token = CSRF_META.search(html).group(1)
    return html.replace(token, "TOKEN")


def drawn_anew(app: Any, web: Any, url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as anew:
        anew.setitem(app.config, "PAGE_CACHE", False)
        return page(web, url)


def rename_segment(web: Any, plan_id: int, key: str, name: str) -> None:
    """Save an audience segment's edit form with a new name (its other fields cleared)."""
    edit = page(web, f"/plans/{plan_id}/items/segment/{key}/edit")
    version = re.search(r'name="base_version" value="(\d+)"', edit).group(1)
    saved = web.post(
        f"/plans/{plan_id}/items/segment/{key}",
        {f"segment-{key}-name": name, f"segment-{key}-priority": "primary", "base_version": version},
    )
    assert saved.status_code == 302


@pytest.fixture
def team(
    app: Any, web: Any, as_user: Any, add_user: Any, add_member: Any, example_plan: Any, editor: Any, viewer: Any
) -> dict[str, Any]:
    """The example plan with comments by two people, a step owner, and changes made since the
    editor's last visit, so that every member's page has something of their own. A second
    editor, with the same role and nothing of their own, is shown what the first one's is not."""
    plan_id = example_plan.id
    as_editor, as_viewer = as_user(editor), as_user(viewer)
    second = add_user("edna@example.org", "Edna Editor")
    add_member(example_plan, second, "editor")
    page(as_editor, f"/plans/{plan_id}/steps/audiences")  # a visit, which the changes come after
    db.session.execute(
        update(Membership).where(Membership.user_id == editor.id).values(current_visit_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()
    for who, body, where in [
        (as_editor, "Eddie on the parents", {"step": "audiences", "entity": "segment", "key": "s1"}),
        (web, "Owner on the parents", {"step": "audiences", "entity": "segment", "key": "s1"}),
        (web, "Owner on the step", {"step": "audiences"}),
        (as_editor, "Eddie on the channels", {"step": "listening"}),
    ]:
        assert who.post(f"/plans/{plan_id}/comments", {"body": body, **where}).status_code == 302
    web.post(f"/plans/{plan_id}/steps/audiences/assignment", {"owner": str(editor.id), "due": "2031-03-14"})
    rename_segment(web, plan_id, "s2", "Renters by the river")
    return {"plan_id": plan_id, "owner": web, "editor": as_editor, "viewer": as_viewer, "second": as_user(second)}


def test_every_step_page_shows_each_member_what_a_page_drawn_anew_shows(
    app: Any, team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [team["viewer"], team["owner"], team["editor"], team["second"]]
    for step in STEPS:
        url = f"/plans/{team['plan_id']}/steps/{step.slug}"
        # Each member in turn, so that each meets the parts the one before them drew.
        for _ in range(2):
            kept = [page(web, url) for web in members]
        for web, shown in zip(members, kept, strict=True):
            assert tokens_named(shown) == tokens_named(drawn_anew(app, web, url, monkeypatch)), step.slug

    audiences = f"/plans/{team['plan_id']}/steps/audiences"
    viewers, owners, editors, seconds = (page(web, audiences) for web in members)
    # What differs between them is there: the editor's changed mark, each one's own Delete.
    assert "Changed</a>" in editors and "Changed</a>" not in owners + seconds
    assert editors.count('class="link-button danger">Delete</button>') == 1
    assert owners.count('class="link-button danger">Delete</button>') == 2
    assert "Delete</button>" not in viewers + seconds.replace('class="danger small">Delete', "")
    assert "Add comment" in viewers and "Add comment" in seconds  # viewers may comment too


def test_each_member_is_shown_the_csrf_token_of_their_own_session(team: dict[str, Any]) -> None:
    """Was: a kept part carries the token of whoever is shown it. Parts are no longer kept; the
    same is asserted of the step page and of the add form it opens on demand."""
    url = f"/plans/{team['plan_id']}/steps/goals"
    owners = page(team["owner"], url)
    editors = page(team["editor"], url)
    owner_token, editor_token = (CSRF_META.search(html).group(1) for html in (owners, editors))
    assert owner_token != editor_token
    assert owner_token not in editors
    # The goals are listed, so the add form is opened when asked for, with the editor's token.
    assert f'href="/plans/{team["plan_id"]}/items/goal/new"' in editors
    assert set(re.findall(r'name="(?:new-goal-)?csrf_token"[^>]*value="([^"]+)"', editors)) == {editor_token}
    # The add form comes in a request of its own (its token may be signed at another second).
    add_form = page(team["editor"], f"/plans/{team['plan_id']}/items/goal/new?fragment=1")
    assert owner_token not in add_form and 'name="new-goal-csrf_token"' in add_form

    # The token on the form is the editor's, so the form works for them.
    sent = re.search(r'name="new-goal-csrf_token"[^>]*value="([^"]+)"', add_form).group(1)
    added = team["editor"].client.post(
        f"/plans/{team['plan_id']}/items/goal/new",
        data={"new-goal-csrf_token": sent, "new-goal-statement": "Neighbours lend to neighbours."},
    )
    assert added.status_code == 302
    assert "Neighbours lend to neighbours." in page(team["owner"], url)


def test_typed_text_that_looks_like_a_token_stays_as_typed(
    team: dict[str, Any], add_user: Any, add_member: Any, example_plan: Any, as_user: Any
) -> None:
    """An editor pastes their own CSRF token in as a person's name and draws the page first;
    another editor, shown the same kept page, still sees that text, not their own token."""
    plan_id = team["plan_id"]
    third = add_user("ed3@example.org", "Ed Third")
    add_member(example_plan, third, "editor")
    pasting, other = team["second"], as_user(third)
    token = pasting.token()
    assert pasting.post(f"/plans/{plan_id}/items/person/new", {"new-person-name": token}).status_code == 302
    url = f"/plans/{plan_id}/steps/team"
    assert f"<h3>{token}</h3>" in page(pasting, url)
    shown = page(other, url)
    assert f"<h3>{token}</h3>" in shown
    assert f"<h3>{CSRF_META.search(shown).group(1)}</h3>" not in shown


def test_a_viewer_never_meets_an_editors_buttons_nor_an_editor_a_viewers_page(team: dict[str, Any]) -> None:
    url = f"/plans/{team['plan_id']}/steps/engagement"
    editors = page(team["editor"], url)
    viewers = page(team["viewer"], url)
    assert "Move up" in editors and ">Add comment<" in editors
    assert "you can read it and download it" in viewers
    # Viewers may comment, and that is all they may send.
    forms = re.findall(r'<form[^>]*action="([^"]*)"', viewers.split("<main", 1)[1])
    assert forms and set(forms) <= {f"/plans/{team['plan_id']}/comments", "/logout"}
    assert "you can read it and download it" not in page(team["editor"], url)


def write(team: dict[str, Any], what: str) -> str:
    """Make one kind of write as the facilitator; returns the text it puts on the step page."""
    web, plan_id = team["owner"], team["plan_id"]
    base = f"/plans/{plan_id}"
    if what == "add":
        web.post(f"{base}/items/segment/new", {"new-segment-name": "Night-shift nurses"})
        return "Night-shift nurses"
    if what == "delete":
        web.post(f"{base}/items/segment/s4/delete", {"confirm": "yes"})
        return "!<h3>Local makers and DIY creators</h3>"  # the item; the news line names the deletion
    if what == "move":
        web.post(f"{base}/items/segment/s1/move", {"direction": "down"})
        return "order:s2,s1"
    if what == "fields":
        form = page(web, f"{base}/steps/engagement")
        version = re.search(r'name="base_version" value="(\d+)"', form).group(1)
        saved = web.post(
            f"{base}/steps/engagement",
            {"plan-voice": "On the first quiz night of each month.", "base_version": version},
        )
        assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
        return "On the first quiz night of each month."
    if what == "comment":
        web.post(f"{base}/comments", {"body": "Who knows the flats best?", "step": "audiences"})
        return "Who knows the flats best?"
    if what == "uncomment":
        html = page(web, f"{base}/steps/audiences")
        comment_id = re.search(r'/comments/(\d+)/delete"', html).group(1)
        web.post(f"{base}/comments/{comment_id}/delete")
        return "!Owner on the parents"
    if what == "owner":
        web.post(f"{base}/steps/audiences/assignment", {"owner": "", "due": ""})
        return "No owner for this step yet."
    raise ValueError(what)


@pytest.mark.parametrize("what", ["add", "delete", "move", "fields", "comment", "uncomment", "owner"])
def test_every_kind_of_write_shows_at_once_on_a_page_someone_else_had_open(team: dict[str, Any], what: str) -> None:
    url = f"/plans/{team['plan_id']}/steps/{'engagement' if what == 'fields' else 'audiences'}"
    before = page(team["editor"], url)
    shown = write(team, what)
    after = page(team["editor"], url)
    if shown.startswith("order:"):
        first, second = shown.removeprefix("order:").split(",")
        assert before.index(f'id="segment-{second}"') < before.index(f'id="segment-{first}"')
        assert after.index(f'id="segment-{first}"') < after.index(f'id="segment-{second}"')
    elif shown.startswith("!"):
        assert shown[1:] in before and shown[1:] not in after
    else:
        assert shown not in before and shown in after


def test_a_renamed_item_is_renamed_wherever_another_item_or_a_form_shows_it(team: dict[str, Any]) -> None:
    """Items and forms are kept by what they show, not by the plan's revision: a practice shows
    its audiences by name, and the add-a-practice form offers them."""
    plan_id, web = team["plan_id"], team["owner"]
    engagement = f"/plans/{plan_id}/steps/engagement"
    before = page(team["editor"], engagement)
    assert before.count("New parents on the east side") >= 2  # pr1's facts, and the form's box
    rename_segment(web, plan_id, "s1", "Parents of toddlers")
    after = page(team["editor"], engagement)
    assert "New parents on the east side" not in after
    assert after.count("Parents of toddlers") == before.count("New parents on the east side")
    # The practices that do not show the audience are as they were.
    assert after.count("Answer repair and borrowing questions") == before.count("Answer repair and borrowing questions")


def test_a_form_sent_back_with_errors_is_shown_only_to_its_sender_and_only_once(team: dict[str, Any]) -> None:
    plan_id = team["plan_id"]
    refused = team["editor"].post(f"/plans/{plan_id}/items/segment/new", {"new-segment-name": "x" * 5000})
    assert refused.status_code == 422
    assert "x" * 5000 in refused.get_data(as_text=True) and 'role="alert"' in refused.get_data(as_text=True)
    for web in (team["editor"], team["owner"]):
        again = page(web, f"/plans/{plan_id}/steps/audiences")
        assert "x" * 50 not in again and 'class="error" role="alert"' not in again


def test_an_owners_due_date_turns_overdue_the_day_after_though_the_page_was_kept(
    team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = date.today() + timedelta(days=1)
    # A step not done yet (no review cadence): a complete step is never overdue.
    team["owner"].post(f"/plans/{team['plan_id']}/steps/measurement", {"plan-review_cadence": ""})
    team["owner"].post(
        f"/plans/{team['plan_id']}/steps/measurement/assignment", {"owner": "", "due": tomorrow.isoformat()}
    )
    url = f"/plans/{team['plan_id']}/steps/measurement"
    assert "(overdue)" not in page(team["editor"], url)

    class TwoDaysOn(date):
        @classmethod
        def today(cls) -> date:
            return tomorrow + timedelta(days=1)

    monkeypatch.setattr(assignments, "date", TwoDaysOn)
    assert "(overdue)" in page(team["editor"], url)


class _Plan:
    def __init__(self, revision: int) -> None:
        self.id, self.created_at, self.revision, self.discussion_revision = 1, "then", revision, 0


def test_values_are_worked_out_once_per_revision_and_a_new_revision_works_them_out_again(app: Any) -> None:
    """Was: parts are kept per process, the oldest first to go (a hand-written LRU). The values
    are kept by `cachetools`, bounded; what a reader notices is that a write is never hidden."""
    worked: list[int] = []

    def work(plan: _Plan) -> int:
        worked.append(plan.revision)
        return plan.revision * 10

    with app.app_context():
        assert [cached.per_revision(_Plan(1), "x", lambda: work(_Plan(1))) for _ in range(3)] == [10, 10, 10]
        assert cached.per_revision(_Plan(2), "x", lambda: work(_Plan(2))) == 20
        assert worked == [1, 2]
        for n in range(3, 2000):  # many revisions later, the first is no longer kept
            cached.per_revision(_Plan(n), "x", lambda n=n: n)
        assert cached.per_revision(_Plan(1), "x", lambda: work(_Plan(1))) == 10
        assert worked == [1, 2, 1]
