"""Concurrent writers for tests/test_faults.py: several OS processes saving to one SQLite file.

`prepare(url, people)` makes what they share: accounts, one plan they all edit, a concern of
each person's own, and a workshop session with voting open on three cards. Each `write_for_a_while`
runs in its own process (multiprocessing) with its own app, and for a few seconds does
what a busy team does, every save reading before it writes: log-ins (which count attempts in
the database), concerns added (until the plan holds as many as it may), its concern edited, the plan's
fields saved, cards and dots in the workshop. It returns what answered success, so that the test can find each in the
database, and every 5xx and "database is locked" it met (answers and log records alike).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from config import Config
from planner import create_app

PASSWORD = "a long test password"
STEP = "engagement"  # its plan fields and concerns are what the writers save
SEED_CARDS = 3


class WriterConfig(Config):
    """Production behaviour (errors become 500 pages and are logged, not raised), without the
    CSRF form round trip, which is not what these tests are about."""

    SECRET_KEY = "faults-test"
    WTF_CSRF_ENABLED = False
    PDF_CACHE_DIR = ""
    LOGIN_LIMIT_PER_ACCOUNT = "10000 per hour"
    LOGIN_LIMIT_PER_ADDRESS = "10000 per hour"


def email_of(n: int) -> str:
    return f"writer{n}@example.org"


def prepare(url: str, people: int) -> dict[str, Any]:
    """Accounts, the shared plan, one concern each and a workshop with voting open."""
    from planner.accounts import users
    from planner.accounts.models import Membership
    from planner.domain import ENTITY_BY_NAME
    from planner.extensions import db
    from planner.plans import store
    from planner.workshop import operations as ops

    app = create_app(WriterConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        plan = store.create_plan("Shared by busy writers")
        concerns = []
        for n in range(people):
            user = users.create_user(email_of(n), f"Writer {n}", PASSWORD)
            db.session.add(Membership(plan_id=plan.id, user_id=user.id, role="facilitator"))
            db.session.commit()
            concern = store.add_item(plan, ENTITY_BY_NAME["concern"], {"concern": f"Writer {n}'s worry"}, user)
            concerns.append(concern.key)
        ws = ops.start_session(plan, None, STEP)
        for n in range(SEED_CARDS):
            ops.add_idea(ws, None, STEP, f"Seed card {n + 1}", written_for="Seed")
        ops.open_voting(ws, STEP, dots=SEED_CARDS * 2, per_idea=2)
        # What each may add: together they fill the plan's concerns up to its limit, no further.
        adds = (ENTITY_BY_NAME["concern"].max_items - people) // people
        shared = {"url": url, "plan_id": plan.id, "code": ws.code, "concerns": concerns, "adds": adds}
        db.session.remove()
        db.engine.dispose()
    return shared


class _Counter(logging.Handler):
    """Counts log records (with their tracebacks) that mention a locked database."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.locked = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if "database is locked" in text:
            self.locked += 1
        if record.levelno >= logging.ERROR and len(self.errors) < 3:
            self.errors.append(text[-600:])


def write_for_a_while(n: int, shared: dict[str, Any], start: Any, seconds: float, results: Any) -> None:
    """One process's writes; puts a dict of what happened on `results`."""
    counter = _Counter()
    logging.getLogger().addHandler(counter)
    app = create_app(WriterConfig, SQLALCHEMY_DATABASE_URI=shared["url"])
    app.logger.addHandler(counter)
    app.logger.propagate = False
    member, guest = app.test_client(), app.test_client()
    plan, code, concern = shared["plan_id"], shared["code"], shared["concerns"][n]
    done: dict[str, Any] = {"n": n, "logins": 0, "added": [], "updates": 0, "updated": None, "fields": 0}
    done.update(ideas=0, dots={}, statuses={}, fivexx=0)
    as_json = {"Accept": "application/json"}

    def count(response: Any, success: int) -> bool:
        status = response.status_code
        done["statuses"][status] = done["statuses"].get(status, 0) + 1
        if status >= 500:
            done["fivexx"] += 1
        return status == success

    def log_in() -> None:
        answer = member.post("/login", data={"email": email_of(n), "password": PASSWORD})
        done["logins"] += 1
        count(answer, 302)

    start.wait(timeout=60)  # everyone starts together
    log_in()
    count(guest.post(f"/join/{code}", data={"name": f"Guest {n}"}), 303)
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        i += 1
        title = f"p{n}-{i}"
        adding = len(done["added"]) < shared["adds"]
        if adding and count(member.post(f"/plans/{plan}/items/concern/new", data={"new-concern-concern": title}), 302):
            done["added"].append(title)
        update = {f"concern-{concern}-concern": f"Writer {n}'s worry, take {i}"}
        if count(member.post(f"/plans/{plan}/items/concern/{concern}", data=update), 302):
            done["updates"] += 1
            done["updated"] = update[f"concern-{concern}-concern"]
        voice = {"plan-voice": f"Voice by {n}, take {i}", "plan-response_protocol": f"Protocol {n}.{i}"}
        if count(member.post(f"/plans/{plan}/steps/{STEP}", data=voice), 302):
            done["fields"] += 1
        if count(guest.post(f"/workshop/{code}/ideas", data={"text": f"Card {n}.{i}"}, headers=as_json), 200):
            done["ideas"] += 1
        card = str(i % SEED_CARDS + 1)
        change = "add" if i % 4 < 2 else "remove"
        dot = guest.post(f"/workshop/{code}/dots", data={"idea": card, "change": change}, headers=as_json)
        if count(dot, 200):
            done["dots"][card] = done["dots"].get(card, 0) + (1 if change == "add" else -1)
        if i % 5 == 0:
            log_in()
    done["locked"] = counter.locked
    done["errors"] = counter.errors
    with app.app_context():
        from planner.extensions import db

        db.engine.dispose()
    results.put(done)
