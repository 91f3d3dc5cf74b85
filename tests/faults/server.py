"""The app as gunicorn serves it in production, with one test-only hook: a pause inside a save.

`gunicorn tests.faults.server:app`. When PLANNER_FAULT_DIR names a directory holding a file
`armed` (JSON: {"path": ..., "commit": n}), the n-th commit of the next request to that path
stops just before COMMIT reaches the database, with every row of the save written but not
committed: it removes `armed`, writes its process id to `inside` and sleeps. The test then
knows the worker is inside the transaction, and kills it. Without the variable, nothing changes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from planner import create_app

FAULT_DIR = os.environ.get("PLANNER_FAULT_DIR", "")

app = create_app()


@event.listens_for(Engine, "commit")
def _pause_inside_the_save(_conn: Connection) -> None:
    if not FAULT_DIR or not has_request_context():
        return
    armed = Path(FAULT_DIR) / "armed"
    try:
        spec = json.loads(armed.read_text())
    except FileNotFoundError:
        return
    if request.path != spec["path"]:
        return
    g.fault_commits = g.get("fault_commits", 0) + 1
    if g.fault_commits != spec.get("commit", 1):
        return
    armed.unlink()
    inside = Path(FAULT_DIR) / "inside"
    inside.with_suffix(".tmp").write_text(str(os.getpid()))
    inside.with_suffix(".tmp").rename(inside)  # whole, or not there yet
    time.sleep(60)  # the test kills this process long before
