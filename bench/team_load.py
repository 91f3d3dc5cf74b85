"""Load from a team working asynchronously: 50 editors edit one plan at once, and no work is lost.

    .venv/bin/python bench/team_load.py                    # 50 editors, 60 s, PostgreSQL, 2 gunicorn workers
    .venv/bin/python bench/team_load.py --seconds 15       # a shorter run
    .venv/bin/python bench/team_load.py --editors 10 --think 2

What it does, all on 127.0.0.1, bounded in time, and stopping by itself:

1. Starts a throwaway PostgreSQL cluster and gunicorn with the repository's gunicorn.conf.py and
   2 workers, as `bench/workshop_load.py` does (its helpers are reused), serving `bench.wsgi:app`:
   the app plus `/bench/baseline/<plan_id>`, Flask and SQLAlchemy answering one one-row query.
2. Makes the example plan and 50 accounts, each an editor of it. Each editor logs in through the
   log-in form, with its own session and connection.
3. **Baseline**: every editor requests the baseline endpoint, one request after another, for
   `--baseline-seconds`: the same client, at the same concurrency, on the same server; half
   before the rest and half after, so that a change in the machine's load meets both sides.
   Then **step pages alone**: every editor opens random step pages the same way, for
   `--step-seconds`, so that the two compare request for request.
4. **Editing**: for `--seconds`, every editor loops: opens a random wizard step page (GET), then
   mostly opens the edit form of one of that page's items, changes one text field to a value no
   one else writes, waits up to `--think` seconds (typing) and saves it with the version the form
   carried; sometimes adds an item (opening its form first, as the page's "Add" button does),
   sometimes saves one of the step's own text fields (not one shown read-only). A save
   answered 2xx/3xx is accepted (the app redirects); 409 is a conflict, and its page must tell
   the editor so (who saved what while they were editing, and which field they both changed).
   Anything else is an error.
5. **Checking**: every accepted write must be in the plan's history (`Change` rows) with its
   value; the value saved now in each field must be the last accepted write to it (in the order
   the history gives, which must agree with the order the client saw: a save answered before
   another was sent comes first); every recorded edit changed only the field its editor typed
   in (any other field it changed undid someone's write); and no refused write was saved.
6. Prints, as Markdown for docs/performance.md: writes accepted, conflicts told, lost writes,
   errors; throughput and p50/p95 of step pages, item saves and the baseline, and the ratio of
   the step pages' median to the baseline's; and the server's CPU and memory.

Every editor's step page also comes with one baseline request in the same loop, so the report
also gives the baseline under the editors' load (not the goal's ratio: a shared queue makes
every request slow alike, and would flatter the step pages).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pdf_bench import machine  # noqa: E402  (after the path, as a script)
from bench.workshop_load import (  # noqa: E402  (after the path, as a script)
    CLK_TCK,
    HOST,
    Browser,
    Sampler,
    Stats,
    cpu_seconds,
    free_port,
    percentile,
    postgres,
    postmaster_pid,
    process_tree,
    serve,
)
from planner.domain import ENTITY_BY_NAME, STEPS, Kind, plan_field  # noqa: E402
from planner.plans.forms import kept_from  # noqa: E402

EDITORS_MAY_NOT = kept_from("editor")

SECRET = "team-bench-secret"
PASSWORD = "team bench password"
INLINE_EDIT = re.compile(r'data-inline-edit="(/plans/\d+/items/([a-z_]+)/([^/"]+)/edit\?fragment=1)"')
FIELDS_FORM = re.compile(r'<form method="post" action="[^"]+" class="fields-form".*?</form>', re.S)
# What a conflict page says (templates/history/conflict.html): who saved what, and the field.
CONFLICT_HEADLINE = re.compile(r"<h1>(.+?) saved (.+?) while you were editing</h1>", re.S)


# ---------------------------------------------------------------- the plan, the team, the server


def prepare(database_url: str, editors: int) -> dict[str, Any]:
    """Migrate; make the example plan and `editors` accounts that are its editors."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["SECRET_KEY"] = SECRET
    # No PDFs drawn in the background: their CPU would land in the middle of the measurement.
    os.environ["PDF_PRERENDER"] = "0"
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from config import Config
    from planner import create_app
    from planner.accounts.models import Membership, User
    from planner.extensions import db
    from planner.interchange.example import example_document
    from planner.plans import store

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET)
    with app.app_context():
        upgrade()
        plan = store.create_from_doc(example_document()["plan"])
        password_hash = generate_password_hash(PASSWORD)  # one hash for all: the same password
        people = [
            User(email=f"editor{i}@example.org", name=f"Editor {i}", password_hash=password_hash)
            for i in range(editors)
        ]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all(Membership(plan_id=plan.id, user_id=u.id, role="editor") for u in people)
        db.session.commit()
        info = {"plan_id": plan.id, "emails": [u.email for u in people], "names": [u.name for u in people]}
        db.session.remove()
        db.engine.dispose()
    return info


