"""The workshop over HTTP: who may open which view and do what, joining, the JSON state, the
event stream, exports and the QR code."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask, g

from planner.extensions import db
from planner.workshop import operations as ops
from planner.workshop.models import Participant, WorkshopSession

JSON = {"Accept": "application/json"}


def _forget_the_last_csrf_token() -> None:
    """Several browsers take turns inside the test's app context (`example_plan` holds one),
    and Flask-WTF keeps the token it made in `g`: forget it, as a fresh context would."""
    g.pop("csrf_token", None)


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app: Flask) -> Any:
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(0, _forget_the_last_csrf_token)
    yield
    funcs.remove(_forget_the_last_csrf_token)


@pytest.fixture
def code(web: Any, example_plan: Any) -> str:
    response = web.post(f"/plans/{example_plan.id}/workshops", {"step": "audiences"})
    assert response.status_code == 302
    match = re.search(r"/workshop/([A-Z0-9]{8})/console$", response.headers["Location"])
    assert match
    return match.group(1)


def join(anonymous: Any, code: str, name: str = "Ana") -> Any:
    return anonymous.post(f"/join/{code}", {"name": name})


def state_of(client: Any, code: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/workshop/{code}/state", query_string=params)
    assert response.status_code == 200, response.status_code
    return json.loads(response.get_data(as_text=True))


def test_the_plans_facilitator_starts_a_session_and_opens_its_console(web: Any, code: str, example_plan: Any) -> None:
    page = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    assert f"{code[:4]} {code[4:]}" in page
    assert "Open projector view" in page
    listing = web.get(f"/plans/{example_plan.id}/workshops").get_data(as_text=True)
    assert f"{code[:4]} {code[4:]}" in listing and "Start a workshop" in listing


@pytest.mark.parametrize(
    ("who", "console", "action"),
    [("anonymous", 302, 401), ("outsider", 404, 404), ("viewer", 403, 403), ("editor", 403, 403)],
)
def test_only_facilitators_run_the_session(
    request: pytest.FixtureRequest, as_user: Any, code: str, who: str, console: int, action: int
) -> None:
    client = request.getfixturevalue("anonymous") if who == "anonymous" else as_user(request.getfixturevalue(who))
    assert client.get(f"/workshop/{code}/console").status_code == console
    assert client.post(f"/workshop/{code}/room/step", {"step": "goals"}, headers=JSON).status_code == action
    assert client.get(f"/workshop/{code}/state?as=facilitator", headers=JSON).status_code == action


def test_starting_on_a_step_that_does_not_exist_says_so_and_starts_nothing(web: Any, example_plan: Any) -> None:
    response = web.post(f"/plans/{example_plan.id}/workshops", {"step": "no-such-step"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkshopSession)) == 0


def test_starting_a_session_needs_the_facilitator_role(as_user: Any, viewer: Any, example_plan: Any) -> None:
    response = as_user(viewer).post(f"/plans/{example_plan.id}/workshops", {"step": "goals"})
    assert response.status_code == 403


def test_a_guest_joins_with_a_name_and_follows_the_room(anonymous: Any, web: Any, code: str) -> None:
    assert "Your name" in anonymous.get(f"/join/{code}").get_data(as_text=True)
    response = join(anonymous, code)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/workshop/{code}")
    assert anonymous.get(f"/workshop/{code}").status_code == 200
    # Joining again on the same phone goes straight to the session.
    assert anonymous.get(f"/join/{code}").status_code == 302

    added = anonymous.post(
        f"/workshop/{code}/ideas", {"text": "Parents <b>east</b>", "step": "audiences"}, headers=JSON
    )
    assert added.status_code == 200 and added.get_json()["ok"] is True
    data = state_of(anonymous, code)
    assert data["me"]["name"] == "Ana"
    assert data["view"]["ideas"][0]["text"] == "Parents <b>east</b>"  # JSON; the page sets it as text
    assert data["view"]["ideas"][0]["author"] is None  # anonymous by default
    assert data["me"]["ideas"][0]["n"] == 1

    revision = data["revision"]
    assert anonymous.get(f"/workshop/{code}/state?since={revision}").status_code == 204
    web.post(f"/workshop/{code}/room/step", {"step": "listening"}, headers=JSON)
    moved = state_of(anonymous, code, since=str(revision))
    assert moved["view"]["step"] == "listening"


def test_a_guest_name_is_required_and_limited(anonymous: Any, code: str) -> None:
    assert join(anonymous, code, "").status_code == 422
    assert join(anonymous, code, "x" * 61).status_code == 422


def test_a_member_joins_as_themselves(as_user: Any, viewer: Any, code: str) -> None:
    client = as_user(viewer)
    assert "Join as Vera Viewer" in client.get(f"/join/{code}").get_data(as_text=True)
    assert client.post(f"/join/{code}", {}).status_code == 303
    assert state_of(client, code)["me"]["name"] == "Vera Viewer"


def test_participant_actions_need_the_cookie_of_that_session(
    anonymous: Any, app: Flask, code: str, web: Any, example_plan: Any
) -> None:
    assert anonymous.post(f"/workshop/{code}/ideas", {"text": "hi"}, headers=JSON).status_code == 403
    assert anonymous.get(f"/workshop/{code}/state").status_code == 403
    join(anonymous, code)
    other = web.post(f"/plans/{example_plan.id}/workshops", {"step": "goals"}).headers["Location"].split("/")[-2]
    # The cookie names a participant of the first session only.
    cookie = anonymous.client.get_cookie(f"workshop_{code}")
    anonymous.client.set_cookie(f"workshop_{other}", cookie.value)
    assert anonymous.post(f"/workshop/{other}/ideas", {"text": "hi"}, headers=JSON).status_code == 403
    anonymous.client.set_cookie(f"workshop_{code}", cookie.value[:-2] + "xx")
    assert anonymous.post(f"/workshop/{code}/ideas", {"text": "hi"}, headers=JSON).status_code == 403


def test_participants_cannot_run_the_session(anonymous: Any, code: str) -> None:
    join(anonymous, code)
    assert anonymous.post(f"/workshop/{code}/room/step", {"step": "goals"}, headers=JSON).status_code == 401
    assert anonymous.get(f"/workshop/{code}/state?as=facilitator", headers=JSON).status_code == 401


def test_every_post_needs_the_csrf_token(anonymous: Any, code: str) -> None:
    join(anonymous, code)
    response = anonymous.client.post(f"/workshop/{code}/ideas", data={"text": "no token"}, headers=JSON)
    assert response.status_code == 400


def test_a_refused_action_answers_json_with_the_reason(anonymous: Any, code: str) -> None:
    join(anonymous, code)
    response = anonymous.post(f"/workshop/{code}/ideas", {"text": "x" * 281}, headers=JSON)
    assert response.status_code == 422
    assert "at most 280" in response.get_json()["error"]
    response = anonymous.post(f"/workshop/{code}/dots", {"idea": "1", "change": "add"}, headers=JSON)
    assert response.status_code == 422


def test_without_script_an_action_posts_and_redirects(web: Any, code: str) -> None:
    response = web.post(f"/workshop/{code}/timer", {"action": "start", "minutes": "5"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/workshop/{code}/console")
    timer = state_of(web, code, **{"as": "facilitator"})["view"]["timer"]
    assert timer["seconds"] == 300 and timer["ends_at"] is not None


def test_the_join_code_page_finds_a_session_and_refuses_wrong_codes(anonymous: Any, code: str) -> None:
    response = anonymous.post("/join", {"code": f"{code[:4].lower()} {code[4:].lower()}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/join/{code}")
    wrong = anonymous.post("/join", {"code": "ZZZZ ZZZZ" if code != "ZZZZZZZZ" else "YYYYYYYY"})
    assert wrong.status_code == 404
    assert "No workshop is running with that code" in wrong.get_data(as_text=True)


def test_guessing_codes_is_rate_limited(anonymous: Any, code: str) -> None:
    statuses = [anonymous.post("/join", {"code": "ZZZZZZZ" + str(i % 8 + 2)}).status_code for i in range(65)]
    assert statuses[0] == 404
    assert statuses[-1] == 429


def test_an_ended_session_lets_nobody_in_but_its_record_stays(web: Any, anonymous: Any, code: str) -> None:
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Parents"}, headers=JSON)
    assert web.post(f"/workshop/{code}/end", {}).status_code == 302
    assert Web2(anonymous).fresh().get(f"/join/{code}").status_code == 410
    assert anonymous.post(f"/workshop/{code}/ideas", {"text": "late"}, headers=JSON).status_code == 422
    assert state_of(anonymous, code)["view"]["ended"] is True
    assert "Parents" in web.get(f"/workshop/{code}/export.csv").get_data(as_text=True)


class Web2:
    """A second, fresh browser next to an existing one."""

    def __init__(self, web: Any) -> None:
        self.web = web

    def fresh(self) -> Any:
        return self.web.client.application.test_client()


def test_the_projector_opens_with_the_console_link_on_a_computer_nobody_is_signed_in_on(
    web: Any, anonymous: Any, code: str
) -> None:
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    link = re.search(r'href="http://localhost(/workshop/[A-Z0-9]+/projector\?key=[^"]+)"', console)
    assert link
    url = link.group(1).replace("&amp;", "&")
    page = anonymous.get(url)
    assert page.status_code == 200
    assert "/qr.svg" in page.get_data(as_text=True)
    key = url.split("key=")[1]
    assert state_of(anonymous, code, **{"as": "projector", "key": key})["me"] is None
    assert anonymous.get(f"/workshop/{code}/projector?key=forged").status_code == 302
    assert anonymous.get(f"/workshop/{code}/state?as=projector&key=forged").status_code == 403


def test_the_qr_code_is_an_svg_of_the_join_link(anonymous: Any, code: str) -> None:
    response = anonymous.get(f"/workshop/{code}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg xmlns=")


def test_exports_are_for_plan_members(as_user: Any, viewer: Any, outsider: Any, anonymous: Any, code: str) -> None:
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "=1+1"}, headers=JSON)
    response = as_user(viewer).get(f"/workshop/{code}/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "'=1+1" in response.get_data(as_text=True)
    assert as_user(viewer).get(f"/workshop/{code}/export.md").mimetype == "text/markdown"
    assert as_user(outsider).get(f"/workshop/{code}/export.csv").status_code == 404


def test_promoting_opens_the_new_items_edit_form(web: Any, anonymous: Any, code: str, example_plan: Any) -> None:
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Night-shift nurses"}, headers=JSON)
    response = web.post(f"/workshop/{code}/ideas/1/promote", {"entity": "segment"})
    assert response.status_code == 302
    edit = response.headers["Location"]
    assert re.search(rf"/plans/{example_plan.id}/items/segment/s\d+/edit$", edit)
    assert "Night-shift nurses" in web.get(edit).get_data(as_text=True)


def test_the_event_stream_says_hello_then_sends_newer_states(
    app: Flask, web: Any, anonymous: Any, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 1.0)
    monkeypatch.setitem(app.config, "WORKSHOP_HEARTBEAT_SECONDS", 0.3)
    join(anonymous, code)
    response = anonymous.get(f"/workshop/{code}/events?since=0")
    assert response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    response.close()
    assert body.startswith("retry: 1000\nevent: hello\n")
    events = [chunk for chunk in body.split("\n\n") if "event: state" in chunk]
    assert len(events) == 1
    revision = int(re.search(r"^id: (\d+)$", events[0], re.M).group(1))
    data = json.loads(events[0].split("data: ", 1)[1])
    assert data["me"]["name"] == "Ana" and data["revision"] == revision
    # Up to date: the stream only pings until it ends, and the browser reconnects.
    again = anonymous.get(f"/workshop/{code}/events", headers={"Last-Event-ID": str(revision)})
    quiet = again.get_data(as_text=True)
    again.close()
    assert "event: state" not in quiet and "event: ping" in quiet


def test_the_stream_wakes_when_another_process_writes(app: Flask, ctx: Flask, example_plan: Any) -> None:
    """The watcher notices a revision written behind its back (as another process would) by polling."""
    import threading

    from planner.workshop import live

    ws = ops.start_session(example_plan)
    participant = ops.join(ws, "Ana")
    session_id, revision = ws.id, ws.revision
    watcher = live.watcher(app)
    found: list[int | None] = []
    waiter = threading.Thread(target=lambda: found.append(watcher.wait(session_id, revision, 5)))
    waiter.start()
    # Write without poking the watcher, as a different process would.
    db.session.execute(db.update(WorkshopSession).where(WorkshopSession.id == session_id).values(revision=revision + 1))
    db.session.commit()
    waiter.join(6)
    assert found == [revision + 1]
    assert db.session.get(Participant, participant.id) is not None


def test_every_facilitator_control_answers_json(web: Any, anonymous: Any, code: str) -> None:
    """One pass over the console's controls, as its script sends them."""
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Parents"}, headers=JSON)
    steps = [
        ("room/roam", {"roam": "1"}),
        ("room/step", {"step": "audiences"}),
        ("steps/audiences/settings", {"anonymous": "1", "private": "1"}),
        ("steps/audiences/reveal", {}),
        ("cards", {"text": "Gran's idea", "for": "Gran", "step": "audiences"}),
        ("groups", {"label": "Families", "step": "audiences"}),
        ("ideas/1/edit", {"text": "Parents of toddlers"}),
        ("ideas/2/hide", {"hidden": "1"}),
        ("ideas/2/hide", {"hidden": "0"}),
        ("steps/audiences/voting", {"action": "open", "dots": "3", "per_idea": "2"}),
        ("steps/audiences/voting", {"action": "close"}),
        ("timer", {"action": "start", "minutes": "3"}),
        ("timer", {"action": "add"}),
        ("timer", {"action": "stop"}),
    ]
    for path, form in steps:
        response = web.post(f"/workshop/{code}/{path}", form, headers=JSON)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:200])
    view = state_of(web, code, **{"as": "facilitator"})["view"]
    group = view["groups"][0]["id"]
    assert web.post(f"/workshop/{code}/ideas/1/group", {"group": str(group)}, headers=JSON).status_code == 200
    view = state_of(web, code, **{"as": "facilitator"})["view"]
    assert view["roam"] is True
    assert [(i["n"], i["text"], i["group"]) for i in view["ideas"]] == [
        (1, "Parents of toddlers", group),
        (2, "Gran's idea", None),
    ]
    assert view["ideas"][1]["written_for"] == "Gran"
    assert view["steps"][2]["voting"] == "closed"
    assert view["timer"]["ends_at"] is None
    assert web.post(f"/workshop/{code}/groups/{group}/delete", {}, headers=JSON).status_code == 200
    refused = web.post(f"/workshop/{code}/room/step", {"step": "nowhere"}, headers=JSON)
    assert refused.status_code == 422 and refused.get_json()["error"] == "There is no such step."


