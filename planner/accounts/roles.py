"""Who may do what in a plan: the three roles and the three needs, as plain functions.

A route asks for a *need*: `view` (read and download), `edit` (change the content) or `manage`
(members, invitations, rename, duplicate, delete). Each need is met by one role and every
role above it: viewer < editor < facilitator (`ROLES`, declared with the models).
"""

from __future__ import annotations

from planner.accounts.models import ROLES

NEEDS = {"view": "viewer", "edit": "editor", "manage": "facilitator"}

ROLE_LABELS = {"viewer": "Viewer", "editor": "Editor", "facilitator": "Facilitator"}
ROLE_HELP = {
    "viewer": "can read the plan and download it, and comment on it",
    "editor": "can also write and change the plan's content",
    "facilitator": "can do everything, including managing people and deleting the plan",
}


def rank(role: str | None) -> int:
    """0 for no role, then 1, 2, 3 from viewer to facilitator."""
    return ROLES.index(role) + 1 if role in ROLES else 0


def allows(role: str | None, need: str) -> bool:
    """Whether `role` (None: not a member) is enough for `need`."""
    try:
        required = NEEDS[need]
    except KeyError:
        raise ValueError(f"unknown need {need!r}; use one of {', '.join(NEEDS)}") from None
    return rank(role) >= rank(required)


def stronger(a: str | None, b: str) -> str:
    """The higher of two roles: joining through an invitation never lowers a role."""
    return b if rank(b) > rank(a) else a or b


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", "Not a member")


def with_article(role: str | None) -> str:
    """ "a viewer", "an editor", "a facilitator"."""
    label = role_label(role).lower()
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"
