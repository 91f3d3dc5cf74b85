"""What changed since a member last looked, for the marks on the steps and the items, and the
line on a step that says what changed and who changed it.

News is kept per step. A change (or a comment) on a step is news to a member until they have
looked at that step since, whatever else they looked at meanwhile: a colleague who read the
audiences at nine, went on through the plan and comes back before lunch is shown the segment
renamed at ten, although they were "here" after it. (Counting the plan as a whole, that change
fell inside their last visit and was never marked again.)

Marks do not vanish the moment a step is opened: looking at a step starts a *stretch* of
looking at it, which lasts while the member comes back within `VISIT_GAP`. What changed after
the look before the stretch (`StepVisit.previous_at`) stays marked for the whole stretch. A
step the member has never opened counts from their visit of the whole plan
(`Membership.previous_visit_at`; on their first visit, from the moment they first looked:
what others do while they are there is news, what was there before is not).

Without a signed-in member (the command line, a test that signs nobody in) there is no news.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, not_, or_, select

from planner import unit
from planner.accounts.models import Membership, User
from planner.discussion.models import Comment, StepVisit
from planner.domain import STEP_BY_SLUG
from planner.extensions import db
from planner.models import utcnow
from planner.plans import cached
from planner.plans.models import Change
from planner.text import counted, joined

VISIT_GAP = timedelta(minutes=30)
# Looking again within this long is the same moment: no write to the database.
_STILL_HERE = timedelta(minutes=1)
# How many of one person's changes the step's line names before it counts the rest.
_NAMED = 3


def _user_id(user: Any) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def _membership(plan_id: int, user_id: int, known: Membership | None) -> Membership | None:
    """The user's membership of the plan: `known` when it is that one (the request has read
    it already: `planner.accounts.access`), else read."""
    if known is not None and known.plan_id == plan_id and known.user_id == user_id:
        return known
    return db.session.scalar(select(Membership).where(Membership.plan_id == plan_id, Membership.user_id == user_id))


def step_visits(plan_id: int, user: Any) -> list[StepVisit]:
    """The member's visits of the plan's steps, in one read: a step page hands them to
    `record_visit` and `news`, which would otherwise each read them."""
    user_id = _user_id(user)
    if user_id is None:
        return []
    return list(db.session.scalars(select(StepVisit).where(StepVisit.plan_id == plan_id, StepVisit.user_id == user_id)))


def record_visit(
    plan_id: int,
    user: Any,
    step: str | None = None,
    now: datetime | None = None,
    membership: Membership | None = None,
    seen: list[StepVisit] | None = None,
) -> datetime | None:
    """Note that `user` is looking at the plan (at `step`, when given); returns since when the
    plan's changes are news to them (None without a member). `seen`: the member's step visits,
    read already (`step_visits`); a new one is added to it."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    membership = _membership(plan_id, user_id, membership)
    if membership is None:
        return None
    now = now or utcnow()
    write = False
    last = membership.current_visit_at
    if last is None:
        membership.previous_visit_at = now  # a first visit: from now on, what others do is news
    elif now - last > VISIT_GAP:
        membership.previous_visit_at = last
    if last is None or now - last > _STILL_HERE:
        membership.current_visit_at = now
        write = True
    if step is not None:
        if seen is None:
            this = db.session.get(StepVisit, (plan_id, user_id, step))
        else:
            this = next((visit for visit in seen if visit.step == step), None)
        if this is None:
            this = StepVisit(
                plan_id=plan_id,
                user_id=user_id,
                step=step,
                previous_at=membership.previous_visit_at,
                current_at=now,
            )
            db.session.add(this)
            if seen is not None:
                seen.append(this)
            write = True
        elif now - this.current_at > _STILL_HERE:
            if now - this.current_at > VISIT_GAP:
                this.previous_at = this.current_at
            this.current_at = now
            write = True
    if write:
        unit.done()
    return membership.previous_visit_at


@dataclass(frozen=True)
class News:
    """What others changed and said since the member last looked: per step (changes and new
    comments), per item and which plan fields; and, for the step on the page, since when and
    who did what (`told`: one sentence per person)."""

    since: datetime | None = None
    steps: Counter[str] = field(default_factory=Counter)
    items: frozenset[tuple[str, str]] = frozenset()
    plan_fields: frozenset[str] = frozenset()
    told: tuple[str, ...] = ()

    def item(self, entity_name: str, key: str) -> bool:
        return (entity_name, key) in self.items

    @property
    def step_counts(self) -> tuple[tuple[str, int], ...]:
        """How many changes and comments each step has, as a key of what the progress bar shows."""
        return tuple(sorted(self.steps.items()))

    def __bool__(self) -> bool:
        return bool(self.steps)


NO_NEWS = News()


def _since_by_step(
    plan_id: int, user_id: int, plan_since: datetime, now: datetime, visits: list[StepVisit] | None = None
) -> dict[str, datetime]:
    """For each step, since when its changes are news to the member (`visits`: their step
    visits, when read already)."""
    since = dict.fromkeys(STEP_BY_SLUG, plan_since)
    if visits is None:
        visits = list(
            db.session.scalars(select(StepVisit).where(StepVisit.plan_id == plan_id, StepVisit.user_id == user_id))
        )
    for seen in visits:
        if seen.step in since:
            looking = now - seen.current_at <= VISIT_GAP
            since[seen.step] = (seen.previous_at or plan_since) if looking else seen.current_at
    return since