def test_the_facilitator_renames_a_group_and_a_bad_name_changes_nothing(web: Any, anonymous: Any, code: str) -> None:
    web.post(f"/workshop/{code}/groups", {"label": "Famlies", "step": "audiences"}, headers=JSON)
    group = state_of(web, code, **{"as": "facilitator"})["view"]["groups"][0]["id"]
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    assert f'action="/workshop/{code}/groups/{group}/rename"' in console and 'value="Famlies"' in console

    renamed = web.post(f"/workshop/{code}/groups/{group}/rename", {"label": "Families"}, headers=JSON)
    assert renamed.status_code == 200
    join(anonymous, code)
    assert state_of(anonymous, code)["view"]["groups"][0]["label"] == "Families"  # the room sees it too

    revision = state_of(web, code, **{"as": "facilitator"})["revision"]
    for label, message in (("", "Write a group name first."), ("x" * 81, "A group name can be at most 80 characters.")):
        refused = web.post(f"/workshop/{code}/groups/{group}/rename", {"label": label}, headers=JSON)
        assert refused.status_code == 422 and refused.get_json()["error"] == message
    # Without the page's script: back to the console, which says why.
    refused = web.post(f"/workshop/{code}/groups/{group}/rename", {"label": " "}, follow_redirects=True)
    assert "Write a group name first." in refused.get_data(as_text=True)
    after = state_of(web, code, **{"as": "facilitator"})
    assert after["revision"] == revision and after["view"]["groups"][0]["label"] == "Families"

    assert anonymous.post(f"/workshop/{code}/groups/{group}/rename", {"label": "Mine"}, headers=JSON).status_code == 401
    missing = web.post(f"/workshop/{code}/groups/{group + 1}/rename", {"label": "Other"}, headers=JSON)
    assert missing.status_code == 422 and missing.get_json()["error"] == "There is no such group."


