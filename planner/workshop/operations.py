"""Every write to a workshop session. Views call one of these and nothing else writes.

Every write moves the session's `revision` on, in the same transaction as the change, so a
screen that sees the new revision sees the change. The UPDATE that does it holds the session's
row (PostgreSQL) or the database (SQLite) until the commit, so:

* the facilitator's rare actions take it first (`_lock`), and everything they check is then
  current;
* the room's frequent writes (joining, adding a card, placing a dot) take it last (`_finish`),
  right before the commit, so that 150 people typing at once queue for one statement each,
  not for a whole request. What they must check in order is ordered by a smaller lock: a dot
  locks the person's own row; a card's number comes from a counter of its own.

A write ends with `unit.done()` (a request commits once, planner/unit.py). The live channel
hears of it after that commit (`live.after_commit`), never of a write rolled back; other
processes notice the new revision within one poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from planner import unit
from planner.domain import ENTITY_BY_NAME, STEPS, Kind
from planner.extensions import db
from planner.models import ITEM_MODELS, utcnow
from planner.plans import store
from planner.text import shorten
from planner.workshop import live, rules
from planner.workshop.models import Idea, IdeaGroup, Participant, Vote, WorkshopSession, WorkshopStep
from planner.workshop.rules import WorkshopError


def source_of(ws: WorkshopSession, idea: Idea) -> str:
    """How the plan's history names an item's origin."""
    return f"workshop {ws.code}, idea #{idea.number}"


def _lock(ws: WorkshopSession) -> int:
    """Start a write: move the revision on, holding the session until commit; re-read everything."""
    db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == ws.id)
        .values(revision=WorkshopSession.revision + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    if ws.ended_at is not None:
        db.session.rollback()
        raise WorkshopError("This workshop has ended.")
    return ws.revision


def _commit(ws: WorkshopSession) -> None:
    live.after_commit(ws.id, ws.revision)
    unit.done()


def _finish(session_id: int, check: Callable[[], None] | None = None) -> int:
    """End a room write: move the revision on (refusing if the session has ended meanwhile), run
    `check` under the session's lock, and end the write. Returns the new revision."""
    row = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session_id, WorkshopSession.ended_at.is_(None))
        .values(revision=WorkshopSession.revision + 1)
        .returning(WorkshopSession.revision)
        .execution_options(synchronize_session=False)
    ).first()
    try:
        if row is None:
            raise WorkshopError("This workshop has ended.")
        if check is not None:
            check()
    except WorkshopError:
        db.session.rollback()
        raise
    live.after_commit(session_id, row.revision)
    unit.done()
    return row.revision


def _live_or_error(ws: WorkshopSession) -> None:
    if ws.ended_at is not None:
        raise WorkshopError("This workshop has ended.")  # and the end is re-checked under the lock


