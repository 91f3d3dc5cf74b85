"""The example plan: the Eastside Tool Library, a volunteer-run tool library with repair cafés.

It shows what a plan that puts conversation before broadcast looks like, fills every entity,
and doubles as a test fixture.  It is an ordinary interchange document
(`example_plan.json`), so it goes through the same validation as any import.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from planner.extensions import db
from planner.interchange.transfer import import_data
from planner.models import Plan

EXAMPLE_PATH = Path(__file__).with_name("example_plan.json")


@cache
def _example() -> dict[str, Any]:
    return json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))


def example_document() -> dict[str, Any]:
    """The example plan's whole interchange document (a fresh copy each call)."""
    return copy.deepcopy(_example())


def example_title() -> str:
    return str(_example()["plan"]["title"])


def find_example() -> Any | None:
    """The stored example plan, if there is one (the first, if someone imported it twice)."""
    return db.session.scalar(select(Plan).where(Plan.title == example_title()).order_by(Plan.id).limit(1))


def load_example(actor: Any = None, *, owner: Any = None) -> Any | None:
    """Store the example plan and return it, unless a plan with its title exists: then None.

    Running it twice is harmless; `find_example` gives the plan that is already there.
    """
    if find_example() is not None:
        return None
    return import_data(example_document(), actor, owner=owner)