def _ended_session(web: Any, anonymous: Any, code: str) -> str:
    """Ana adds two ideas, the room dot-votes (1 dot each), one idea goes into the plan, and
    the facilitator ends the session; returns the projector's signed link."""
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Night-shift nurses"}, headers=JSON)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Parents at the school gate"}, headers=JSON)
    web.post(f"/workshop/{code}/steps/audiences/voting", {"action": "open", "dots": "1", "per_idea": "1"}, headers=JSON)
    anonymous.post(f"/workshop/{code}/dots", {"idea": "2", "change": "add"}, headers=JSON)
    web.post(f"/workshop/{code}/ideas/2/promote", {"entity": "segment"})
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    projector = re.search(r'href="http://localhost(/workshop/[A-Z0-9]+/projector\?key=[^"]+)"', console)
    assert projector
    assert web.post(f"/workshop/{code}/end", {}).status_code == 302
    return projector.group(1).replace("&amp;", "&")


def test_the_projector_of_an_ended_session_shows_a_summary_and_no_way_to_join(
    web: Any, anonymous: Any, code: str
) -> None:
    projector = _ended_session(web, anonymous, code)
    page = web.client.application.test_client().get(projector).get_data(as_text=True).split("<body", 1)[1]
    assert f"{code[:4]} {code[4:]}" not in page and "/qr.svg" not in page and "Join at" not in page
    assert "Add your ideas" not in page and 'id="board"' not in page
    assert "Thank you" in page and "The workshop has ended" in page
    totals = re.sub(r"<[^>]+>|\s+", " ", page)
    for said in ("1 person took part", "2 ideas", "1 dot from 1 person", "1 item into the plan"):
        assert said in re.sub(r" +", " ", totals), said
    assert "Audience segment" in page and "Parents at the school gate" in page
    assert "data-ended" in page  # the page's script follows nothing more


