"""What a step page shows of the team's work around it: news since the member's last visit,
comments, the step's owner, and the versions its forms are based on."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user

from planner import pagecache
from planner.accounts import roles
from planner.discussion import assignments, comments, visits
from planner.discussion.forms import AssignmentForm
from planner.domain import Step


def _seen_by_me(step: Step, news: visits.News, thread: comments.Thread) -> tuple[Any, ...]:
    """All that the step's items show of the member's own: what is marked as changed since
    their last visit, and each comment on an item with its author, whether it is new to them and
    whether it is theirs (a Delete button). With the plan's revision and the member's role, this
    decides the list of items, so that it is drawn once for everyone it is the same for
    (`planner.pagecache`)."""
    me = getattr(current_user, "id", None)
    since = news.since
    return (
        tuple(sorted(name for name in step.plan_fields if name in news.plan_fields)),
        tuple(sorted((entity, key) for entity, key in news.items if entity in step.entities)),
        tuple(
            (
                entity,
                key,
                comment.id,
                author,
                bool(since and comment.created_at > since and comment.user_id != me),
                comment.user_id == me,
            )
            for (entity, key), on_item in sorted(thread.on_items.items())
            for comment, author in on_item
        ),
    )


def step_context(plan: Any, step: Step, failed_id: str | None = None) -> dict[str, Any]:
    """Template values for a step page. On a form sent back with errors, that form keeps the
    version it was based on, so that saving it later still merges with what others did."""
    sent = request.form.get("base_version") if failed_id else None
    may_manage = roles.allows(g.get("plan_role"), "manage")
    owner, thread = pagecache.per_discussion(
        plan, step.slug, lambda: (assignments.assignment(plan.id, step.slug), comments.thread(plan.id, step.slug))
    )
    assignment_form = None
    if may_manage:
        members = assignments.possible_owners(plan.id)
        assignment_form = AssignmentForm(
            formdata=None,
            members=members,
            data={
                "owner": str(owner.owner_id) if owner and owner.owner_id else "",
                "due": owner.due if owner else None,
            },
        )
    news = visits.news(plan.id, current_user, g.get("membership"), step.slug)
    return {
        "news": news,
        "thread": thread,
        "seen_by_me": _seen_by_me(step, news, thread),
        "assignment": owner,
        "assignment_form": assignment_form,
        "comment_limit": comments.MAX_LENGTH,
        "fields_base_version": sent if failed_id == "plan" and sent else plan.fields_version,
        "base_version": sent,
    }
