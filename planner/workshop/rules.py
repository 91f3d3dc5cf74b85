"""The workshop's rules as plain functions: join codes, text limits, dot voting, the timer,
and who sees what. Nothing here touches the database or the request, so each rule can be
tested on its own; `operations` and `state` apply them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG
from planner.workshop.models import CODE_LENGTH, GROUP_LABEL_MAX, IDEA_MAX, NAME_MAX

# No 0/O, 1/I/L: a code read off a projector at the back of a room must not be ambiguous.
# 31 letters over 8 places is about 8.5e11 codes; with joins rate-limited, guessing one is hopeless.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# A code also stops working this long after the session started, if nobody ended it.
CODE_MAX_AGE = timedelta(days=3)
MAX_DOTS = 20
TOP_IDEAS = 5  # how many of the most-dotted ideas a closing screen shows
TIMER_MAX_MINUTES = 180


class WorkshopError(ValueError):
    """A request the rules refuse; the message is fit to show the person."""


# ---------------------------------------------------------------- codes


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str | None) -> str | None:
    """A code as typed ("abcd efgh", "ABCD-EFGH") in its stored form, or None if it cannot be one."""
    code = "".join(ch for ch in (raw or "").upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def spaced(code: str) -> str:
    """The code as shown on a screen: two groups of four."""
    return f"{code[:4]} {code[4:]}"


def code_is_live(created_at: datetime, ended_at: datetime | None, now: datetime) -> bool:
    return ended_at is None and now - created_at < CODE_MAX_AGE


# ---------------------------------------------------------------- text


def clean_text(raw: str | None, limit: int, what: str) -> str:
    """Collapse whitespace runs (a card is one paragraph) and refuse empty or long text."""
    text = " ".join((raw or "").split())
    if not text:
        raise WorkshopError(f"Write {what} first.")
    if len(text) > limit:
        raise WorkshopError(f"{what.capitalize()} can be at most {limit} characters.")
    return text


def clean_idea(raw: str | None) -> str:
    return clean_text(raw, IDEA_MAX, "an idea")


def clean_name(raw: str | None) -> str:
    return clean_text(raw, NAME_MAX, "your name")


def clean_label(raw: str | None) -> str:
    return clean_text(raw, GROUP_LABEL_MAX, "a group name")


def check_label_free(label: str, taken: Iterable[str]) -> None:
    """Refuse a group name the step already has, whatever its case or spacing: two sections
    called "Forums" and "forums " on the projector would split one theme in two."""
    wanted = " ".join(label.split()).casefold()
    for other in taken:
        if " ".join(other.split()).casefold() == wanted:
            raise WorkshopError(f"This step already has a group called “{other}”.")


def step_or_error(slug: str | None) -> str:
    if slug not in STEP_BY_SLUG:
        raise WorkshopError("There is no such step.")
    return slug


def promotable(step_slug: str) -> tuple[str, ...]:
    """The kinds of plan item an idea on this step can become: the step's entities."""
    return STEP_BY_SLUG[step_slug].entities


# ---------------------------------------------------------------- voting


def check_voting_settings(dots: int, per_idea: int) -> None:
    if not 1 <= dots <= MAX_DOTS:
        raise WorkshopError(f"Give each person from 1 to {MAX_DOTS} dots.")
    if not 1 <= per_idea <= dots:
        raise WorkshopError("The limit per idea must be from 1 to the number of dots.")


def check_dot(
    *, voting: str, dots: int, per_idea: int, used_in_step: int, on_idea: int, delta: int, idea_votable: bool
) -> None:
    """May a person add (delta +1) or take back (delta -1) one dot on an idea?

    `used_in_step` is how many dots they have placed on this step's ideas, `on_idea` how many
    on this one. Dots can move freely while voting is open, and not at all after.
    """
    if voting != "open":
        raise WorkshopError("Voting is not open on this step.")
    if delta == 1:
        if not idea_votable:
            raise WorkshopError("That idea is not up for voting.")
        if used_in_step >= dots:
            raise WorkshopError("You have placed all your dots. Take one back to move it.")
        if on_idea >= per_idea:
            raise WorkshopError(f"At most {per_idea} dots on one idea.")
    elif delta == -1:
        if on_idea <= 0:
            raise WorkshopError("You have no dot on that idea.")
    else:
        raise WorkshopError("A dot is added or taken back one at a time.")


# ---------------------------------------------------------------- timer


def timer_start(now: datetime, minutes: float) -> tuple[datetime, int]:
    if not 0 < minutes <= TIMER_MAX_MINUTES:
        raise WorkshopError(f"Set the timer from 1 to {TIMER_MAX_MINUTES} minutes.")
    seconds = round(minutes * 60)
    return now + timedelta(seconds=seconds), seconds


