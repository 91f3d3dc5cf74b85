"""A room of 1,000 (issue 12) and one unit of work per request (issue 13), in the workshop:
a phone's stream sends what changed rather than the whole room; a step change or voting
reaches a phone at once while new cards wait for its turn; a write that is rolled back
never wakes a screen; promoting a card keeps the plan item and the card's mark together
or neither."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from planner import unit
from planner.extensions import db
from planner.models import ITEM_MODELS
from planner.plans.models import Change
from planner.workshop import live, state
from planner.workshop import operations as ops
from planner.workshop.models import Idea, Participant, WorkshopSession
from planner.workshop.rules import WorkshopError


@pytest.fixture
def ws(example_plan: Any, owner: Any) -> WorkshopSession:
    return ops.start_session(example_plan, owner, "audiences")


@pytest.fixture
def ana(ws: WorkshopSession) -> Participant:
    return ops.join(ws, "Ana")


def _states(stream: Iterator[str | bytes]) -> Iterator[dict[str, Any]]:
    """The `state` events of a stream, as their JSON data."""
    pending = ""
    for part in stream:
        pending += part.decode() if isinstance(part, bytes) else part
        while "\n\n" in pending:
            event, pending = pending.split("\n\n", 1)
            if "event: state" in event:
                yield json.loads(event.split("data: ", 1)[1])


def _room_now(ws: WorkshopSession) -> dict[str, Any]:
    db.session.expire_all()
    return json.loads(state.payload(db.session.get(WorkshopSession, ws.id), "room"))["view"]


def _applied(view: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """What the phone's page does with changes (static/workshop.js, `withChanges`)."""
    cards = {idea["n"]: idea for idea in view["ideas"]}
    for n in changes["gone"]:
        cards.pop(n, None)
    cards.update((idea["n"], idea) for idea in changes["ideas"])
    whole = {k: v for k, v in changes.items() if k != "gone"}
    whole["ideas"] = [cards[n] for n in sorted(cards)]
    return whole


def test_a_phone_that_asks_for_changes_gets_only_the_cards_that_changed(
    app: Flask, ws: WorkshopSession, ana: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_PARTICIPANT_GAP_SECONDS", 0.1)
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 10)
    for n in range(30):
        ops.add_idea(ws, ana, "audiences", f"Card {n}")
    stream = live.event_stream(app, ws.id, ws.code, "room", ana.id, 0, changes=True)
    states = _states(stream)
    first = next(states)
    assert "base" not in first and len(first["view"]["ideas"]) == 30  # the whole room, once
    ops.add_idea(ws, ana, "audiences", "A new card")
    ops.hide_idea(ws, 3)
    second = next(states)
    stream.close()
    # Only the new card, and the hidden one's number: not the 29 that did not change.
    assert second["base"] == first["revision"]
    assert [i["text"] for i in second["view"]["ideas"]] == ["A new card"]
    assert second["view"]["gone"] == [3]
    # Applied to the state the phone held, they make exactly the room as it is now.
    assert _applied(first["view"], second["view"]) == _room_now(ws)
    assert second["me"]["name"] == "Ana" and len(second["me"]["ideas"]) == 31