@contextlib.contextmanager
def gunicorn(database_url: str, workers: int) -> Any:
    """gunicorn with the repository's gunicorn.conf.py (gthread, its threads), `workers` workers,
    serving the app and the baseline route (bench/wsgi.py)."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["--bind", f"{HOST}:{port}", "--workers", str(workers), "bench.wsgi:app"]
    with serve(command, port, database_url, "planner-team-bench-gunicorn.log") as server:
        yield port, server


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a process tree, with its children that have exited: gunicorn recycles a
    worker after `max_requests`, and PostgreSQL's backends leave with their connections."""
    reaped = 0.0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{root_pid}/stat").read_text().rsplit(")", 1)[1].split()
        reaped = (int(fields[13]) + int(fields[14])) / CLK_TCK  # cutime + cstime
    return cpu_seconds(process_tree(root_pid)) + reaped


# ---------------------------------------------------------------- reading forms as a browser does


class FormReader(HTMLParser):
    """The fields a browser would send for the first form in some HTML, as (name, value) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.text = ""
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.option_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self.textarea, self.text = name, ""
        elif tag == "select":
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self.textarea is not None:
            # A browser drops the newline that follows <textarea>.
            self.pairs.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [v for v, on in self.options if on] or [v for v, _ in self.options[:1]]
            self.pairs.extend((self.select, v) for v in chosen)
            self.select = None


def read_form(html: str) -> list[tuple[str, str]]:
    reader = FormReader()
    reader.feed(html)
    return reader.pairs


def with_value(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in pairs]


# ---------------------------------------------------------------- the editors


@dataclass
class Write:
    """One save the client sent: which field of what, the unique value, and what came back."""

    editor: int
    what: str  # "item", "add" or "plan"
    entity: str  # the entity's name, or "plan"
    key: str | None  # the item's key (None for a new item or the plan's fields)
    field: str
    value: str
    sent: float
    answered: float = 0.0
    status: int = 0


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def time(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times[kind].append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class Editor:
    """One member of the team: their own account, session, connection and random choices."""

    def __init__(self, index: int, port: int, plan_id: int, results: Results, think: float) -> None:
        self.index, self.plan_id, self.results, self.think = index, plan_id, results, think
        self.browser = Browser(port, Stats())
        self.rng = random.Random(index)
        self.count = 0

    def timed(self, kind: str, method: str, path: str, form: Any = None) -> tuple[int, str]:
        """The answer's status and body; status 0 when none came (counted as an error by the
        caller, as any other unexpected status), so one editor's thread never dies of it."""
        began = time.perf_counter()
        try:
            status, body = self.browser.request(method, path, form)
        except (OSError, http.client.HTTPException) as exc:
            return 0, f"no answer: {exc!r}"
        self.results.time(kind, time.perf_counter() - began)
        return status, body

    def log_in(self, email: str) -> None:
        self.browser.request("GET", "/login")
        form = {"email": email, "password": PASSWORD, "csrf_token": self.browser.csrf}
        status, body = self.browser.request("POST", "/login", form)
        if status not in (302, 303):
            raise RuntimeError(f"{email} could not log in: {status} {body[:200]}")

    def baseline_loop(self, until: float) -> None:
        while time.monotonic() < until:
            status, body = self.timed("baseline", "GET", f"/bench/baseline/{self.plan_id}")
            if status != 200:
                self.results.error(f"baseline {status} {body[:200]}")

    def open_step(self, kind: str) -> tuple[Any, str | None]:
        """A random step and its page, timed as `kind`; None (and an error counted) if it failed."""
        step = self.rng.choice(STEPS)
        status, page = self.timed(kind, "GET", f"/plans/{self.plan_id}/steps/{step.slug}")
        if status != 200:
            self.results.error(f"step page {step.slug}: {status} {page[:200]}")
            return step, None
        return step, page

    def step_loop(self, until: float) -> None:
        """Step pages only, back to back: the same load as the baseline's, page for request."""
        while time.monotonic() < until:
            self.open_step("step page, alone")

    def unique(self) -> str:
        self.count += 1
        return f"Edit {self.count} by editor {self.index}"

    def edit_loop(self, until: float) -> None:
        while time.monotonic() < until:
            step, page = self.open_step("step page")
            if page is None:
                continue
            self.timed("baseline, during the editing", "GET", f"/bench/baseline/{self.plan_id}")
            roll = self.rng.random()
            if roll < 0.1 and step.entities:
                self.add_item(step)
            elif roll < 0.25 and step.plan_fields:
                self.save_fields(step, page)
            elif links := INLINE_EDIT.findall(page):
                self.edit_item(*self.rng.choice(links))

    def _text_fields(self, fields: Any) -> list[Any]:
        return [f for f in fields if f.kind in (Kind.TEXT, Kind.LONGTEXT)]

    def save(self, write: Write, kind: str, path: str, form: list[tuple[str, str]]) -> None:
        write.sent = time.monotonic()
        status, body = self.timed(kind, "POST", path, form)
        write.answered, write.status = time.monotonic(), status
        with self.results.lock:
            self.results.writes.append(write)
        if status == 409:
            problem = conflict_problem(body, write)
            if problem:
                self.results.error(f"a 409 that does not tell the conflict ({problem}): {body[:200]}")
                write.status = -409
        elif not is_accepted(status):
            self.results.error(f"{kind} {write.entity} {write.key}: {status} {body[:200]}")

    def edit_item(self, path: str, entity_name: str, key: str) -> None:
        status, form_html = self.timed("edit form", "GET", path)
        if status != 200:
            self.results.error(f"edit form {entity_name} {key}: {status} {form_html[:200]}")
            return
        entity = ENTITY_BY_NAME[entity_name]
        target = self.rng.choice(self._text_fields(entity.fields))
        value = self.unique()
        form = with_value(read_form(form_html), f"{entity.name}-{key}-{target.name}", value)
        time.sleep(self.rng.uniform(0, self.think))
        write = Write(self.index, "item", entity.name, key, target.name, value, 0.0)
        self.save(write, "item save", path.removesuffix("/edit?fragment=1"), form)

    def add_item(self, step: Any) -> None:
        """Open the add form as the page's "Add" button does (a listed kind's form is drawn on
        request, `?fragment=1`), type the item's name and add it."""
        entity = ENTITY_BY_NAME[self.rng.choice(step.entities)]
        required = [f for f in entity.fields if f.required]
        if any(f.name != entity.title_field for f in required):
            return  # needs a reference chosen (an objective's goal): keep to what can be typed
        path = f"/plans/{self.plan_id}/items/{entity.name}/new"
        status, form_html = self.timed("add form", "GET", f"{path}?fragment=1")
        if status != 200:
            self.results.error(f"add form {entity.name}: {status} {form_html[:200]}")
            return
        value = self.unique()
        form = with_value(read_form(form_html), f"new-{entity.name}-{entity.title_field}", value)
        write = Write(self.index, "add", entity.name, None, entity.title_field, value, 0.0)
        self.save(write, "add item", path, form)

    def save_fields(self, step: Any, page: str) -> None:
        found = FIELDS_FORM.search(page)
        # What an editor may not change (the plan's title) is shown read-only, and not sent.
        targets = self._text_fields(plan_field(n) for n in step.plan_fields if n not in EDITORS_MAY_NOT)
        if not found or not targets:
            return
        target = self.rng.choice(targets)
        value = self.unique()
        form = with_value(read_form(found.group(0)), f"plan-{target.name}", value)
        time.sleep(self.rng.uniform(0, self.think))
        write = Write(self.index, "plan", "plan", None, target.name, value, 0.0)
        self.save(write, "step fields save", f"/plans/{self.plan_id}/steps/{step.slug}", form)