def _quick_commit() -> None:
    """For the room's frequent writes on PostgreSQL: let COMMIT return before the WAL reaches
    the disk. The session's row lock is held until COMMIT returns, so a disk flush per card
    would otherwise queue the whole room behind the disk. The price, on a database crash, is
    the last fraction of a second of cards and dots; the database stays consistent."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _claim_number(session_id: int) -> tuple[int, int]:
    """A new card's number and the session's new revision, in one statement that takes the
    session's lock for the rest of the transaction (the card's INSERT and the COMMIT)."""
    row = db.session.execute(
        update(WorkshopSession)
        .where(WorkshopSession.id == session_id, WorkshopSession.ended_at.is_(None))
        .values(next_idea_number=WorkshopSession.next_idea_number + 1, revision=WorkshopSession.revision + 1)
        .returning(WorkshopSession.next_idea_number, WorkshopSession.revision)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.rollback()
        raise WorkshopError("This workshop has ended.")
    return row.next_idea_number - 1, row.revision


def _step(ws: WorkshopSession, slug: str) -> WorkshopStep:
    step = db.session.get(WorkshopStep, (ws.id, rules.step_or_error(slug)))
    if step is None:  # every session gets all its steps when it starts
        raise WorkshopError("There is no such step.")
    return step


def _idea(ws: WorkshopSession, number: int) -> Idea:
    idea = db.session.scalar(select(Idea).where(Idea.session_id == ws.id, Idea.number == number))
    if idea is None:
        raise WorkshopError(f"There is no idea #{number}.")
    return idea


# ---------------------------------------------------------------- the session


def start_session(plan: Any, actor: Any = None, step: str | None = None) -> WorkshopSession:
    slug = rules.step_or_error(step) if step else STEPS[0].slug
    for _attempt in range(5):
        ws = WorkshopSession(
            plan_id=plan.id,
            code=rules.new_code(),
            created_by_id=getattr(actor, "id", None),
            step=slug,
        )
        db.session.add(ws)
        try:
            db.session.flush()
        except IntegrityError:  # a code collision: vanishingly rare, but cheap to survive
            db.session.rollback()
            continue
        db.session.add_all(WorkshopStep(session_id=ws.id, step=s.slug) for s in STEPS)
        unit.done()
        return ws
    raise RuntimeError("could not find a free join code")


def end_session(ws: WorkshopSession) -> None:
    """Stop the code and every change. A vote still open closes, so that its dots count in
    the summary and the exports: nobody can close it once the session has ended."""
    _lock(ws)
    ws.ended_at = utcnow()
    ws.timer_ends_at = None
    db.session.execute(
        update(WorkshopStep)
        .where(WorkshopStep.session_id == ws.id, WorkshopStep.voting == "open")
        .values(voting="closed")
        .execution_options(synchronize_session=False)
    )
    _commit(ws)


def join(ws: WorkshopSession, name: str | None, user: Any = None, device: str | None = None) -> Participant:
    """A member joins as themselves (once per session); a guest joins with a name. `device`
    is the tag of the device they joined from (`access.device_tag`), if it has one."""
    if not rules.code_is_live(ws.created_at, ws.ended_at, utcnow()):
        raise WorkshopError("This workshop has ended.")
    if user is not None:
        existing = db.session.scalar(
            select(Participant).where(Participant.session_id == ws.id, Participant.user_id == user.id)
        )
        if existing is not None:
            return existing
        clean = rules.clean_name(getattr(user, "name", None) or name)
    else:
        clean = rules.clean_name(name)
    _quick_commit()
    participant = Participant(session_id=ws.id, user_id=getattr(user, "id", None), name=clean, device=device)
    db.session.add(participant)
    db.session.flush()
    _finish(ws.id)
    return participant


def move_room(ws: WorkshopSession, slug: str) -> None:
    _lock(ws)
    ws.step = rules.step_or_error(slug)
    _commit(ws)


def set_roam(ws: WorkshopSession, on: bool) -> None:
    _lock(ws)
    ws.roam = on
    _commit(ws)


# ---------------------------------------------------------------- steps: anonymity, reveal, voting


def configure_step(ws: WorkshopSession, slug: str, *, anonymous: bool, private: bool) -> None:
    _lock(ws)
    step = _step(ws, slug)
    step.anonymous = anonymous
    if private and not step.private:
        step.revealed = False  # hiding again means hidden until the next reveal
    step.private = private
    _commit(ws)


def reveal(ws: WorkshopSession, slug: str) -> None:
    _lock(ws)
    _step(ws, slug).revealed = True
    _commit(ws)


def open_voting(ws: WorkshopSession, slug: str, dots: int, per_idea: int) -> None:
    """Open (or reopen) dot voting. You cannot vote on cards you cannot see, so it reveals them."""
    rules.check_voting_settings(dots, per_idea)
    _lock(ws)
    step = _step(ws, slug)
    if step.voting == "open":
        raise WorkshopError("Voting is already open. Close it to change the dots.")
    if step.voting == "closed":
        # Settings may have got stricter since: take back the dots that no longer fit.
        _trim_votes(ws, slug, dots, per_idea)
    step.voting, step.dots, step.per_idea, step.revealed = "open", dots, per_idea, True
    _commit(ws)


def _trim_votes(ws: WorkshopSession, slug: str, dots: int, per_idea: int) -> None:
    rows = db.session.execute(
        select(Vote)
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Idea.session_id == ws.id, Idea.step == slug)
        .order_by(Vote.participant_id, Idea.number)
    ).scalars()
    used: dict[int, int] = {}
    for vote in rows:
        vote.dots = min(vote.dots, per_idea, max(0, dots - used.get(vote.participant_id, 0)))
        used[vote.participant_id] = used.get(vote.participant_id, 0) + vote.dots


def close_voting(ws: WorkshopSession, slug: str) -> None:
    _lock(ws)
    step = _step(ws, slug)
    if step.voting != "open":
        raise WorkshopError("Voting is not open on this step.")
    step.voting = "closed"
    _commit(ws)


def place_dot(ws: WorkshopSession, participant: Participant, number: int, delta: int) -> None:
    """Add (+1) or take back (-1) one of a participant's dots on an idea."""
    _live_or_error(ws)
    _quick_commit()
    # Two taps at once from one phone are checked one after the other: lock the person's row.
    db.session.execute(
        update(Participant)
        .where(Participant.id == participant.id)
        .values(name=Participant.name)
        .execution_options(synchronize_session=False)
    )
    idea = _idea(ws, number)
    step = _step(ws, idea.step)
    used = db.session.scalar(
        select(func.coalesce(func.sum(Vote.dots), 0))
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Vote.participant_id == participant.id, Idea.session_id == ws.id, Idea.step == idea.step)
    )
    vote = db.session.get(Vote, (idea.id, participant.id))
    rules.check_dot(
        voting=step.voting,
        dots=step.dots,
        per_idea=step.per_idea,
        used_in_step=used,
        on_idea=vote.dots if vote else 0,
        delta=delta,
        idea_votable=not idea.hidden,
    )
    if vote is None:
        vote = Vote(idea_id=idea.id, participant_id=participant.id, dots=0)
        db.session.add(vote)
    vote.dots += delta
    if vote.dots == 0:
        db.session.delete(vote)
    db.session.flush()
    # Closing the vote takes the session's lock first; `_finish` takes it too. Check again
    # under it, so that no dot lands after the facilitator closed voting.
    _finish(ws.id, lambda: _voting_still_open(ws.id, idea.step))


