"""What every page shares: template helpers and filters, and the site's icon."""

from __future__ import annotations

from flask import Flask, Response, current_app

from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, STEPS, plan_field
from planner.plans.view import counted, display


def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links to: answer with the one icon
    there is (static/favicon.svg, linked from base.html) rather than a 404 in the log on every
    first visit. Browsers that read SVG there show it; the few that do not show no icon."""
    return current_app.send_static_file("favicon.svg")


def register_site_files(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(STEPS=STEPS, STEP_BY_SLUG=STEP_BY_SLUG, ENTITY_BY_NAME=ENTITY_BY_NAME, display=display)
    app.jinja_env.globals["counted"] = counted  # "1 dot", "2 dots": every page counts the same way
    app.jinja_env.filters["plan_field"] = plan_field
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