def timer_add_minute(ends_at: datetime | None, seconds: int | None, now: datetime) -> tuple[datetime, int]:
    """+1 minute: on a running countdown, one more minute; on a finished or absent one, a new minute."""
    if ends_at is None or ends_at <= now:
        return timer_start(now, 1)
    return ends_at + timedelta(minutes=1), (seconds or 0) + 60


def timer_remaining(ends_at: datetime | None, now: datetime) -> float | None:
    """Seconds left, never below zero; None when no timer is set. Clients do the same sum
    with their clock corrected by the offset to the server's `server_now`."""
    if ends_at is None:
        return None
    return max(0.0, (ends_at - now).total_seconds())


# ---------------------------------------------------------------- who sees what


@dataclass
class Snapshot:
    """Everything about one session at one revision, as plain data (see `state.load_snapshot`)."""

    session: dict[str, Any]
    steps: dict[str, dict[str, Any]]
    participants: dict[int, str]
    groups: list[dict[str, Any]]
    ideas: list[dict[str, Any]]
    votes: dict[int, dict[int, int]] = field(default_factory=dict)  # idea id -> participant id -> dots
    devices: dict[int, str] = field(default_factory=dict)  # participant id -> device tag, where known


def in_room(idea: dict[str, Any], step: dict[str, Any]) -> bool:
    """Does the room (projector and participants) see this idea?"""
    return not idea["hidden"] and (not step["private"] or step["revealed"])


def author(snap: Snapshot, idea: dict[str, Any]) -> str | None:
    """The name on a card, or None on an anonymous step. Anonymous means to everyone,
    the facilitator and the exports included: that is what makes people write honestly."""
    if snap.steps[idea["step"]]["anonymous"]:
        return None
    if idea["written_for"]:
        return idea["written_for"]
    return snap.participants.get(idea["participant_id"])


def tally(snap: Snapshot, idea: dict[str, Any]) -> int:
    return sum(snap.votes.get(idea["id"], {}).values())


def _step_summary(snap: Snapshot, slug: str) -> dict[str, Any]:
    step = snap.steps[slug]
    info = STEP_BY_SLUG[slug]
    ideas = [i for i in snap.ideas if i["step"] == slug and not i["hidden"]]
    voters = {p for i in ideas for p, d in snap.votes.get(i["id"], {}).items() if d}
    return {
        "slug": slug,
        "number": info.number,
        "title": info.title,
        "prompt": info.prompt,
        "anonymous": step["anonymous"],
        "private": step["private"],
        "revealed": step["revealed"],
        "voting": step["voting"],
        "dots": step["dots"],
        "per_idea": step["per_idea"],
        "idea_count": len(ideas),
        "voters": len(voters),
    }


def _public_idea(snap: Snapshot, idea: dict[str, Any]) -> dict[str, Any]:
    step = snap.steps[idea["step"]]
    return {
        "n": idea["number"],
        "step": idea["step"],
        "text": idea["text"],
        "author": author(snap, idea),
        "group": idea["group_id"],
        "votes": tally(snap, idea) if step["voting"] == "closed" else None,
        "promoted": promoted(idea),
    }


def promoted(idea: dict[str, Any]) -> dict[str, str] | None:
    if not idea["promoted_entity"]:
        return None
    entity = ENTITY_BY_NAME.get(idea["promoted_entity"])
    label = entity.label if entity else idea["promoted_entity"]
    return {"entity": idea["promoted_entity"], "key": idea["promoted_key"], "label": label}


def _common(snap: Snapshot) -> dict[str, Any]:
    return {
        **snap.session,
        "joined": len(snap.participants),
        "steps": [_step_summary(snap, slug) for slug in snap.steps],
        "groups": snap.groups,
    }


def room_view(snap: Snapshot) -> dict[str, Any]:
    """What the projector shows and every participant shares."""
    return {**common_view(snap), "ideas": room_ideas(snap)}


def common_view(snap: Snapshot) -> dict[str, Any]:
    """The room's view without its cards: the session, its steps and its groups."""
    return _common(snap)


def room_ideas(snap: Snapshot) -> list[dict[str, Any]]:
    """The cards the room sees, in number order, as the room sees them."""
    return [_public_idea(snap, i) for i in snap.ideas if in_room(i, snap.steps[i["step"]])]


def pace(snap: Snapshot) -> str:
    """What a phone must hear at once when it changes: the room's step, roaming, the timer,
    the end, each step's settings (anonymity, reveal, voting) and the groups. Only new cards,
    edits to cards and dots may wait for a phone's turn (`live`); they leave this unchanged."""
    session = {k: v for k, v in snap.session.items() if k != "revision"}
    return repr((sorted(session.items()), sorted(snap.steps.items()), snap.groups))


