"""What a step page shows of the team's work around it: news since the member's last visit,
comments, the step's owner, and the versions its forms are based on."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user

from planner.accounts import membership, roles
from planner.domain import Step
from planner.history import assignments, comments, visits
from planner.history.forms import AssignmentForm


def step_context(plan: Any, step: Step, failed_id: str | None = None) -> dict[str, Any]:
    """Template values for a step page. On a form sent back with errors, that form keeps the
    version it was based on, so that saving it later still merges with what others did."""
    sent = request.form.get("base_version") if failed_id else None
    may_manage = roles.allows(g.get("plan_role"), "manage")
    owner = assignments.assignment(plan.id, step.slug)
    assignment_form = None
    if may_manage:
        members = [(user.id, user.name) for user, _ in membership.members_of(plan.id)]
        assignment_form = AssignmentForm(
            formdata=None,
            members=members,
            data={
                "owner": str(owner.owner_id) if owner and owner.owner_id else "",
                "due": owner.due if owner else None,
            },
        )
    return {
        "news": visits.news(plan.id, current_user),
        "thread": comments.thread(plan.id, step.slug),
        "assignment": owner,
        "assignment_form": assignment_form,
        "comment_limit": comments.MAX_LENGTH,
        "fields_base_version": sent if failed_id == "plan" and sent else plan.fields_version,
        "base_version": sent,
    }
