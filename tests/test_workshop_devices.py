"""No single guest can stop the room (issue 12, point 3) and a viewer's export holds only what
the viewer could see (point 5): one device under many names is shown to the facilitator and
limited, joins are limited per address, every route with a code in it shares the code-lookup
limit without ever limiting the room itself, a projector link expires with its session."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from planner.extensions import db
from planner.models import utcnow
from planner.workshop import access, rules, state
from planner.workshop import operations as ops
from planner.workshop.models import Participant, WorkshopSession
from tests.conftest import Web

JSON = {"Accept": "application/json"}


@pytest.fixture
def code(web: Any, example_plan: Any) -> str:
    response = web.post(f"/plans/{example_plan.id}/workshops", {"step": "audiences"})
    match = re.search(r"/workshop/([A-Z0-9]{8})/console$", response.headers["Location"])
    assert match
    return match.group(1)


def phone(app: Flask, address: str = "127.0.0.1") -> Web:
    """A new browser (its own cookies) at `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Web(client)


def join(browser: Web, code: str, name: str) -> int:
    """Open the join page (which gives the device its cookie), then join as `name`."""
    browser.get(f"/join/{code}")
    return browser.post(f"/join/{code}", {"name": name}).status_code


def join_again(browser: Web, code: str, name: str) -> int:
    """The same device joins once more under another name: it drops the session's cookie."""
    browser.client.delete_cookie(f"workshop_{code}")
    return join(browser, code, name)


def facilitator_state(web: Any, code: str) -> dict[str, Any]:
    return json.loads(web.get(f"/workshop/{code}/state?as=facilitator").get_data(as_text=True))["view"]


def projector_link(web: Any, code: str) -> str:
    console = web.get(f"/workshop/{code}/console").get_data(as_text=True)
    link = re.search(r'href="http://localhost(/workshop/[A-Z0-9]+/projector\?key=[^"]+)"', console)
    assert link
    return link.group(1).replace("&amp;", "&")


# ---------------------------------------------------------------- one device, many names


def test_the_facilitator_sees_which_names_joined_from_one_device(app: Flask, web: Any, code: str) -> None:
    one = phone(app)
    assert join(one, code, "Cy") == 303
    assert join_again(one, code, "Ann") == 303
    assert join_again(one, code, "Bob") == 303
    assert join(phone(app), code, "Dee") == 303  # another phone behind the same router
    assert join(phone(app), code, "Eve") == 303

    view = facilitator_state(web, code)
    assert view["shared_devices"] == [["Ann", "Bob", "Cy"]]
    assert view["joined"] == 5
    # The console has the place the notice is drawn in ("3 names from one device: Ann, Bob, Cy").
    assert 'id="shared-devices"' in web.get(f"/workshop/{code}/console").get_data(as_text=True)
    # The room is not told.
    room = json.loads(one.get(f"/workshop/{code}/state").get_data(as_text=True))
    assert "shared_devices" not in room["view"]


def test_the_device_cookie_is_long_lived_signed_and_kept_apart_per_session(
    app: Flask, web: Any, code: str, example_plan: Any
) -> None:
    one = phone(app)
    assert join(one, code, "Ann") == 303
    cookie = one.client.get_cookie(access.DEVICE_COOKIE)
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None and cookie.expires - utcnow().replace(tzinfo=cookie.expires.tzinfo) > timedelta(
        days=365
    )
    # A device cookie a client makes up is no device at all: it gets a genuine one.
    forged = phone(app)
    forged.client.set_cookie(access.DEVICE_COOKIE, "my-own-id")
    assert join(forged, code, "Bob") == 303
    assert forged.client.get_cookie(access.DEVICE_COOKIE).value != "my-own-id"

    other = re.search(
        r"/workshop/([A-Z0-9]{8})/console$",
        web.post(f"/plans/{example_plan.id}/workshops", {"step": "goals"}).headers["Location"],
    ).group(1)
    assert join(one, other, "Ann") == 303
    tags = db.session.scalars(db.select(Participant.device).where(Participant.name == "Ann")).all()
    # The same phone, two sessions: nothing in the table ties the two together.
    assert len(tags) == 2 and all(tags) and tags[0] != tags[1]


def test_one_device_making_many_names_is_stopped_with_a_clear_page(app: Flask, web: Any, code: str) -> None:
    one = phone(app)
    statuses = [join_again(one, code, f"Name {i}") for i in range(50)]
    assert statuses[:10] == [303] * 10
    assert set(statuses[10:]) == {429}
    page = one.post(f"/join/{code}", {"name": "Once more"})
    assert page.status_code == 429
    assert "This device has joined workshops under many names" in page.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Participant)) == 10
    # Another phone at the same address still gets in.
    assert join(phone(app), code, "Someone else") == 303


def test_a_room_of_60_behind_one_router_all_get_in(app: Flask, web: Any, code: str) -> None:
    phones = [phone(app, "203.0.113.7") for _ in range(60)]
    # A few mistype first (an empty name), then everyone joins.
    for browser in phones[:5]:
        assert browser.post(f"/join/{code}", {"name": ""}).status_code == 422
    assert [join(browser, code, f"Person {i}") for i, browser in enumerate(phones)] == [303] * 60
    assert facilitator_state(web, code)["joined"] == 60
    assert facilitator_state(web, code)["shared_devices"] == []


def test_refused_joins_do_not_lock_the_address_out(app: Flask, web: Any, code: str) -> None:
    """One guest posting empty names, with and without a device cookie, uses up nothing."""
    prankster = phone(app, "203.0.113.9")
    prankster.get(f"/join/{code}")
    assert {prankster.post(f"/join/{code}", {"name": ""}).status_code for _ in range(60)} == {422}
    prankster.client.delete_cookie("workshop_device")
    assert {prankster.post(f"/join/{code}", {"name": ""}).status_code for _ in range(60)} == {422}
    assert join(phone(app, "203.0.113.9"), code, "Real person") == 303
    # The prankster's own device still has its ten joins.
    assert join(prankster, code, "Prankster") == 303


def test_a_device_that_clears_its_cookies_is_limited_by_its_address(
    app: Flask, web: Any, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_JOINS_PER_ADDRESS", "5 per minute")
    statuses = [join(phone(app, "198.51.100.9"), code, f"Fake {i}") for i in range(7)]
    assert statuses == [303] * 5 + [429] * 2
    assert "Many people have just joined from here" in phone(app, "198.51.100.9").post(
        f"/join/{code}", {"name": "x"}
    ).get_data(as_text=True)
    # Each address is counted on its own.
    assert join(phone(app, "198.51.100.10"), code, "Real person") == 303


# ---------------------------------------------------------------- looking codes up


def _dead_code(code: str) -> str:
    return "ZZZZZZZZ" if code != "ZZZZZZZZ" else "YYYYYYYY"


def test_every_route_that_tells_a_live_code_from_a_dead_one_shares_the_join_limit(
    app: Flask, anonymous: Any, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_CODE_LOOKUP_LIMIT", "20 per minute")
    dead = _dead_code(code)
    guesses = [
        f"/join/{dead}",
        f"/workshop/{dead}",
        f"/workshop/{dead}/state",
        f"/workshop/{dead}/events",
        f"/workshop/{dead}/qr.svg",
        f"/workshop/{dead}/projector",
        f"/workshop/{dead}/console",
        f"/workshop/{dead}/export.csv",
        f"/workshop/{dead}/export.md",
    ]
    statuses = [anonymous.get(guesses[i % len(guesses)]).status_code for i in range(18)]
    statuses.append(anonymous.post(f"/workshop/{dead}/ideas", {"text": "hi"}, headers=JSON).status_code)
    statuses.append(anonymous.post("/join", {"code": dead}).status_code)
    assert set(statuses) == {404}
    # 20 lookups missed: now even a live code answers "too many", on every route, so the
    # guesser learns nothing more.
    for url in (f"/join/{code}", f"/workshop/{code}/qr.svg", f"/workshop/{code}/state", guesses[0]):
        response = anonymous.get(url, headers=JSON) if "state" in url else anonymous.get(url)
        assert response.status_code == 429, url
    assert "Too many tries at workshop codes" in anonymous.get(f"/join/{code}").get_data(as_text=True)
    # Another address is counted on its own.
    assert phone(app, "192.0.2.1").get(f"/join/{code}").status_code == 200


def test_a_rooms_typos_leave_the_code_open_to_the_rest_of_its_wifi(app: Flask, web: Any, code: str) -> None:
    typist = phone(app, "203.0.113.8")
    for _ in range(20):
        assert typist.post("/join", {"code": _dead_code(code)}).status_code == 404
    late = phone(app, "203.0.113.8")
    assert late.get(f"/join/{code}").status_code == 200
    assert join(late, code, "Late") == 303


def test_the_room_is_never_limited_by_a_guesser_on_its_wifi(
    app: Flask, web: Any, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_CODE_LOOKUP_LIMIT", "3 per minute")
    # 30 phones behind the router scan the QR code: a live code is no miss.
    assert {phone(app).get(f"/join/{code}").status_code for _ in range(30)} == {200}
    ana = phone(app)
    assert join(ana, code, "Ana") == 303
    projector = projector_link(web, code)
    key = projector.split("key=")[1]
    guesser = phone(app)
    dead = _dead_code(code)
    for _ in range(4):
        guesser.get(f"/workshop/{dead}/state")
    assert guesser.get(f"/join/{code}").status_code == 429
    # Same address, but each carries this session's own cookie or link: polling, reconnecting,
    # adding cards and the big screen all carry on, and none of it counts.
    for _ in range(30):
        assert ana.get(f"/workshop/{code}/state").status_code == 200
    assert ana.post(f"/workshop/{code}/ideas", {"text": "Still here"}, headers=JSON).status_code == 200
    stranger_screen = phone(app)
    assert stranger_screen.get(projector).status_code == 200
    assert stranger_screen.get(f"/workshop/{code}/state?as=projector&key={key}").status_code == 200
    assert stranger_screen.get(f"/workshop/{code}/qr.svg?key={key}").status_code == 200
    # The facilitator is counted as themselves, not as the room's address.
    assert web.get(f"/workshop/{code}/console").status_code == 200
    # Someone's cookie for one session does not vouch for another code.
    assert ana.get(f"/workshop/{dead}/state").status_code == 429


# ---------------------------------------------------------------- the projector link


def test_a_projector_link_expires_with_its_session(app: Flask, web: Any, code: str) -> None:
    ana = phone(app)
    join(ana, code, "Ana")
    ana.post(f"/workshop/{code}/ideas", {"text": "Night-shift nurses"}, headers=JSON)
    link = projector_link(web, code)
    key = link.split("key=")[1]
    screen = phone(app)
    assert "Join at" in screen.get(link).get_data(as_text=True)
    assert web.post(f"/workshop/{code}/end", {}).status_code == 302

    closing = screen.get(link).get_data(as_text=True)
    assert "Thank you" in closing and "Join at" not in closing and 'id="board"' not in closing
    # What the link's script still hears: that it ended, so it reloads into the closing screen.
    over = json.loads(screen.get(f"/workshop/{code}/state?as=projector&key={key}").get_data(as_text=True))
    assert over["view"] == {"ended": True} and "Night-shift nurses" not in json.dumps(over)
    assert screen.get(f"/workshop/{code}/events?as=projector&key={key}").status_code == 410

    ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code))
    ws.ended_at = utcnow() - access.CLOSING_SCREEN_FOR - timedelta(minutes=1)
    db.session.commit()
    late = screen.get(link)
    assert late.status_code == 410 and "This workshop has ended" in late.get_data(as_text=True)
    # The plan's members still look back at it.
    assert "Thank you" in web.get(f"/workshop/{code}/projector").get_data(as_text=True)


def test_a_projector_link_stops_when_the_code_runs_out_unended(app: Flask, web: Any, code: str) -> None:
    link = projector_link(web, code)
    ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code))
    ws.created_at = utcnow() - rules.CODE_MAX_AGE - timedelta(minutes=1)
    db.session.commit()
    assert phone(app).get(link).status_code == 410
    key = link.split("key=")[1]
    assert phone(app).get(f"/workshop/{code}/state?as=projector&key={key}").get_json()["view"] == {"ended": True}


def test_a_projector_link_of_an_old_session_never_opens_a_new_one(
    app: Flask, web: Any, code: str, example_plan: Any
) -> None:
    link = projector_link(web, code)
    old = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code))
    old_id = old.id
    db.session.delete(old)
    db.session.commit()
    assert phone(app).get(link).status_code == 404
    # A new session with the old one's id (SQLite hands out the highest id again).
    new = WorkshopSession(id=old_id, plan_id=example_plan.id, code=rules.new_code(), step="goals")
    db.session.add(new)
    db.session.commit()
    key = link.split("key=")[1]
    screen = phone(app)
    assert screen.get(f"/workshop/{new.code}/projector?key={key}").status_code == 302  # to log in
    assert screen.get(f"/workshop/{new.code}/state?as=projector&key={key}").status_code == 403


def test_a_projector_link_given_before_keys_named_the_code_still_opens(app: Flask, web: Any, code: str) -> None:
    ws = db.session.scalar(db.select(WorkshopSession).where(WorkshopSession.code == code))
    with app.test_request_context():
        key = access._serializer(access.PROJECTOR_SALT).dumps({"s": ws.id})  # no "c"
    screen = phone(app)
    assert screen.get(f"/workshop/{code}/projector?key={key}").status_code == 200
    assert screen.get(f"/workshop/{code}/state?as=projector&key={key}").status_code == 200


# ---------------------------------------------------------------- exports


@pytest.fixture
def mixed_room(app: Flask, web: Any, code: str) -> str:
    """Cards of every kind: shown with its author, hidden, and on a private step not revealed."""
    ana = phone(app)
    join(ana, code, "Ana Author")
    web.post(f"/workshop/{code}/steps/audiences/settings", {"anonymous": "0", "private": "0"}, headers=JSON)
    ana.post(f"/workshop/{code}/ideas", {"text": "Shown card", "step": "audiences"}, headers=JSON)
    ana.post(f"/workshop/{code}/ideas", {"text": "Rude card", "step": "audiences"}, headers=JSON)
    web.post(f"/workshop/{code}/ideas/2/hide", {}, headers=JSON)
    web.post(f"/workshop/{code}/steps/goals/settings", {"anonymous": "1", "private": "1"}, headers=JSON)
    ana.post(f"/workshop/{code}/ideas", {"text": "Secret draft", "step": "goals"}, headers=JSON)
    return code


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_a_viewers_export_holds_only_what_the_room_saw(
    request: pytest.FixtureRequest, as_user: Any, web: Any, mixed_room: str, who: str
) -> None:
    browser = as_user(request.getfixturevalue(who))
    rows = list(csv.DictReader(io.StringIO(browser.get(f"/workshop/{mixed_room}/export.csv").get_data(as_text=True))))
    assert [(r["text"], r["author"], r["status"]) for r in rows] == [("Shown card", "Ana Author", "shown")]
    markdown = browser.get(f"/workshop/{mixed_room}/export.md").get_data(as_text=True)
    assert "Shown card" in markdown and "Ana Author" in markdown
    for unseen in ("Rude card", "Secret draft", "hidden", "not yet revealed"):
        assert unseen not in markdown, unseen

    # The facilitator's export is the whole record, as before.
    rows = list(csv.DictReader(io.StringIO(web.get(f"/workshop/{mixed_room}/export.csv").get_data(as_text=True))))
    assert {(r["text"], r["author"], r["status"]) for r in rows} == {
        ("Shown card", "Ana Author", "shown"),
        ("Rude card", "Ana Author", "hidden"),
        ("Secret draft", "", "not yet revealed"),  # an anonymous step names nobody, here too
    }
    markdown = web.get(f"/workshop/{mixed_room}/export.md").get_data(as_text=True)
    assert "Secret draft" in markdown and "not yet revealed" in markdown and "Rude card" in markdown


def test_the_names_of_one_device_come_from_the_stored_tags(ctx: Flask, example_plan: Any) -> None:
    ws = ops.start_session(example_plan)
    for name, device in (("Bob", "d1"), ("ann", "d1"), ("Cy", "d2"), ("Dee", None)):
        ops.join(ws, name, device=device)
    assert rules.shared_devices(rules.Snapshot({}, {}, {}, [], [])) == []
    assert state.snapshot(ws).devices and rules.shared_devices(state.snapshot(ws)) == [["ann", "Bob"]]