def is_accepted(status: int) -> bool:
    """A save the server took: the app redirects back to the step (POST, redirect, GET)."""
    return 200 <= status < 400


def conflict_problem(body: str, write: Write) -> str | None:
    """What a 409 page fails to tell the editor, or None when it tells them of the conflict:
    who saved what while they were editing, and that they both changed this field."""
    headline = CONFLICT_HEADLINE.search(body)
    if not headline:
        return "no 'X saved Y while you were editing' headline"
    if not re.search(r"Editor \d+", headline.group(1)):
        return f"it does not say who saved: {headline.group(1)!r}"
    label = (
        plan_field(write.field).label if write.what == "plan" else ENTITY_BY_NAME[write.entity].field(write.field).label
    )
    if f"{label}: you both changed it" not in body.replace("&#39;", "'"):
        return f"it does not name the field {label!r}"
    return None


def run_team(port: int, info: dict[str, Any], args: argparse.Namespace, server_cpu: Any) -> dict[str, Any]:
    """The phases, one after another: half the baseline, step pages alone, the editing, the
    other half of the baseline (so that a change in the machine's load meets both sides).
    `server_cpu()` gives the server's CPU seconds so far, to count each phase's share."""
    results = Results()
    editors = [Editor(i, port, info["plan_id"], results, args.think) for i in range(args.editors)]
    for editor, email in zip(editors, info["emails"], strict=True):
        editor.log_in(email)

    seconds: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)

    def phase(name: str, work: str, length: float) -> None:
        until = time.monotonic() + length
        threads = [threading.Thread(target=getattr(e, work), args=(until,), daemon=True) for e in editors]
        began, cpu_began = time.monotonic(), server_cpu()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, until + 120 - time.monotonic()))
        seconds[name] += time.monotonic() - began
        cpu[name] += server_cpu() - cpu_began

    phase("baseline", "baseline_loop", args.baseline_seconds / 2)
    phase("step pages", "step_loop", args.step_seconds)
    phase("editing", "edit_loop", args.seconds)
    phase("baseline", "baseline_loop", args.baseline_seconds / 2)
    for editor in editors:
        editor.browser.close()
    return {"results": results, "seconds": dict(seconds), "cpu": dict(cpu)}


