"""Working asynchronously: step owners and due dates, the home page's list, and comments.

(Autosave, the third part, lives in the browser: tests/browser/test_autosave.py.)
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from planner.discussion import assignments, comments
from planner.domain import ENTITY_BY_NAME
from planner.extensions import db
from planner.plans import store


@pytest.fixture
def plan(example_plan: Any, editor: Any, viewer: Any) -> Any:
    """The example plan: `owner` facilitates it (`web`), with an editor and a viewer."""
    return example_plan


def assign(web: Any, plan_id: int, slug: str, owner: Any = None, due: date | None = None) -> Any:
    return web.post(
        f"/plans/{plan_id}/steps/{slug}/assignment",
        {"owner": str(owner.id) if owner else "", "due": due.isoformat() if due else ""},
    )


# ---------------------------------------------------------------- step owners


def test_a_facilitator_gives_a_step_an_owner_and_a_due_date(web: Any, plan: Any, editor: Any) -> None:
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    assert "Give this step an owner" in page and "No owner for this step yet." in page
    assert f'<option value="{editor.id}">Eddie Editor</option>' in page

    response = assign(web, plan.id, "audiences", editor, date(2031, 3, 14))
    assert response.status_code == 302 and response.location.endswith("/steps/audiences#step-owner")
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    assert "Owner: <strong>Eddie Editor</strong>" in page and "Due 14 Mar 2031" in page

    assign(web, plan.id, "audiences")
    assert "No owner for this step yet." in web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)


def test_only_a_facilitator_assigns_and_only_to_a_member(
    web: Any, as_user: Any, plan: Any, editor: Any, outsider: Any
) -> None:
    as_editor = as_user(editor)
    page = as_editor.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    assert "Give this step an owner" not in page
    assert assign(as_editor, plan.id, "audiences", editor).status_code == 403
    refused = assign(web, plan.id, "audiences", outsider)
    assert "Not a valid choice" in web.get(refused.location).get_data(as_text=True)
    with pytest.raises(assignments.AssignmentRefused, match="member"):
        assignments.assign(plan, "audiences", outsider.id, None)
    assert assign(web, plan.id, "no-such-step", editor).status_code == 404


def test_the_home_page_shows_each_member_their_steps_soonest_first(
    web: Any, as_user: Any, plan: Any, editor: Any, owner: Any
) -> None:
    today = date.today()
    # Listening not done yet (it has no listening targets): a complete step is never overdue.
    for target in store.load_doc(plan)["listening_targets"]:
        store.delete_item(plan, ENTITY_BY_NAME["listening_target"], target["key"])
    assign(web, plan.id, "team", editor, today + timedelta(days=10))
    assign(web, plan.id, "listening", editor, today - timedelta(days=2))
    assign(web, plan.id, "goals", editor)
    assign(web, plan.id, "audiences", owner, today)

    home = as_user(editor).get("/").get_data(as_text=True)
    mine = re.findall(
        r'<a href="/plans/\d+/steps/([a-z0-9-]+)">', home.split('id="my-steps-heading"')[1].split("</section>")[0]
    )
    assert mine == ["listening", "team", "goals"]
    assert re.search(r'<li class="overdue">\s*<a href="/plans/\d+/steps/listening">', home)
    assert "<strong>Overdue</strong>: was due" in home
    assert "No date" in home
    facilitators_home = web.get("/").get_data(as_text=True)
    assert (
        "3. Audiences" in facilitators_home
        and "Team" not in facilitators_home.split("Your steps")[1].split("</section>")[0]
    )


def test_a_member_who_leaves_no_longer_sees_the_steps_they_owned(
    web: Any, plan: Any, editor: Any, as_user: Any
) -> None:
    from planner.accounts.models import Membership

    assign(web, plan.id, "team", editor, date.today())
    db.session.query(Membership).filter_by(plan_id=plan.id, user_id=editor.id).delete()
    db.session.commit()
    assert "Your steps" not in as_user(editor).get("/").get_data(as_text=True)


# ---------------------------------------------------------------- comments


def comment(web: Any, plan_id: int, body: str, **where: str) -> Any:
    return web.post(f"/plans/{plan_id}/comments", {"body": body, **where})


def test_members_comment_on_a_step_and_see_who_and_when(web: Any, as_user: Any, plan: Any, editor: Any) -> None:
    assert comment(web, plan.id, "Shall we start with parents?", step="audiences").status_code == 302
    response = comment(as_user(editor), plan.id, "Yes, and retirees next.", step="audiences")
    assert response.location.endswith("/steps/audiences#comments")
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    thread = page.split('id="comments"')[1]
    assert thread.index("Shall we start with parents?") < thread.index("Yes, and retirees next."), "newest last"
    assert "Fay Facilitator" in thread and "Eddie Editor" in thread
    assert re.search(
        r"<time datetime=\"[\d\-T:.]+Z\" data-when=\"datetime\">\d+ \w+ \d{4}, \d\d:\d\d UTC</time>", thread
    )


def test_members_comment_on_an_item(web: Any, plan: Any) -> None:
    segment = store.load_doc(plan)["segments"][0]
    response = comment(web, plan.id, "Is this group too wide?", entity="segment", key=segment["key"])
    assert response.location.endswith(f"/steps/audiences#segment-{segment['key']}-comments")
    page = web.get(f"/plans/{plan.id}/steps/audiences").get_data(as_text=True)
    item = page.split(f'id="segment-{segment["key"]}"')[1].split('<li class="item card"')[0]
    assert "Is this group too wide?" in item and "Comments (1)" in item
    assert "Is this group too wide?" not in page.split('id="comments"')[1]


def test_comments_are_escaped_and_limited(web: Any, plan: Any) -> None:
    comment(web, plan.id, "<script>alert(1)</script> & more", step="goals")
    page = web.get(f"/plans/{plan.id}/steps/goals").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page

    too_long = comment(web, plan.id, "x" * (comments.MAX_LENGTH + 1), step="goals")
    assert "Field cannot be longer than 2000 characters." in web.get(too_long.location).get_data(as_text=True)
    empty = comment(web, plan.id, "   ", step="goals")
    assert "Write something first." in web.get(empty.location).get_data(as_text=True)
    gone = comment(web, plan.id, "Hello?", entity="segment", key="s999")
    assert "That audience segment no longer exists." in web.get(gone.location).get_data(as_text=True)
    assert comment(web, plan.id, "Hello?", step="no-such-step").status_code == 404
    assert len(comments.thread(plan.id, "goals").on_step) == 1


def test_people_delete_their_own_comments_only(web: Any, as_user: Any, plan: Any, editor: Any) -> None:
    comment(web, plan.id, "Mine", step="team")
    comment(as_user(editor), plan.id, "Eddie's", step="team")
    mine, eddies = (c for c, _ in comments.thread(plan.id, "team").on_step)
    page = web.get(f"/plans/{plan.id}/steps/team").get_data(as_text=True)
    assert f"/comments/{mine.id}/delete" in page and f"/comments/{eddies.id}/delete" not in page
    assert web.post(f"/plans/{plan.id}/comments/{eddies.id}/delete").status_code == 403
    assert web.post(f"/plans/{plan.id}/comments/{mine.id}/delete").status_code == 302
    db.session.expire_all()
    assert [c.body for c, _ in comments.thread(plan.id, "team").on_step] == ["Eddie's"]


def test_readers_read_comments_and_write_them_too(web: Any, as_user: Any, plan: Any, viewer: Any) -> None:
    # A decision (planner.discussion.comments.NEED): a director reviewing as a viewer may comment.
    comment(web, plan.id, "For the board to read", step="review")
    reader = as_user(viewer)
    page = reader.get(f"/plans/{plan.id}/steps/review").get_data(as_text=True)
    assert "For the board to read" in page and 'name="body"' in page
    assert comment(reader, plan.id, "Looks good", step="review").status_code == 302