def _voting_still_open(session_id: int, slug: str) -> None:
    voting = db.session.scalar(
        select(WorkshopStep.voting)
        .where(WorkshopStep.session_id == session_id, WorkshopStep.step == slug)
        .execution_options(populate_existing=True)
    )
    if voting != "open":
        raise WorkshopError("Voting has just closed.")


# ---------------------------------------------------------------- ideas and groups


def add_idea(
    ws: WorkshopSession,
    participant: Participant | None,
    step: str,
    text: str | None,
    *,
    written_for: str | None = None,
) -> Idea:
    """A new card on `step`: a participant's own, or one the facilitator writes for someone
    (`participant` None, `written_for` their name). A card goes to the step it was written
    for, which need not be the room's step any more."""
    clean = rules.clean_idea(text)
    slug = rules.step_or_error(step)
    who = rules.clean_name(written_for) if written_for else None
    _live_or_error(ws)
    _quick_commit()
    number, revision = _claim_number(ws.id)
    idea = Idea(
        session_id=ws.id,
        number=number,
        step=slug,
        participant_id=participant.id if participant else None,
        written_for=who,
        text=clean,
    )
    db.session.add(idea)
    live.after_commit(ws.id, revision)
    unit.done()
    return idea


def edit_idea(ws: WorkshopSession, number: int, text: str | None, step: str | None = None) -> None:
    """The facilitator rewrites a card (for someone without a device, or to fix it), or moves it to another step."""
    clean = rules.clean_idea(text)
    _lock(ws)
    idea = _idea(ws, number)
    idea.text = clean
    if step and step != idea.step:
        idea.step = rules.step_or_error(step)
        idea.group_id = None
        db.session.execute(delete(Vote).where(Vote.idea_id == idea.id))
    _commit(ws)


def hide_idea(ws: WorkshopSession, number: int, hidden: bool = True) -> None:
    """Moderation: a hidden card leaves every screen but the facilitator's, and its dots go back."""
    _lock(ws)
    idea = _idea(ws, number)
    idea.hidden = hidden
    if hidden:
        db.session.execute(delete(Vote).where(Vote.idea_id == idea.id))
    _commit(ws)


def _label_free(ws: WorkshopSession, slug: str, label: str, group_id: int | None = None) -> None:
    """Refuse a name another group of the step has (under the session's lock, so two quick
    clicks cannot both add it), undoing the revision's move: nothing changed."""
    taken = db.session.scalars(
        select(IdeaGroup.label).where(
            IdeaGroup.session_id == ws.id, IdeaGroup.step == slug, IdeaGroup.id != (group_id or 0)
        )
    )
    try:
        rules.check_label_free(label, taken)
    except WorkshopError:
        db.session.rollback()
        raise


def add_group(ws: WorkshopSession, step: str, label: str | None) -> IdeaGroup:
    clean = rules.clean_label(label)
    slug = rules.step_or_error(step)
    _lock(ws)
    _label_free(ws, slug, clean)
    group = IdeaGroup(session_id=ws.id, step=slug, label=clean)
    db.session.add(group)
    db.session.flush()
    _commit(ws)
    return group


