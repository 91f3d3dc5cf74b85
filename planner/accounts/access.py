"""Finding the plan a request is about, if the signed-in person may do what they ask.

Every route with a `<int:plan_id>` goes through `plan_or_404(plan_id, need)`, first thing:

    plan = plan_or_404(plan_id, "view")    # read it, download it
    plan = plan_or_404(plan_id, "edit")    # change its content: fields, items, comments...
    plan = plan_or_404(plan_id, "manage")  # members, invitations, rename, copy, delete

- nobody signed in: the browser goes to the log-in page and comes back; a fetch() gets 401;
- signed in but not a member (or no such plan): 404, the same answer, so ids leak nothing;
- a member whose role is too low for `need`: 403, a page that says what their role allows;
- otherwise the plan, with the person's role in `g.plan_role` (templates ask `can("edit")`)
  and their membership in `g.membership`.

The roles are viewer < editor < facilitator (`planner.accounts.roles`). A new plan route must
also be added to the table in tests/test_roles.py, which fails until it is.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_login import current_user

from planner.accounts import membership, roles
from planner.extensions import login_manager


def plan_or_404(plan_id: int, need: str = "view") -> Any:
    if need not in roles.NEEDS:
        raise ValueError(f"unknown need {need!r}; use one of {', '.join(roles.NEEDS)}")
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    # Read together with the person when this route's plan is the one asked for (the user
    # loader, `planner.accounts.auth`); otherwise, or a second time, read now.
    read = g.pop("plan_read_with_user", None)
    found = read[1] if read and read[0] == plan_id else membership.plan_and_membership(plan_id, current_user.id)
    if found is None:
        abort(404)
    plan, g.membership = found
    g.plan, g.plan_role = plan, g.membership.role
    if not roles.allows(g.plan_role, need):
        abort(403)
    return plan


def can(need: str) -> bool:
    """In a template: whether the current person's role in this request's plan allows `need`."""
    return roles.allows(g.get("plan_role"), need)