# ---------------------------------------------------------------- did every accepted write land?


def verify(database_url: str, plan_id: int, writes: list[Write]) -> dict[str, Any]:
    """Compare what the editors were told with what the database holds."""
    from sqlalchemy import select

    from config import Config
    from planner import create_app
    from planner.extensions import db
    from planner.plans import store
    from planner.plans.models import Change
    from planner.plans.store.merging import changed_fields

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET)
    with app.app_context():
        doc = store.load_doc(store.get_plan(plan_id))
        changes = db.session.scalars(select(Change).where(Change.plan_id == plan_id).order_by(Change.id)).all()
        # Every save of an editor changes the one field the editor typed in. A save that changed
        # another field put back a value someone had replaced since: their write is lost.
        stray = [
            f"change {c.id} ({c.entity} {c.item_key}) changed {', '.join(changed)}, not one field"
            for c in changes
            if c.action == "update" and len(changed := changed_fields(c.before, c.after)) > 1
        ]
        # Where each unique value was written, by the history: (entity, key, field, value) -> change id.
        recorded: dict[tuple[str, str | None, str, str], int] = {}
        for change in changes:
            for name, value in (change.after or {}).items():
                if isinstance(value, str) and value.startswith("Edit "):
                    recorded.setdefault((change.entity, change.item_key, name, value), change.id)
        # The value of every field now, by (entity, key, field).
        now: dict[tuple[str, str | None, str], Any] = {}
        for name, value in doc.items():
            if not isinstance(value, list):
                now[("plan", None, name)] = value
        for entity in ENTITY_BY_NAME.values():
            for item in doc[entity.collection]:
                for name, value in item.items():
                    now[(entity.name, item["key"], name)] = value
        db.session.remove()
        db.engine.dispose()

    accepted = [w for w in writes if is_accepted(w.status)]
    refused = [w for w in writes if w.status in (409, -409)]
    problems: list[str] = list(stray)
    by_value = {(e, f, v): (k, cid) for (e, k, f, v), cid in recorded.items()}
    last: dict[tuple[str, str | None, str], tuple[int, Write]] = {}
    ordered: dict[tuple[str, str | None, str], list[tuple[int, Write]]] = defaultdict(list)
    for w in accepted:
        found = by_value.get((w.entity, w.field, w.value))
        if found is None or (w.key is not None and found[0] != w.key):
            problems.append(f"accepted but not in the history: {w.entity} {w.key} {w.field} = {w.value!r}")
            continue
        key, change_id = found
        where = (w.entity, key, w.field)
        ordered[where].append((change_id, w))
        if where not in last or change_id > last[where][0]:
            last[where] = (change_id, w)
    for where, (_, w) in last.items():
        if now.get(where) != w.value:
            problems.append(f"{where}: saved now {now.get(where)!r}, but the last accepted write was {w.value!r}")
    for where, saves in ordered.items():
        for change_a, a in saves:
            for change_b, b in saves:
                if a.answered < b.sent and change_a > change_b:
                    problems.append(
                        f"{where}: {a.value!r} was answered before {b.value!r} was sent, yet recorded after"
                    )
    saved_values = {v for *_, v in recorded} | {v for v in now.values() if isinstance(v, str)}
    for w in refused:
        if w.value in saved_values:
            problems.append(f"refused with a conflict, yet saved: {w.entity} {w.key} {w.field} = {w.value!r}")
    return {"accepted": len(accepted), "refused": len(refused), "lost": problems, "changes": len(changes)}