def _group(ws: WorkshopSession, group_id: int) -> IdeaGroup:
    group = db.session.get(IdeaGroup, group_id)
    if group is None or group.session_id != ws.id:
        raise WorkshopError("There is no such group.")
    return group


def rename_group(ws: WorkshopSession, group_id: int, label: str | None) -> None:
    """A group's name changes on every screen (the console's lists, the projector's sections);
    its cards stay in it. The label is checked before anything is written."""
    clean = rules.clean_label(label)
    _lock(ws)
    group = _group(ws, group_id)
    _label_free(ws, group.step, clean, group.id)
    group.label = clean
    _commit(ws)


def set_group(ws: WorkshopSession, number: int, group_id: int | None) -> None:
    _lock(ws)
    idea = _idea(ws, number)
    if group_id is not None:
        group = db.session.get(IdeaGroup, group_id)
        if group is None or group.session_id != ws.id or group.step != idea.step:
            raise WorkshopError("There is no such group on this idea's step.")
    idea.group_id = group_id
    _commit(ws)


def delete_group(ws: WorkshopSession, group_id: int) -> None:
    """Remove a group; its cards stay, ungrouped."""
    _lock(ws)
    group = _group(ws, group_id)
    db.session.execute(update(Idea).where(Idea.group_id == group_id).values(group_id=None))
    db.session.delete(group)
    _commit(ws)


# ---------------------------------------------------------------- the timer


def start_timer(ws: WorkshopSession, minutes: float) -> None:
    _lock(ws)
    ws.timer_ends_at, ws.timer_seconds = rules.timer_start(utcnow(), minutes)
    _commit(ws)


def add_minute(ws: WorkshopSession) -> None:
    _lock(ws)
    ws.timer_ends_at, ws.timer_seconds = rules.timer_add_minute(ws.timer_ends_at, ws.timer_seconds, utcnow())
    _commit(ws)


def stop_timer(ws: WorkshopSession) -> None:
    _lock(ws)
    ws.timer_ends_at, ws.timer_seconds = None, None
    _commit(ws)


# ---------------------------------------------------------------- from idea to plan


def promotion_values(plan: Any, entity_name: str, text: str) -> dict[str, Any]:
    """A new item's values from a card: the card's text as its title, and for a required
    reference (an objective's goal) the plan's first candidate, which the edit form that
    follows lets the facilitator change."""
    entity = ENTITY_BY_NAME[entity_name]
    title = entity.field(entity.title_field)
    values: dict[str, Any] = {
        entity.title_field: text if len(text) <= title.max_length else shorten(text, title.max_length)
    }
    for f in entity.fields:
        if not f.required or f.name == entity.title_field:
            continue
        if f.kind is not Kind.REF:
            raise WorkshopError(f"A {entity.label.lower()} needs “{f.label}”: add it in the wizard.")
        model = ITEM_MODELS[f.target]
        first = db.session.scalar(
            select(model.key).where(model.plan_id == plan.id).order_by(model.position, model.id).limit(1)
        )
        if first is None:
            target = ENTITY_BY_NAME[f.target]
            raise WorkshopError(f"A {entity.label.lower()} needs a {target.label.lower()}: add one first.")
        values[f.name] = first
    return values


def promote(ws: WorkshopSession, number: int, entity_name: str, actor: Any = None) -> tuple[str, str]:
    """Turn a card into a plan item of its step's kind. Returns the item's (entity, key).

    One transaction: the item, written through the plan's store like any edit (so the plan's
    history has it with its source), and the card's mark of what it became, or neither."""
    _live_or_error(ws)
    with unit.unit_of_work():
        idea = _idea(ws, number)
        if idea.promoted_key:
            raise WorkshopError(f"Idea #{number} is already in the plan.")
        if entity_name not in rules.promotable(idea.step):
            raise WorkshopError("Ideas on this step cannot become that kind of item.")
        plan, entity = store.get_plan(ws.plan_id), ENTITY_BY_NAME[entity_name]
        values = promotion_values(plan, entity_name, idea.text)
        key = store.add_item(plan, entity, values, actor, source=source_of(ws, idea)).key
        _lock(ws)  # then the card remembers what it became
        idea = _idea(ws, number)
        idea.promoted_entity, idea.promoted_key = entity_name, key
        _commit(ws)
    return entity_name, key
