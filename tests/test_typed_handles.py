"""Fields are reached through handles resolved from the declaration at import.

The document and the coach read `HOURS.of(practice)`, never ``practice.get("hours_per_week")``:
so a field renamed in the declaration stops the app at start-up, with a KeyError naming the
field, instead of every plan quietly printing "no hours".  Each test imports the code afresh in
a child process, with the declaration patched before the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run in a child process: renames `entity`'s field `field` to "renamed_field" in the declaration,
# then imports `target`.  The layers below it are imported first, with the declaration as it
# is, so that what fails is `target`'s own handles.
RENAME_THEN_IMPORT = """
import dataclasses
import sys

import planner.coach
import planner.plans.view
from planner.domain import declaration

entity, field, target = sys.argv[1:4]
if field:
    e = declaration.ENTITY_BY_NAME[entity]
    fields = tuple(dataclasses.replace(f, name="renamed_field") if f.name == field else f for f in e.fields)
    assert fields != e.fields, "no such field to rename"
    declaration.ENTITY_BY_NAME[entity] = dataclasses.replace(e, fields=fields)
__import__(target)
"""


def _rename_and_import(entity: str, field: str, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RENAME_THEN_IMPORT), entity, field, target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_document_fails_at_import_when_a_field_it_reads_is_renamed() -> None:
    # As declared, the document imports.
    assert _rename_and_import("practice", "", "planner.documents.content").returncode == 0

    renamed = _rename_and_import("practice", "hours_per_week", "planner.documents.content")
    assert renamed.returncode != 0
    last_line = renamed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("KeyError") and "hours_per_week" in last_line, renamed.stderr
    assert "planner/documents/content/" in renamed.stderr  # the document's own handle, not the coach's


# ---------------------------------------------------------------- the coach reads fields through handles


def _import_coach_with(tmp_path: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    """Import planner.coach from a copy of the app whose declaration has `old` replaced by `new`."""
    # The copy keeps its bytecode (and the files' times, by which Python trusts it): only the
    # patched declaration is compiled afresh.
    shutil.copytree(ROOT / "planner", tmp_path / "planner")
    shutil.copy(ROOT / "config.py", tmp_path / "config.py")
    declaration = tmp_path / "planner" / "domain" / "declaration.py"
    source = declaration.read_text(encoding="utf-8")
    assert old in source, f"the declaration no longer says {old!r}: update this test"
    declaration.write_text(source.replace(old, new), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", "import planner.coach"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_coach_starts_from_the_declaration_as_it_is(tmp_path: Path) -> None:
    """The copy the renaming tests start from imports cleanly: what fails below is the rename."""
    result = _import_coach_with(tmp_path, '"hours_per_week"', '"hours_per_week"')
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        # A practice's hours: before handles, every practice silently read as "no hours".
        ('"hours_per_week"', '"weekly_hours"', "'hours_per_week'"),
        # A segment's priority: every plan would silently have no primary audience.
        ('enum("priority", "Priority"', 'enum("rank", "Priority"', "'priority'"),
        # One of the plan's own fields: the review would silently read as never set.
        ('"review_cadence"', '"review_frequency"', "review_cadence"),
        # A declared choice the checks name: broadcasting would silently count as conversation.
        ('("broadcast", "Broadcast"', '("announce", "Broadcast"', "'broadcast'"),
    ],
    ids=["practice-hours", "segment-priority", "plan-field", "mode-choice"],
)
def test_renaming_a_declared_field_stops_the_coach_at_start_up(tmp_path: Path, old: str, new: str, named: str) -> None:
    result = _import_coach_with(tmp_path, old, new)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("KeyError"), result.stderr
    assert named in last_line


def test_the_coach_says_no_hours_only_where_hours_are_unset() -> None:
    """A practice whose hours are 0 has hours (none); only a practice with no number at all
    is named as having no hours, by the capacity check and by the balance."""
    from planner.coach import CHECKS, checks

    plan = {
        "people": [{"key": "p1", "name": "Ana", "hours_per_week": 10}],
        "practices": [
            {"key": "pr1", "description": "Answer questions", "mode": "respond", "owners": ["p1"], "hours_per_week": 6},
            {"key": "pr2", "description": "Pause the newsletter", "mode": "broadcast", "hours_per_week": 0},
            {"key": "pr3", "description": "Host the repair thread", "mode": "host", "hours_per_week": None},
            {"key": "pr4", "description": "Share partners' news", "mode": "amplify"},
        ],
    }
    finding = CHECKS["capacity"](plan)
    assert "“Host the repair thread” and “Share partners' news” have no hours yet." in finding.message
    assert "Pause the newsletter" not in finding.message
    assert [ref.key for ref in finding.items] == ["pr3", "pr4"]
    assert [ref.key for ref in checks.balance(plan).without_hours] == ["pr3", "pr4"]
