"""A session's ideas, groups and votes as CSV and Markdown, at any time, during the session too.

Exports follow the same rules as the screens: authors only on steps that show them, and dot
counts only once a step's voting has closed (an export mid-vote must not leak the results).
Hidden cards are listed, marked as hidden, because the team owns its whole record.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from planner.domain import STEP_BY_SLUG
from planner.workshop import rules

CSV_COLUMNS = ("step", "idea", "text", "author", "group", "votes", "status", "became")
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows(snap: rules.Snapshot) -> list[dict[str, Any]]:
    groups = {g["id"]: g["label"] for g in snap.groups}
    rows = []
    for slug, step in snap.steps.items():
        for idea in (i for i in snap.ideas if i["step"] == slug):
            status = "hidden" if idea["hidden"] else ("shown" if rules.in_room(idea, step) else "not yet revealed")
            promoted = rules.promoted(idea)
            rows.append(
                {
                    "step": STEP_BY_SLUG[slug].title,
                    "idea": idea["number"],
                    "text": idea["text"],
                    "author": rules.author(snap, idea) or "",
                    "group": groups.get(idea["group_id"], ""),
                    "votes": rules.tally(snap, idea) if step["voting"] == "closed" else "",
                    "status": status,
                    "became": f"{promoted['label']} {promoted['key']}" if promoted else "",
                }
            )
    return rows


def to_csv(snap: rules.Snapshot) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _rows(snap):
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _md(text: str) -> str:
    """A card's text inside a Markdown list item: no markup of its own, one line."""
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text


def to_markdown(snap: rules.Snapshot) -> str:
    session = snap.session
    lines = [
        f"# Workshop {session['code_spaced']}: {_md(session['plan']['title'] or '')}",
        "",
        f"{len(snap.participants)} people took part. "
        + ("The session has ended." if session["ended"] else "The session is still running."),
    ]
    rows = _rows(snap)
    for slug, step in snap.steps.items():
        mine = [r for r in rows if r["step"] == STEP_BY_SLUG[slug].title]
        if not mine:
            continue
        lines += ["", f"## {STEP_BY_SLUG[slug].number}. {STEP_BY_SLUG[slug].title}", ""]
        voting = {"none": "No vote.", "open": "Voting is open: results come when it closes."}.get(
            step["voting"], f"Voting closed ({step['dots']} dots each, at most {step['per_idea']} per idea)."
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
                extras = [f"{row['votes']} dots" if row["votes"] != "" else "", row["author"], row["became"]]
                if row["status"] != "shown":
                    extras.append(row["status"])
                detail = "; ".join(_md(str(e)) for e in extras if e)
                lines.append(f"- #{row['idea']} {_md(row['text'])}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines) + "\n"
