"""`flask user ...`, `plan import --owner`, the demo account, and what an export leaves out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from planner.accounts import membership, users
from planner.accounts.models import User
from planner.discussion.models import Comment
from planner.domain import ENTITIES, FORMAT_NAME, PLAN_FIELDS
from planner.extensions import db
from planner.models import Plan
from tests.conftest import PASSWORD, Web


def user(runner: Any, *args: str, **kwargs: Any) -> Any:
    return runner.invoke(args=["user", *args], **kwargs)


def plan(runner: Any, *args: str, **kwargs: Any) -> Any:
    return runner.invoke(args=["plan", *args], **kwargs)


def account(app: Flask, email: str) -> User | None:
    with app.app_context():
        found = users.find_by_email(email)
        if found is not None:
            db.session.expunge(found)
        db.session.remove()
        return found


def test_create_an_account_with_a_password_given(app: Flask, runner: Any) -> None:
    result = user(runner, "create", "Ana@Example.org", "--name", "Ana Admin", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    created = account(app, "ana@example.org")
    assert created is not None and created.name == "Ana Admin"
    assert result.stdout.splitlines()[-1] == str(created.id)
    with app.app_context():
        assert users.authenticate("ana@example.org", PASSWORD) is not None


def test_create_asks_for_the_password_twice_when_not_given(app: Flask, runner: Any) -> None:
    result = user(runner, "create", "ben@example.org", "--name", "Ben", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # typed hidden
    with app.app_context():
        assert users.authenticate("ben@example.org", PASSWORD) is not None


def test_create_refuses_a_taken_address_or_a_short_password(runner: Any, owner: User) -> None:
    taken = user(runner, "create", owner.email, "--name", "Again", "--password", PASSWORD)
    assert taken.exit_code == 1 and "already an account" in taken.output
    short = user(runner, "create", "new@example.org", "--name", "New", "--password", "short")
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_list_accounts(runner: Any, owner: User, example_plan: Any) -> None:
    result = user(runner, "list")
    assert result.exit_code == 0
    assert result.stdout == f"{owner.id}\tfay@example.org\tFay Facilitator\t1 plan\n"


def test_reset_link_prints_a_link_that_works(app: Flask, runner: Any, owner: User) -> None:
    result = user(runner, "reset-link", owner.email)
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("http://127.0.0.1:5000/reset-password/")
    browser = Web(app.test_client())
    path = link.removeprefix("http://127.0.0.1:5000")
    assert browser.get(path).status_code == 200
    assert browser.post(path, {"password": "chosen again", "confirm": "chosen again"}).status_code == 302


def test_reset_link_for_an_unknown_address_fails(runner: Any) -> None:
    result = user(runner, "reset-link", "nobody@example.org")
    assert result.exit_code == 1 and "no account uses" in result.output


# ---------------------------------------------------------------- plans and accounts


def test_plan_import_makes_the_owner_its_facilitator(
    app: Flask, runner: Any, owner: User, tmp_path: Path, example_doc: dict
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(example_doc), encoding="utf-8")
    result = plan(runner, "import", "--owner", "FAY@example.org", str(path))
    assert result.exit_code == 0, result.output
    plan_id = int(result.stdout.splitlines()[-1])
    with app.app_context():
        assert membership.members_of(plan_id)[0][0].id == owner.id
        assert membership.role_of(plan_id, owner.id) == "facilitator"


def test_plan_import_needs_an_existing_owner(app: Flask, runner: Any, tmp_path: Path, example_doc: dict) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(example_doc), encoding="utf-8")
    result = plan(runner, "import", "--owner", "nobody@example.org", str(path))
    assert result.exit_code == 1
    assert "no account uses 'nobody@example.org'" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 0


def test_the_example_plan_belongs_to_the_demo_account_the_readme_names(app: Flask, runner: Any) -> None:
    result = plan(runner, "load-example")
    assert result.exit_code == 0, result.output
    plan_id = int(result.stdout.splitlines()[-1])
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert users.DEMO_EMAIL in readme and users.DEMO_PASSWORD in readme
    with app.app_context():
        demo = users.authenticate(users.DEMO_EMAIL, users.DEMO_PASSWORD)
        assert demo is not None
        assert membership.role_of(plan_id, demo.id) == "facilitator"
    assert plan(runner, "load-example").exit_code == 0  # again: nothing new, no error
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_an_export_carries_no_accounts_history_or_comments(
    web: Web, example_plan: Any, editor: User, viewer: User, ctx: Flask
) -> None:
    # Give the plan members, a change on record and a comment.
    web.post(f"/plans/{example_plan.id}/items/goal/new", {"new-goal-statement": "A goal with a history"})
    db.session.add(Comment(plan_id=example_plan.id, user_id=editor.id, step="goals", body="A private remark"))
    db.session.commit()

    text = web.get(f"/plans/{example_plan.id}/export.json").get_data(as_text=True)
    document = json.loads(text)
    assert set(document) == {"format", "version", "plan"} and document["format"] == FORMAT_NAME
    assert set(document["plan"]) == {f.name for f in PLAN_FIELDS} | {e.collection for e in ENTITIES}
    for private in ("fay@example.org", "eddie@example.org", "Eddie Editor", "Vera Viewer", "A private remark"):
        assert private not in text
