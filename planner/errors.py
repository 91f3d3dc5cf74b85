"""Friendly error pages: the site's own layout, a plain explanation and a way on.

A 403 names the person's role in the plan and who can change it. A blueprint may answer an
error its own way first (the import page shows an oversized upload on the form itself).
"""

from __future__ import annotations

from flask import Flask, g, render_template
from werkzeug.exceptions import HTTPException

from planner.accounts import membership, roles

TITLES = {
    400: "That request did not work",
    403: "Your role does not allow this",
    404: "Nothing here",
    405: "That request did not work",
    413: "That is too large",
    429: "Too many attempts",
}
MESSAGES = {
    400: "The form may have expired, or was sent from another page. Go back, reload the page and try again.",
    404: "There is no such page, or it belongs to a plan you are not a member of. "
    "If someone shared a link with you, ask them to invite you to the plan.",
    405: "This address does not answer that kind of request.",
    413: "What you sent is larger than this server accepts in one request.",
    429: "There were too many attempts from here in a short time. Wait a few minutes, then try again.",
}


def _page(error: HTTPException):
    code = error.code or 500
    # A description our own code gave abort() is meant for the person; Werkzeug's are not.
    custom = error.description if code in (403, 404) and error.description != type(error).description else None
    title = "That is not possible here" if code == 403 and custom else TITLES.get(code, "Something went wrong")
    context = {"code": code, "title": title, "message": custom or MESSAGES.get(code)}
    if code == 403 and not custom and g.get("plan") is not None:
        context.update(
            plan=g.plan,
            role=roles.with_article(g.plan_role),
            allowed=roles.ROLE_HELP.get(g.plan_role, ""),
            facilitators=membership.facilitator_names(g.plan.id),
        )
    response = error.get_response()
    return (
        render_template("errors/error.html", **context),
        code,
        {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After")},
    )


def register_error_pages(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, _page)