def _times(count: int) -> str:
    return {1: "", 2: " twice"}.get(count, f" {count} times")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _sentences(changed: dict[str, list[str]], commented: Counter[str]) -> tuple[str, ...]:
    """ "Ana Alvarez edited audience segment “Parents”: name, and commented": one per person,
    in the order they first appear."""
    out = []
    for who in dict.fromkeys([*changed, *commented]):
        said = list(dict.fromkeys(changed.get(who, ())))
        parts = [_lower_first(s) for s in said[:_NAMED]]
        if len(said) > _NAMED:
            parts.append(counted(len(said) - _NAMED, "more change"))
        if commented[who]:
            parts.append(f"commented{_times(commented[who])}")
        out.append(f"{who} {joined(parts, serial=True)}")  # serial: each part may hold commas
    return tuple(out)


def news(
    plan_id: int,
    user: Any,
    membership: Membership | None = None,
    step: str | None = None,
    plan: Any = None,
    seen: list[StepVisit] | None = None,
) -> News:
    """What others changed and said since the member last looked at each step (nothing before
    their first visit); `told` and `since` are about `step`. Given the `plan` (a step page),
    it is kept for the plan's revision and discussion revision (every change and comment moves
    one of them on) and the member's own times (`planner.plans.cached`). `seen`: the member's
    step visits, read already (`step_visits`)."""
    user_id = _user_id(user)
    if user_id is None:
        return NO_NEWS
    found = _membership(plan_id, user_id, membership)
    plan_since = found.previous_visit_at if found else None
    if plan_since is None:
        return NO_NEWS
    since = _since_by_step(plan_id, user_id, plan_since, utcnow(), seen)
    if plan is None:
        return _news(plan_id, user_id, plan_since, since, step)
    key = ("news", plan.discussion_revision, user_id, step, plan_since, tuple(since.items()))
    return cached.per_revision(plan, key, lambda: _news(plan_id, user_id, plan_since, since, step))


def _news(plan_id: int, user_id: int, plan_since: datetime, since: dict[str, datetime], step: str | None) -> News:
    """Counted and gathered by the database: what a page shows of others' changes (per step, per
    item, and the step's distinct summaries per person) is small, however many changes there were
    since the member's first look; reading every one of them made each step page slower through
    a long day of a busy team's edits."""
    oldest = min(since.values())
    not_mine = or_(Change.user_id.is_(None), Change.user_id != user_id)
    # A change is news when it came after the member's last look at its step (`since`).
    news_since = case({slug: literal(at, Change.at.type) for slug, at in since.items()}, value=Change.step)
    news = (Change.plan_id == plan_id, Change.at > oldest, not_mine, Change.at > news_since)
    steps: Counter[str] = Counter()
    items: set[tuple[str, str]] = set()
    plan_changed = False
    # One row per step and item changed (or the plan's fields), however often.
    per_item = select(Change.step, Change.entity, Change.item_key, func.count()).where(*news)
    for step_slug, entity_name, key, count in db.session.execute(
        per_item.group_by(Change.step, Change.entity, Change.item_key)
    ):
        steps[step_slug] += count
        if key:
            items.add((entity_name, key))
        plan_changed = plan_changed or entity_name == "plan"
    changed: dict[str, list[str]] = {}
    if step in since:
        # What a deletion took along is said by the deletion ("and 2 items that needed it").
        along = and_(Change.source.like("change:%"), Change.action != "restore")
        first = func.min(Change.at)
        rows = db.session.execute(
            select(User.name, Change.summary)
            .outerjoin(User, User.id == Change.user_id)
            .where(*news, Change.step == step, or_(Change.source.is_(None), not_(along)))
            .group_by(User.name, Change.summary)
            .order_by(first, func.min(Change.id))
        )
        for name, summary in rows:
            changed.setdefault(name or "Someone", []).append(summary)
    # Only the plan's own fields need the values, to say which fields changed.
    fields: set[str] = set()
    if plan_changed:
        for after, before in db.session.execute(
            select(Change.after, Change.before).where(*news, Change.entity == "plan", Change.action != "import")
        ):
            fields.update((after or before or {}).keys())
    comments = db.session.execute(
        select(Comment.step, Comment.created_at, User.name)
        .outerjoin(User, User.id == Comment.user_id)
        .where(
            Comment.plan_id == plan_id,
            Comment.created_at > oldest,
            or_(Comment.user_id.is_(None), Comment.user_id != user_id),
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    commented: Counter[str] = Counter()
    for comment_step, at, name in comments:
        if comment_step in since and at > since[comment_step]:
            steps[comment_step] += 1
            if comment_step == step:
                commented[name or "Someone"] += 1
    return News(
        since=since.get(step, plan_since) if step else plan_since,
        steps=steps,
        items=frozenset(items),
        plan_fields=frozenset(fields),
        told=_sentences(changed, commented),
    )