def test_a_guest_who_reloads_after_the_end_sees_it_has_ended_with_no_step_or_prompt(
    web: Any, anonymous: Any, code: str
) -> None:
    _ended_session(web, anonymous, code)
    page = anonymous.get(f"/workshop/{code}").get_data(as_text=True)
    assert "The workshop has ended" in page
    for gone in ('id="step-title"', 'id="roam-step"', 'id="idea-form"', "Yours can be the first", "idea-text"):
        assert gone not in page, gone
    assert "Parents at the school gate" in page  # what went into the plan
    # Scanning the code again leads there too; someone who scans it late is told it has ended.
    assert anonymous.get(f"/join/{code}").headers["Location"].endswith(f"/workshop/{code}")
    late = Web2(anonymous).fresh().get(f"/join/{code}")
    assert late.status_code == 410 and "This workshop has ended" in late.get_data(as_text=True)


def test_a_late_comer_typing_the_code_of_an_ended_session_hears_it_ended(anonymous: Any, web: Any, code: str) -> None:
    web.post(f"/workshop/{code}/end", {})
    response = anonymous.post("/join", {"code": code})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "That workshop has ended." in page and "No workshop is running" not in page


def test_look_back_opens_a_summary_of_the_session_not_the_dead_console(
    web: Any, anonymous: Any, code: str, example_plan: Any
) -> None:
    _ended_session(web, anonymous, code)
    listing = web.get(f"/plans/{example_plan.id}/workshops").get_data(as_text=True)
    look_back = re.search(r'href="([^"]+)">Look back</a>', listing)
    assert look_back and "2 ideas" in listing
    page = web.get(look_back.group(1)).get_data(as_text=True)
    assert "a look back" in page
    for control in ("Move the room", "Start</button>", "Reveal ideas", "Open voting", "End the workshop", "+1 minute"):
        assert control not in page, control
    assert "3. Audiences" in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "2 ideas · dot vote, 1 dot each: 1 dot placed, most first" in text
    assert "Parents at the school gate #2 · 1 dot · in the plan as audience segment" in text
    assert "Night-shift nurses #1 · 0 dots" in text
    item = re.search(rf'href="(/plans/{example_plan.id}/items/segment/s\d+/edit)">Parents at the school gate</a>', page)
    assert item  # the item by its name, one click from its page