def facilitator_view(snap: Snapshot) -> dict[str, Any]:
    """The room's view plus what only the facilitator handles: cards not yet revealed,
    hidden cards, who has joined, and what each step's ideas can become."""
    ideas = []
    for i in snap.ideas:
        public = _public_idea(snap, i)
        public["hidden"] = i["hidden"]
        public["shown"] = in_room(i, snap.steps[i["step"]])
        public["written_for"] = i["written_for"]
        ideas.append(public)
    view = _common(snap)
    view["ideas"] = ideas
    view["participants"] = sorted(snap.participants.values(), key=str.casefold)
    view["shared_devices"] = shared_devices(snap)
    view["kinds"] = {
        slug: [{"name": name, "label": ENTITY_BY_NAME[name].label} for name in promotable(slug)] for slug in snap.steps
    }
    return view


def shared_devices(snap: Snapshot) -> list[list[str]]:
    """The names that joined from one device, for each device with more than one: one phone
    joining as "Ann", "Bob" and "Cy" gets three times the dots. Most names first."""
    by_device: dict[str, list[str]] = {}
    for pid, tag in snap.devices.items():
        if pid in snap.participants:
            by_device.setdefault(tag, []).append(snap.participants[pid])
    found = [sorted(names, key=str.casefold) for names in by_device.values() if len(names) > 1]
    return sorted(found, key=lambda names: (-len(names), names[0].casefold()))


def personal_views(snap: Snapshot) -> dict[int, dict[str, Any]]:
    """What only each participant sees, for everyone at once (one pass over the cards):
    their own cards (revealed or not) and their dots."""
    views: dict[int, dict[str, Any]] = {
        pid: {"id": pid, "name": name, "ideas": [], "votes": {}, "used": {}} for pid, name in snap.participants.items()
    }
    for i in snap.ideas:
        owner = views.get(i["participant_id"]) if not i["written_for"] else None
        if owner is not None:
            owner["ideas"].append(
                {"n": i["number"], "step": i["step"], "text": i["text"], "hidden": i["hidden"], "group": i["group_id"]}
            )
        for pid, dots in snap.votes.get(i["id"], {}).items():
            voter = views.get(pid)
            if voter is not None and dots:
                voter["votes"][str(i["number"])] = dots
                voter["used"][i["step"]] = voter["used"].get(i["step"], 0) + dots
    return views


def personal_view(snap: Snapshot, participant_id: int) -> dict[str, Any]:
    return personal_views(snap).get(
        participant_id, {"id": participant_id, "name": None, "ideas": [], "votes": {}, "used": {}}
    )


# ---------------------------------------------------------------- the summary


def summary(snap: Snapshot, names: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """What a session came to, for its closing screens and its look back: how many people,
    ideas and dots, what went into the plan (by the items' names in `names`, keyed by entity
    and key; an item missing there has since left the plan), and each step's ideas.

    Hidden cards are counted apart and not listed; dots count only where voting closed
    (ending a session closes its open votes, see `operations.end_session`)."""
    groups = {g["id"]: g["label"] for g in snap.groups}
    steps: list[dict[str, Any]] = []
    for slug, step in snap.steps.items():
        info = STEP_BY_SLUG[slug]
        closed = step["voting"] == "closed"
        ideas = []
        for idea in (i for i in snap.ideas if i["step"] == slug and not i["hidden"]):
            made = promoted(idea)
            ideas.append(
                {
                    "n": idea["number"],
                    "text": idea["text"],
                    "author": author(snap, idea),
                    "group": groups.get(idea["group_id"]),
                    "votes": tally(snap, idea) if closed else None,
                    "promoted": made and {**made, "name": names.get((made["entity"], made["key"]))},
                }
            )
        if not ideas:
            continue
        if closed:
            ideas.sort(key=lambda i: (-i["votes"], i["n"]))
        steps.append(
            {
                "slug": slug,
                "number": info.number,
                "title": info.title,
                "voting": step["voting"],
                "dots_each": step["dots"],
                "dots": sum(i["votes"] or 0 for i in ideas),
                "ideas": ideas,
            }
        )
    voted = [{**i, "step": s["title"]} for s in steps for i in s["ideas"] if i["votes"]]
    closed_ideas = {i["id"] for i in snap.ideas if snap.steps[i["step"]]["voting"] == "closed" and not i["hidden"]}
    voters = {p for idea_id in closed_ideas for p, d in snap.votes.get(idea_id, {}).items() if d}
    return {
        "plan": snap.session["plan"]["title"],
        "people": len(snap.participants),
        "ideas": sum(len(s["ideas"]) for s in steps),
        "hidden": sum(1 for i in snap.ideas if i["hidden"]),
        "dots": sum(s["dots"] for s in steps),
        "voters": len(voters),
        # What the room liked best, for the last slide: the ideas with the most dots.
        "top": sorted(voted, key=lambda i: -i["votes"])[:TOP_IDEAS],
        # Every card that became an item, hidden or not: the item is in the plan either way.
        "promoted": [
            {**made, "name": names.get((made["entity"], made["key"])), "n": i["number"], "text": i["text"]}
            for slug in snap.steps
            for i in snap.ideas
            if i["step"] == slug and (made := promoted(i))
        ],
        "steps": steps,
    }
