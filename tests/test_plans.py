"""The home page: plans listed, created, renamed, duplicated and deleted."""

from __future__ import annotations

from planner.extensions import db
from planner.plans import store


def titles(app) -> list[str]:
    with app.app_context():
        result = sorted(p.title for p in store.list_plans())
        db.session.remove()
        return result


def test_home_lists_plans_and_offers_to_create_one(app, web):
    web.post("/plans", {"title": "Spring campaign"})
    html = web.get("/").get_data(as_text=True)
    assert "Spring campaign" in html
    assert "Start a new plan" in html


def test_creating_a_plan_opens_its_first_step(app, web):
    response = web.post("/plans", {"title": "Spring campaign"})
    assert response.status_code == 302
    assert response.location.endswith("/steps/starting-point")
    assert titles(app) == ["Spring campaign"]


def test_a_plan_needs_a_title(app, web):
    response = web.post("/plans", {"title": "   "})
    assert response.status_code == 422
    assert "Give the plan a title." in response.get_data(as_text=True)
    assert titles(app) == []


def test_rename(app, web):
    web.post("/plans", {"title": "Old name"})
    plan_id = store_id(app)
    assert 'value="Old name"' in web.get(f"/plans/{plan_id}/rename").get_data(as_text=True)
    assert web.post(f"/plans/{plan_id}/rename", {"title": "New name"}).status_code == 302
    assert titles(app) == ["New name"]
    assert web.post(f"/plans/{plan_id}/rename", {"title": ""}).status_code == 422
    assert titles(app) == ["New name"]


def test_duplicate_copies_every_item(app, web, example_plan):
    original = store.load_doc(example_plan)
    response = web.post(f"/plans/{example_plan.id}/duplicate")
    assert response.status_code == 302
    with app.app_context():
        copy = next(p for p in store.list_plans() if p.id != example_plan.id)
        copied = store.load_doc(copy)
        db.session.remove()
    assert copied["title"] == f"Copy of {original['title']}"
    assert {k: v for k, v in copied.items() if k != "title"} == {k: v for k, v in original.items() if k != "title"}


def test_delete_asks_first_then_removes_the_plan_and_its_items(app, web, example_plan):
    plan_id = example_plan.id
    page = web.get(f"/plans/{plan_id}/delete")
    assert page.status_code == 200
    assert "cannot be undone" in page.get_data(as_text=True)
    assert len(titles(app)) == 1
    assert web.post(f"/plans/{plan_id}/delete").status_code == 302
    assert titles(app) == []
    assert web.get(f"/plans/{plan_id}/steps/goals").status_code == 404


def test_unknown_plans_answer_404(web):
    assert web.get("/plans/12345/rename").status_code == 404
    assert web.post("/plans/12345/duplicate").status_code == 404
    assert web.get("/plans/12345/delete").status_code == 404


def store_id(app) -> int:
    with app.app_context():
        plan_id = store.list_plans()[0].id
        db.session.remove()
        return plan_id


def test_a_new_plan_and_its_facilitator_are_saved_in_one_commit(app, web, example_doc, monkeypatch):
    """Created, imported or copied: at no commit is there a plan that nobody can open (a process
    killed between two commits would leave one behind)."""
    import io
    import json

    from sqlalchemy import event, text
    from sqlalchemy.orm import Session

    orphans_after_commit: list[int] = []

    def count_orphans(_session: Session) -> None:
        with db.engine.connect() as conn:
            orphans_after_commit.append(
                conn.scalar(text("SELECT count(*) FROM plans WHERE id NOT IN (SELECT plan_id FROM memberships)"))
            )

    event.listen(Session, "after_commit", count_orphans)
    try:
        assert web.post("/plans", {"title": "Made here"}).status_code == 302
        upload = {"file": (io.BytesIO(json.dumps(example_doc).encode()), "plan.json")}
        assert web.post("/plans/import", upload, content_type="multipart/form-data").status_code == 303
        with app.app_context():
            made = db.session.scalar(text("SELECT id FROM plans WHERE title = 'Made here'"))
        assert web.post(f"/plans/{made}/duplicate").status_code == 302
    finally:
        event.remove(Session, "after_commit", count_orphans)
    assert orphans_after_commit and set(orphans_after_commit) == {0}
    assert sorted(titles(app)) == sorted(["Made here", "Copy of Made here", example_doc["plan"]["title"]])