def test_the_sessions_list_counts_one_idea_as_one_idea(web: Any, anonymous: Any, code: str, example_plan: Any) -> None:
    join(anonymous, code)
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Parents"}, headers=JSON)
    listing = web.get(f"/plans/{example_plan.id}/workshops").get_data(as_text=True)
    assert "· 1 idea</p>" in re.sub(r"\s+", " ", listing).replace(" </p>", "</p>")


def test_a_group_name_the_step_has_already_is_refused_with_and_without_the_script(web: Any, code: str) -> None:
    assert (
        web.post(f"/workshop/{code}/groups", {"label": "Forums", "step": "audiences"}, headers=JSON).status_code == 200
    )
    revision = state_of(web, code, **{"as": "facilitator"})["revision"]
    refused = web.post(f"/workshop/{code}/groups", {"label": " forums ", "step": "audiences"}, headers=JSON)
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "This step already has a group called “Forums”."
    page = web.post(f"/workshop/{code}/groups", {"label": "FORUMS", "step": "audiences"}, follow_redirects=True)
    assert "This step already has a group called “Forums”." in page.get_data(as_text=True)
    after = state_of(web, code, **{"as": "facilitator"})
    assert after["revision"] == revision and [g["label"] for g in after["view"]["groups"]] == ["Forums"]


def test_the_step_settings_save_when_switched_and_without_the_script_with_save(web: Any, code: str) -> None:
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    settings = re.search(r'<form[^>]*class="ws-settings"[^>]*>', console)
    assert settings and "data-save-on-change" in settings.group(0)  # workshop.js posts each change
    assert "Save these settings</button>" in console  # and this works without it:
    response = web.post(f"/workshop/{code}/steps/audiences/settings", {"private": "1"})
    assert response.status_code == 302
    step = state_of(web, code, **{"as": "facilitator"})["view"]["steps"][2]
    assert (step["anonymous"], step["private"]) == (False, True)