def test_a_phone_that_does_not_ask_for_changes_still_gets_the_whole_room(
    app: Flask, ws: WorkshopSession, ana: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WORKSHOP_PARTICIPANT_GAP_SECONDS", 0.1)
    ops.add_idea(ws, ana, "audiences", "Card one")
    stream = live.event_stream(app, ws.id, ws.code, "room", ana.id, 0)
    states = _states(stream)
    next(states)
    ops.add_idea(ws, ana, "audiences", "Card two")
    second = next(states)
    stream.close()
    assert "base" not in second and [i["text"] for i in second["view"]["ideas"]] == ["Card one", "Card two"]


def test_a_step_change_reaches_a_phone_at_once_while_new_cards_wait_for_its_turn(
    app: Flask, ws: WorkshopSession, ana: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone's gap between states (here 20 s) holds back new cards, never the room's step."""
    monkeypatch.setitem(app.config, "WORKSHOP_PARTICIPANT_GAP_SECONDS", 20)
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 8)
    got: list[tuple[float, dict[str, Any]]] = []
    first_seen = threading.Event()
    session_id, code, participant_id = ws.id, ws.code, ana.id

    def follow() -> None:
        for data in _states(live.event_stream(app, session_id, code, "room", participant_id, 0, changes=True)):
            got.append((time.monotonic(), data))
            first_seen.set()
            if len(got) == 2:
                return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert first_seen.wait(5)
    ops.add_idea(ws, ana, "audiences", "Parents of toddlers")
    time.sleep(1)
    assert len(got) == 1  # a new card waits for the phone's turn
    moved = time.monotonic()
    ops.move_room(ws, "listening")
    reader.join(5)
    assert len(got) == 2, "the step change did not reach the phone"
    at, data = got[1]
    assert at - moved < 2
    assert data["view"]["step"] == "listening"
    assert [i["text"] for i in data["view"]["ideas"]] == ["Parents of toddlers"]  # and the card came with it


def test_a_write_that_is_rolled_back_never_wakes_a_stream(
    app: Flask, ws: WorkshopSession, ana: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that fails after a card was written keeps no card, and no screen is told of one."""
    monkeypatch.setitem(app.config, "WORKSHOP_POLL_SECONDS", 30)  # only a wake-up could tell the stream
    watcher = live.watcher(app)
    before, session_id = ws.revision, ws.id
    found: list[int | None] = []
    waiter = threading.Thread(target=lambda: found.append(watcher.wait(session_id, before, 1.5)))
    waiter.start()
    time.sleep(0.2)
    with pytest.raises(RuntimeError), unit.unit_of_work():
        ops.add_idea(ws, ana, "audiences", "Never kept")
        raise RuntimeError("the request failed after the write")
    waiter.join(3)
    assert found == [before]  # the stream timed out, unwoken
    assert db.session.scalar(select(func.count()).select_from(Idea).where(Idea.session_id == ws.id)) == 0
    # A write that is kept wakes it at once. (The watcher's first poll, above, woke the streams a
    # moment ago; a write this soon after would wait for its next poll, 30 s away here, so that
    # a typing room costs a few states a second: that wake-up is long past for this one.)
    watcher.notified_at = 0.0
    found.clear()
    waiter = threading.Thread(target=lambda: found.append(watcher.wait(session_id, before, 5)))
    waiter.start()
    time.sleep(0.2)
    began = time.monotonic()
    with unit.unit_of_work():
        ops.add_idea(ws, ana, "audiences", "Kept")
    waiter.join(6)
    assert found and found[0] > before and time.monotonic() - began < 1


def test_a_promotion_whose_second_half_fails_keeps_neither_the_item_nor_the_mark(
    ws: WorkshopSession, ana: Participant, owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = ops.add_idea(ws, ana, "audiences", "Night-shift nurses").number
    segments = ITEM_MODELS["segment"]
    count = db.session.scalar(select(func.count()).select_from(segments).where(segments.plan_id == ws.plan_id))

    def ended_meanwhile(*_args: Any) -> None:
        raise WorkshopError("This workshop has ended.")  # the facilitator ended it in another tab

    # The second half (the card's mark) starts by locking the session, and finds it ended.
    monkeypatch.setattr(ops, "_lock", ended_meanwhile)
    with pytest.raises(WorkshopError):
        ops.promote(ws, n, "segment", owner)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(segments).where(segments.plan_id == ws.plan_id)) == count
    assert db.session.scalar(select(Change).where(Change.source == f"workshop {ws.code}, idea #{n}")) is None
    idea = db.session.scalar(select(Idea).where(Idea.session_id == ws.id, Idea.number == n))
    assert idea.promoted_key is None
    monkeypatch.undo()
    _, key = ops.promote(ws, n, "segment", owner)  # and it can be promoted after all
    assert db.session.scalar(select(Idea.promoted_key).where(Idea.id == idea.id)) == key


def test_changes_are_only_sent_against_a_state_this_process_sent(
    app: Flask, ws: WorkshopSession, ana: Participant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker may have read the same revision at another moment: a phone reconnecting
    with its id gets the whole room once, then changes; with this process's own id, changes."""
    monkeypatch.setitem(app.config, "WORKSHOP_PARTICIPANT_GAP_SECONDS", 0.1)
    ops.add_idea(ws, ana, "audiences", "Card one")
    first_stream = live.event_stream(app, ws.id, ws.code, "room", ana.id, 0, changes=True)
    first = next(_states(first_stream))
    first_stream.close()
    ops.add_idea(ws, ana, "audiences", "Card two")
    elsewhere = live.event_stream(app, ws.id, ws.code, "room", ana.id, first["revision"], changes=True, held_from="x")
    whole = next(_states(elsewhere))
    elsewhere.close()
    assert "base" not in whole and len(whole["view"]["ideas"]) == 2
    here = live.event_stream(
        app, ws.id, ws.code, "room", ana.id, first["revision"], changes=True, held_from=state.run_of_states()
    )
    changes = next(_states(here))
    here.close()
    assert changes["base"] == first["revision"] and [i["text"] for i in changes["view"]["ideas"]] == ["Card two"]


def test_a_reconnecting_phone_names_the_run_it_holds_and_gets_changes(
    app: Flask, anonymous: Any, ws: WorkshopSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over HTTP, as the browser's EventSource reconnects: its `Last-Event-ID` is the last id."""
    monkeypatch.setitem(app.config, "WORKSHOP_STREAM_SECONDS", 1.0)
    monkeypatch.setitem(app.config, "WORKSHOP_HEARTBEAT_SECONDS", 0.3)
    code = ws.code
    anonymous.post(f"/join/{code}", {"name": "Ana"})
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Card one"}, headers={"Accept": "application/json"})
    body = anonymous.get(f"/workshop/{code}/events?changes=1&since=0").get_data(as_text=True)
    last_id = [line for line in body.splitlines() if line.startswith("id: ")][-1][4:]
    assert last_id.endswith("-" + state.run_of_states())
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Card two"}, headers={"Accept": "application/json"})
    again = anonymous.get(f"/workshop/{code}/events?changes=1", headers={"Last-Event-ID": last_id})
    data = json.loads(again.get_data(as_text=True).split("event: state\ndata: ", 1)[1].split("\n\n")[0])
    assert data["base"] == int(last_id.split("-")[0]) and [i["text"] for i in data["view"]["ideas"]] == ["Card two"]
