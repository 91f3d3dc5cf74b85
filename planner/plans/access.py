"""Finding the plan a request is about, or answering 404.

Every route that touches a plan goes through `plan_or_404`; per-plan roles hook in here.
"""

from __future__ import annotations

from typing import Any

from flask import abort

from planner.plans import store


def plan_or_404(plan_id: int) -> Any:
    try:
        return store.get_plan(plan_id)
    except store.NotFound:
        abort(404)
