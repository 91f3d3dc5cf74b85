"""A session's ideas, groups and votes as CSV and Markdown, at any time, during the session too.

Exports follow the same rules as the screens: authors only on steps that show them, and dot
counts only once a step's voting has closed (an export mid-vote must not leak the results).
The facilitator's export lists hidden cards and cards not yet revealed, marked as such,
because the team owns its whole record; anyone else's (`room_only`) holds what the room
sees and nothing more. A card
that became a plan item names the item by its current name (`names`, from
`state.item_names`): a reader of the export has never seen the item's key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from planner.domain import STEP_BY_SLUG
from planner.plans.view import counted
from planner.workshop import rules

CSV_COLUMNS = ("step", "idea", "text", "author", "group", "votes", "status", "became")
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


Names = Mapping[tuple[str, str], str]


def became(promoted: dict[str, str] | None, names: Names) -> str:
    """What a card became: "Audience segment: Parents at the school gate"."""
    if not promoted:
        return ""
    name = names.get((promoted["entity"], promoted["key"]))
    return f"{promoted['label']}: {name}" if name else f"{promoted['label']}, since removed from the plan"


def _rows(snap: rules.Snapshot, names: Names, room_only: bool) -> list[dict[str, Any]]:
    groups = {g["id"]: g["label"] for g in snap.groups}
    rows = []
    for slug, step in snap.steps.items():
        for idea in (i for i in snap.ideas if i["step"] == slug):
            if room_only and not rules.in_room(idea, step):
                continue
            status = "hidden" if idea["hidden"] else ("shown" if rules.in_room(idea, step) else "not yet revealed")
            rows.append(
                {
                    "step": STEP_BY_SLUG[slug].title,
                    "idea": idea["number"],
                    "text": idea["text"],
                    "author": rules.author(snap, idea) or "",
                    "group": groups.get(idea["group_id"], ""),
                    "votes": rules.tally(snap, idea) if step["voting"] == "closed" else "",
                    "status": status,
                    "became": became(rules.promoted(idea), names),
                }
            )
    return rows


def to_csv(snap: rules.Snapshot, names: Names, *, room_only: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _rows(snap, names, room_only):
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _md(text: str) -> str:
    """A card's text inside a Markdown list item: no markup of its own, one line."""
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text


def to_markdown(snap: rules.Snapshot, names: Names, *, room_only: bool = False) -> str:
    session = snap.session
    lines = [
        f"# Workshop {session['code_spaced']}: {_md(session['plan']['title'] or '')}",
        "",
        counted(len(snap.participants), "person", "people")
        + " took part. "
        + ("The session has ended." if session["ended"] else "The session is still running."),
    ]
    rows = _rows(snap, names, room_only)
    into_plan = [r for r in rows if r["became"]]
    if into_plan:
        lines += ["", "## What went into the plan", ""]
        lines += [f"- {_md(r['became'])} (from idea #{r['idea']}, {_md(r['step'])})" for r in into_plan]
    for slug, step in snap.steps.items():
        mine = [r for r in rows if r["step"] == STEP_BY_SLUG[slug].title]
        if not mine:
            continue
        lines += ["", f"## {STEP_BY_SLUG[slug].number}. {STEP_BY_SLUG[slug].title}", ""]
        voting = {"none": "No vote.", "open": "Voting is open: results come when it closes."}.get(
            step["voting"],
            f"Voting closed ({counted(step['dots'], 'dot')} each, at most {step['per_idea']} per idea).",
        )
        lines.append(voting)
        by_group: dict[str, list[dict[str, Any]]] = {}
        for row in mine:
            by_group.setdefault(row["group"], []).append(row)
        for group, members in sorted(by_group.items(), key=lambda kv: (kv[0] == "", kv[0].casefold())):
            lines.append("")
            if group:
                lines += [f"### {_md(group)}", ""]
            elif len(by_group) > 1:
                lines += ["### Not grouped", ""]
            if step["voting"] == "closed":
                members = sorted(members, key=lambda r: -int(r["votes"] or 0))
            for row in members:
                votes = counted(row["votes"], "dot") if row["votes"] != "" else ""
                extras = [votes, row["author"], row["became"] and "became " + row["became"]]
                if row["status"] != "shown":
                    extras.append(row["status"])
                detail = "; ".join(_md(str(e)) for e in extras if e)
                lines.append(f"- #{row['idea']} {_md(row['text'])}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines) + "\n"
