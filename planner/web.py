"""What every page shares: template helpers and filters."""

from __future__ import annotations

from flask import Flask

from planner import pagecache
from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, STEPS, plan_field
from planner.plans.view import display


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(STEPS=STEPS, STEP_BY_SLUG=STEP_BY_SLUG, ENTITY_BY_NAME=ENTITY_BY_NAME, display=display)
    app.jinja_env.globals["fragment"] = pagecache.fragment
    app.jinja_env.filters["plan_field"] = plan_field
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
