"""Comments on a step, or on one item of a step: written by members, deleted by their author."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from planner import unit
from planner.accounts.models import User
from planner.discussion.models import Comment
from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, STEP_OF_ENTITY
from planner.extensions import db
from planner.models import ITEM_MODELS, discussed

MAX_LENGTH = 2000
# Who may comment (a need of `planner.accounts.roles`): every member, viewers too. A director
# or a board member reviews the plan as a viewer, and what they have to say belongs beside the
# step it is about. Comments are not plan content (not in the history, the document or the
# JSON), so a viewer who comments still changes nothing of the plan. The routes ask for it and
# the pages show the comment forms by it (`may_comment`).
NEED = "view"


class CommentRefused(ValueError):
    """A comment that cannot be written or deleted; the message says why."""


@dataclass(frozen=True)
class Said:
    """One comment as a page shows it: plain values, which a page may keep between requests."""

    id: int
    user_id: int | None
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Thread:
    """A step's comments: those on the step itself, and those on each item, oldest first, each
    with its author's name."""

    on_step: tuple[tuple[Said, str | None], ...]
    on_items: dict[tuple[str, str], tuple[tuple[Said, str | None], ...]]

    def of(self, entity_name: str, key: str) -> tuple[tuple[Said, str | None], ...]:
        return self.on_items.get((entity_name, key), ())


def thread(plan_id: int, step_slug: str) -> Thread:
    """Every comment of one step, with its author's name, in one query."""
    rows = db.session.execute(
        select(
            Comment.id, Comment.user_id, Comment.body, Comment.created_at, Comment.entity, Comment.item_key, User.name
        )
        .outerjoin(User, User.id == Comment.user_id)
        .where(Comment.plan_id == plan_id, Comment.step == step_slug)
        .order_by(Comment.created_at, Comment.id)
    )
    on_step: list[tuple[Said, str | None]] = []
    on_items: dict[tuple[str, str], list[tuple[Said, str | None]]] = {}
    for comment_id, user_id, body, created_at, entity, item_key, name in rows:
        said = (Said(comment_id, user_id, body, created_at), name)
        if entity and item_key:
            on_items.setdefault((entity, item_key), []).append(said)
        else:
            on_step.append(said)
    return Thread(tuple(on_step), {key: tuple(said) for key, said in on_items.items()})


def add_comment(
    plan: Any, author: Any, body: str, *, step: str | None = None, entity: str | None = None, key: str | None = None
) -> Comment:
    """Comment on a step, or (with `entity` and `key`) on one of its items."""
    body = (body or "").strip()
    if not body:
        raise CommentRefused("Write something first.")
    if len(body) > MAX_LENGTH:
        raise CommentRefused(f"A comment can be at most {MAX_LENGTH} characters ({len(body)} now).")
    if entity or key:
        target = ENTITY_BY_NAME.get(entity or "")
        if target is None or not key:
            raise CommentRefused("There is no such item.")
        model = ITEM_MODELS[target.name]
        if db.session.scalar(select(model.id).where(model.plan_id == plan.id, model.key == key)) is None:
            raise CommentRefused(f"That {target.label.lower()} no longer exists.")
        step = STEP_OF_ENTITY[target.name].slug
    if step not in STEP_BY_SLUG:
        raise CommentRefused("There is no such step.")
    comment = Comment(
        plan_id=plan.id,
        user_id=getattr(author, "id", None) if getattr(author, "is_authenticated", False) else None,
        step=step,
        entity=entity or None,
        item_key=key or None,
        body=body,
    )
    db.session.add(comment)
    discussed(plan)
    unit.done()
    return comment


def delete_comment(plan: Any, comment_id: int, user: Any) -> Comment:
    """Delete a comment; only its author may."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.plan_id != plan.id:
        raise LookupError(f"no comment {comment_id}")
    if comment.user_id is None or comment.user_id != getattr(user, "id", None):
        raise CommentRefused("Only the person who wrote a comment can delete it.")
    db.session.delete(comment)
    discussed(plan)
    unit.done()
    return comment
