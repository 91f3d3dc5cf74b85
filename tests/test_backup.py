"""Backups: `plan export --all` writes every plan as JSON, `plan import DIR` restores them, and
a whole database survives the round trip."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from planner.extensions import db
from planner.models import Plan
from tests.plan_factory import generated_plan, sized_plan

OWNER = "restorer@example.org"


def plan(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["plan", *args])


def plan_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Plan))


def empty_the_database(app: Flask) -> None:
    """As a new server would start: no plans, no accounts, no history."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


def backup_contents(directory: Path) -> list[str]:
    """The files' text, in the order of their plan ids (the ids themselves change on restore)."""
    files = sorted(directory.glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    return [path.read_text(encoding="utf-8") for path in files]


@pytest.fixture
def several_plans(app: Flask, example_doc: dict[str, Any]) -> list[int]:
    """The ids of the example plan and three generated ones, of different shapes and sizes."""
    from planner.plans import store

    docs = [
        example_doc["plan"],
        generated_plan(3),
        sized_plan({"goal": 2, "segment": 5, "practice": 8, "person": 3, "metric": 4}, seed=7),
        generated_plan(1),
    ]
    with app.app_context():
        ids = [store.create_from_doc(doc).id for doc in docs]
        db.session.remove()
    return ids


def test_a_whole_database_survives_export_all_and_import(
    app: Flask, runner: Any, add_user: Any, several_plans: list[int], tmp_path: Path
) -> None:
    before = tmp_path / "backup"
    result = plan(runner, "export", "--all", "--output", str(before))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in before.iterdir())
    assert names == sorted(
        f"{plan_id}-{slug}.json"
        for plan_id, slug in zip(
            several_plans,
            [
                "eastside-tool-library-talking-with-our-neighbours",
                "a-plan-with-3-of-everything",
                "regional-plan-with-22-items",
                "a-plan-with-1-of-everything",
            ],
            strict=True,
        )
    )
    assert result.stdout.splitlines()[-1] == f"Wrote 4 plans to {before}."
    assert f"Wrote plan {several_plans[0]} to {before}/{several_plans[0]}-eastside" in result.stdout

    empty_the_database(app)
    add_user(OWNER, "Rita Restorer")
    restored = plan(runner, "import", str(before), "--owner", OWNER)
    assert restored.exit_code == 0, restored.output
    assert plan_count(app) == 4

    after = tmp_path / "again"
    assert plan(runner, "export", "--all", "-o", str(after)).exit_code == 0
    assert backup_contents(after) == backup_contents(before)
    assert json.loads(backup_contents(after)[0])["plan"]["title"].startswith("Eastside Tool Library")


def test_one_bad_file_is_named_and_nothing_is_imported(
    app: Flask, runner: Any, add_user: Any, several_plans: list[int], tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    assert plan(runner, "export", "--all", "--output", str(backup)).exit_code == 0
    broken = backup / f"{several_plans[1]}-a-plan-with-3-of-everything.json"
    document = json.loads(broken.read_text(encoding="utf-8"))
    document["plan"]["goals"][0]["key"] = document["plan"]["goals"][1]["key"]
    broken.write_text(json.dumps(document), encoding="utf-8")
    empty_the_database(app)
    add_user(OWNER)

    result = plan(runner, "import", "--owner", OWNER, str(backup))
    assert result.exit_code == 1
    assert f"Refused {broken}: nothing was imported." in result.stderr
    assert "Nothing was imported: 1 of 4 files refused." in result.stderr
    assert plan_count(app) == 0


def test_several_files_import_in_the_order_given(
    app: Flask, runner: Any, add_user: Any, several_plans: list[int], tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    assert plan(runner, "export", "--all", "--output", str(backup)).exit_code == 0
    first, second = sorted(backup.glob("*.json"), key=lambda p: int(p.name.split("-")[0]))[:2]
    add_user(OWNER)

    result = plan(runner, "import", "--owner", OWNER, str(second), str(first))
    assert result.exit_code == 0, result.output
    reports = [line for line in result.stdout.splitlines() if line.startswith("Imported")]
    assert [re.search(r"from (\S+) as plan", line).group(1) for line in reports] == [str(second), str(first)]
    assert plan_count(app) == len(several_plans) + 2


def test_export_all_needs_a_directory(runner: Any, several_plans: list[int], tmp_path: Path) -> None:
    assert "use --output DIR" in plan(runner, "export", "--all").stderr
    assert "use --output DIR" in plan(runner, "export", "--all", "--format", "pdf", "-o", str(tmp_path)).stderr
    assert "not both" in plan(runner, "export", "--all", str(several_plans[0]), "-o", str(tmp_path)).stderr
    afile = tmp_path / "a-file"
    afile.write_text("")
    result = plan(runner, "export", "--all", "-o", str(afile))
    assert result.exit_code == 1 and f"cannot make the directory {afile}" in result.stderr
    assert not list(tmp_path.glob(".*.tmp"))
