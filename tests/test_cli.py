"""The `flask plan ...` commands, run through Flask's CLI runner as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from planner.extensions import db
from planner.models import Plan


def run(runner: Any, *args: str, **kwargs: Any) -> Any:
    return runner.invoke(args=["plan", *args], **kwargs)


def plan_count(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Plan))


OWNER = "importer@example.org"


@pytest.fixture(autouse=True)
def importer(add_user: Any) -> Any:
    """The account that `plan import --owner` names."""
    return add_user(OWNER, "Ida Importer")


@pytest.fixture
def example_file(tmp_path: Path, example_doc: dict[str, Any]) -> Path:
    path = tmp_path / "eastside.json"
    path.write_text(json.dumps(example_doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_list_shows_id_and_title(runner: Any, example_plan: Any) -> None:
    result = run(runner, "list")
    assert result.exit_code == 0
    assert result.stdout == f"{example_plan.id}\tEastside Tool Library: talking with our neighbours\n"


def test_import_prints_the_new_id_last(app: Any, runner: Any, example_file: Path) -> None:
    result = run(runner, "import", "--owner", OWNER, str(example_file))
    assert result.exit_code == 0, result.output
    plan_id = int(result.stdout.splitlines()[-1])
    with app.app_context():
        assert db.session.get(Plan, plan_id).title == "Eastside Tool Library: talking with our neighbours"


def test_import_reads_standard_input(app: Any, runner: Any, example_file: Path) -> None:
    result = run(runner, "import", "--owner", OWNER, "-", input=example_file.read_bytes())
    assert result.exit_code == 0, result.output
    assert plan_count(app) == 1


def test_a_refused_import_explains_on_stderr_and_writes_nothing(
    app: Any, runner: Any, tmp_path: Path, example_doc: dict[str, Any]
) -> None:
    example_doc["plan"]["practices"][3]["owners"][0] = "p9"
    example_doc["plan"]["people"][0]["hours_per_week"] = True
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(example_doc), encoding="utf-8")

    result = run(runner, "import", "--owner", OWNER, str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nothing was imported" in result.stderr
    assert 'plan.practices[3].owners[0]: no person with key "p9"' in result.stderr
    assert "plan.people[0].hours_per_week: expected a number, found true or false" in result.stderr
    assert plan_count(app) == 0


def test_importing_something_that_is_not_json_fails(app: Any, runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\xff\xfe not a plan")
    result = run(runner, "import", "--owner", OWNER, str(path))
    assert result.exit_code == 1
    assert "document: is not UTF-8 text" in result.stderr
    assert plan_count(app) == 0


def test_importing_an_oversized_file_fails(app: Any, runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (app.config["MAX_IMPORT_BYTES"] + 10) + b"{}")
    result = run(runner, "import", "--owner", OWNER, str(path))
    assert result.exit_code == 1
    assert f"an import takes at most {app.config['MAX_IMPORT_BYTES'] / 1024 / 1024:.1f} MiB" in result.stderr
    assert plan_count(app) == 0


def test_importing_a_missing_file_fails(runner: Any, tmp_path: Path) -> None:
    result = run(runner, "import", "--owner", OWNER, str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_export_writes_json_to_stdout_by_default(runner: Any, example_plan: Any, example_doc: dict[str, Any]) -> None:
    result = run(runner, "export", str(example_plan.id))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == example_doc


def test_export_then_import_round_trips(runner: Any, example_plan: Any, tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    assert run(runner, "export", str(example_plan.id), "--format", "json", "--output", str(path)).exit_code == 0
    imported = run(runner, "import", "--owner", OWNER, str(path))
    new_id = imported.stdout.splitlines()[-1]
    again = run(runner, "export", new_id, "-o", "-")
    assert again.stdout == path.read_text(encoding="utf-8")


def test_export_of_an_unknown_plan_fails(runner: Any) -> None:
    result = run(runner, "export", "424242")
    assert result.exit_code == 1
    assert "no plan with id 424242" in result.stderr


def test_export_to_a_place_that_cannot_be_written_fails(runner: Any, example_plan: Any, tmp_path: Path) -> None:
    result = run(runner, "export", str(example_plan.id), "--output", str(tmp_path / "no-such-dir" / "plan.json"))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr


def test_export_refuses_an_unknown_format(runner: Any, example_plan: Any) -> None:
    result = run(runner, "export", str(example_plan.id), "--format", "odt")
    assert result.exit_code == 2
    assert "odt" in result.stderr


def test_export_html(runner: Any, example_plan: Any, tmp_path: Path) -> None:
    result = run(runner, "export", str(example_plan.id), "--format", "html")
    assert result.exit_code == 0, result.output
    assert "Eastside Tool Library: talking with our neighbours" in result.stdout
    assert result.stdout.lstrip().lower().startswith("<!doctype html>")
    # A file on disk cannot load the app's stylesheet, so it carries it inline.
    assert "<style>" in result.stdout
    assert 'href="/static/print.css"' not in result.stdout


def test_export_markdown_and_word(runner: Any, example_plan: Any, tmp_path: Path) -> None:
    import docx

    result = run(runner, "export", str(example_plan.id), "--format", "md")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Eastside Tool Library: talking with our neighbours")
    path = tmp_path / "plan.docx"
    result = run(runner, "export", str(example_plan.id), "--format", "docx", "--output", str(path))
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Eastside Tool Library: talking with our neighbours" in text


def test_coach_prints_the_report_as_json(runner: Any, example_plan: Any) -> None:
    result = run(runner, "coach", str(example_plan.id))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert 0 <= report["score"] <= 100
    assert [c["id"] for c in report["checks"]][:2] == ["strategy_first", "listen_first"]
    assert len(report["checks"]) == 14
    assert all(
        {"id", "status", "message"} <= set(c) and c["status"] in ("pass", "warn", "fail") for c in report["checks"]
    )
    assert run(runner, "coach", "9999").exit_code == 1


@pytest.mark.slow
@pytest.mark.pdf
def test_export_pdf(runner: Any, example_plan: Any, tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    result = run(runner, "export", str(example_plan.id), "--format", "pdf", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"%PDF")


def test_load_example_once(app: Any, runner: Any) -> None:
    first = run(runner, "load-example")
    assert first.exit_code == 0, first.output
    second = run(runner, "load-example")
    assert second.exit_code == 0
    assert "already there" in second.stdout
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]
    assert plan_count(app) == 1