# ---------------------------------------------------------------- the report


def summary(values: list[float], seconds: float) -> dict[str, float]:
    return {
        "n": len(values),
        "per_second": len(values) / seconds,
        "p50": statistics.median(values) if values else float("nan"),
        "p95": percentile(values, 95) if values else float("nan"),
    }


def report(args: argparse.Namespace, run: dict[str, Any], check: dict[str, Any], server: dict[str, Any]) -> str:
    results: Results = run["results"]
    seconds, phase_cpu = run["seconds"], run["cpu"]
    rows = {
        "baseline (one query), alone": summary(results.times["baseline"], seconds["baseline"]),
        "step page (GET), alone": summary(results.times["step page, alone"], seconds["step pages"]),
        "step page (GET), while editing": summary(results.times["step page"], seconds["editing"]),
        "item edit form (GET)": summary(results.times["edit form"], seconds["editing"]),
        "item save (POST)": summary(results.times["item save"], seconds["editing"]),
        "step fields save (POST)": summary(results.times["step fields save"], seconds["editing"]),
        "add form (GET)": summary(results.times["add form"], seconds["editing"]),
        "add item (POST)": summary(results.times["add item"], seconds["editing"]),
        "baseline, while editing": summary(results.times["baseline, during the editing"], seconds["editing"]),
    }
    base = rows["baseline (one query), alone"]
    alone = rows["step page (GET), alone"]
    editing = rows["step page (GET), while editing"]
    saves = rows["item save (POST)"]
    load = " / ".join(f"{v:.1f}" for v in server["load_before"])
    after = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    cache = ", `PAGE_CACHE` off" if args.no_page_cache else ""
    lines = [
        f"### {args.editors} editors: gunicorn ({args.workers} gthread workers, gunicorn.conf.py), PostgreSQL{cache}",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}; load average (1/5/15 min) before: "
        f"{load}, after: {after}.",
        f"Command: `{' '.join(['.venv/bin/python bench/team_load.py', *sys.argv[1:]])}`",
        "",
        "| writes | count |",
        "|---|---|",
        f"| accepted (2xx/3xx) | {check['accepted']} |",
        f"| refused, the conflict told (409) | {check['refused']} |",
        f"| lost writes | **{len(check['lost'])}** |",
        f"| errors | **{len(results.errors)}** |",
        "",
        "| request | n | req/s | p50 | p95 | p50 / baseline p50 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        if r["n"]:
            lines.append(
                f"| {name} | {r['n']} | {r['per_second']:.1f} | {r['p50'] * 1000:.1f} ms | {r['p95'] * 1000:.1f} ms "
                f"| {r['p50'] / base['p50']:.2f}x |"
            )
    lines += [
        "",
        f"**Step page median / baseline median: {alone['p50'] / base['p50']:.2f}x alone, "
        f"{editing['p50'] / base['p50']:.2f}x while editing** (goal ≤ 3x); p95: "
        f"{alone['p95'] / base['p95']:.2f}x and {editing['p95'] / base['p95']:.2f}x.",
        "",
        f"**Item save median / baseline median: {saves['p50'] / base['p50']:.2f}x** under the editors (goal ≤ 3x).",
        "",
        "| phase | seconds | server CPU (gunicorn) | per request |",
        "|---|---|---|---|",
    ]
    counts = {"baseline": base["n"], "step pages": alone["n"], "editing": sum(len(v) for v in results.times.values())}
    counts["editing"] -= base["n"] + alone["n"]
    for name, length in seconds.items():
        per = phase_cpu[name] / max(counts[name], 1) * 1000
        lines.append(f"| {name} | {length:.0f} | {phase_cpu[name]:.1f} s | {per:.1f} ms ({counts[name]} requests) |")
    lines += ["", "| process | CPU | peak memory (PSS) |", "|---|---|---|"]
    wall = sum(seconds.values())
    for name, cpu in server["cpu"].items():
        lines.append(
            f"| {name} | {cpu:.1f} s over {wall:.0f} s ({cpu / wall * 100:.0f}% of one core) "
            f"| {server['peak'].get(name, 0):.0f} MB |"
        )
    if check["lost"] or results.errors:
        lines += ["", "Problems (first 10 of each):"]
        lines += [f"- lost: {p}" for p in check["lost"][:10]]
        lines += [f"- error: {e}" for e in results.errors[:10]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60, help="how long the team edits")
    parser.add_argument("--baseline-seconds", type=float, default=20, help="how long the baseline is measured")
    parser.add_argument("--step-seconds", type=float, default=15, help="how long step pages are measured alone")
    parser.add_argument("--think", type=float, default=1.0, help="at most this long between opening a form and saving")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-page-cache", action="store_true", help="step pages work out each value anew (plans/cached.py off)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not 1 <= args.editors <= 200 or not 1 <= args.seconds <= 300 or not 1 <= args.baseline_seconds <= 120:
        parser.error("1-200 editors, 1-300 s of editing, 1-120 s of baseline")

    os.environ["BENCH_PAGE_CACHE"] = "" if args.no_page_cache else "1"
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(postgres())
        info = prepare(database_url, args.editors)
        port, server = stack.enter_context(gunicorn(database_url, args.workers))
        warm_up(port, info)
        pg = postmaster_pid(database_url)
        roots = {"gunicorn (master + workers)": server.pid, **({"PostgreSQL": pg} if pg else {})}
        before = {name: tree_cpu(pid) for name, pid in roots.items()}
        sampler = Sampler(roots)
        sampler.start()
        client_before = sum(os.times()[:2])
        load_before = os.getloadavg()
        app_root = server.pid
        run = run_team(port, info, args, lambda: tree_cpu(app_root))
        client_cpu = sum(os.times()[:2]) - client_before
        sampler.stop.set()
        cpu = {name: tree_cpu(pid) - before[name] for name, pid in roots.items()}
        cpu["load client (this script)"] = client_cpu
        check = verify(database_url, info["plan_id"], run["results"].writes)
    server_figures = {"cpu": cpu, "peak": sampler.peak, "load_before": load_before}
    print(report(args, run, check, server_figures))
    if args.json:
        times = {k: sorted(v) for k, v in run["results"].times.items()}
        args.json.write_text(
            json.dumps({"times": times, "seconds": run["seconds"], "phase_cpu": run["cpu"], "cpu": cpu, "check": check})
        )


def warm_up(port: int, info: dict[str, Any]) -> None:
    """Every worker loads the app and its templates before anything is timed."""
    editor = Editor(0, port, info["plan_id"], Results(), 0)
    editor.log_in(info["emails"][0])
    for _ in range(3):
        for step in STEPS:
            editor.browser.request("GET", f"/plans/{info['plan_id']}/steps/{step.slug}")
            editor.browser.close()
            editor.browser.conn = None
    editor.browser.close()
    time.sleep(1)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
