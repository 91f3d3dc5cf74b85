"""What a step page shows of the team's work around it: news since the member's last visit,
comments, the step's owner, and the versions its forms are based on."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user

from planner.accounts import roles
from planner.discussion import assignments, comments, visits
from planner.discussion.forms import AssignmentForm
from planner.domain import Step
from planner.plans import cached


def step_context(plan: Any, step: Step, failed_id: str | None = None, seen: list[Any] | None = None) -> dict[str, Any]:
    """Template values for a step page. On a form sent back with errors, that form keeps the
    version it was based on, so that saving it later still merges with what others did.
    `seen`: the member's step visits, read already (`visits.step_visits`)."""
    sent = request.form.get("base_version") if failed_id else None
    may_manage = roles.allows(g.get("plan_role"), "manage")
    owner, thread = cached.per_discussion(
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
    news = visits.news(plan.id, current_user, g.get("membership"), step.slug, plan=plan, seen=seen)
    return {
        "news": news,
        "thread": thread,
        "assignment": owner,
        "assignment_form": assignment_form,
        "comment_limit": comments.MAX_LENGTH,
        "fields_base_version": sent if failed_id == "plan" and sent else plan.fields_version,
        "base_version": sent,
    }
