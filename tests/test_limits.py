"""Every backup restores: whatever the wizard lets a team build, `plan export` writes and
`plan import` (or the upload page) takes back.

The limits are one declaration (`planner.domain.limits`, and each entity's `max_items`): the
wizard refuses the item past them, the import takes a plan at all of them, and the byte caps
follow from them. Keys the wizard's addresses cannot name are refused at import, saying where.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from config import Config
from planner.domain import ENTITIES, ENTITY_BY_NAME, PLAN_FIELDS, Entity, Kind, limits
from planner.domain.limits import KEY_LENGTH, RESERVED_KEYS, key_problem
from planner.extensions import db
from planner.interchange import ImportRefused, dumps, export_document, import_document
from planner.interchange.transfer import wrap
from planner.models import ITEM_MODELS, Plan
from planner.plans import store
from tests.plan_factory import fullest_document, generated_plan

OWNER = "restorer@example.org"
JSON = {"Accept": "application/json"}
OLD_IMPORT_CAP = 2 * 1024 * 1024  # what the import took before the limits were declared


def plan_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Plan))


def item_count(plan_id: int, entity: Entity) -> int:
    model = ITEM_MODELS[entity.name]
    return db.session.scalar(select(func.count()).select_from(model).where(model.plan_id == plan_id))


def exported(plan_id: int) -> str:
    return dumps(export_document(db.session.get(Plan, plan_id)))


@pytest.fixture(scope="module")
def fullest() -> dict[str, Any]:
    return fullest_document()


@pytest.fixture(scope="module")
def fullest_json(fullest: dict[str, Any]) -> bytes:
    return dumps(fullest).encode("utf-8")


# ---------------------------------------------------------------- the byte caps follow from the limits


def test_the_fullest_plan_is_exactly_as_large_as_the_limits_say() -> None:
    # Four-byte characters in every text, every count and length at its limit: the worst case.
    worst = dumps(fullest_document(tricky=False)).encode("utf-8")
    assert len(worst) == limits.document_bytes()
    assert limits.document_bytes() <= Config.MAX_IMPORT_BYTES == limits.import_bytes()
    assert Config.MAX_IMPORT_BYTES < Config.MAX_CONTENT_LENGTH == limits.request_bytes()
    # Today's limits make a plan larger than the 2 MiB the import used to take.
    assert len(worst) > OLD_IMPORT_CAP


def test_characters_json_must_escape_cost_no_more_than_the_worst_case(fullest_json: bytes) -> None:
    assert b'\\"' in fullest_json and b"\\\\" in fullest_json and b"\\t" in fullest_json and b"\\n" in fullest_json
    assert len(fullest_json) <= limits.document_bytes()


def test_every_kind_and_field_of_the_fullest_plan_is_at_its_limit(fullest: dict[str, Any]) -> None:
    plan = fullest["plan"]
    for entity in ENTITIES:
        assert len(plan[entity.collection]) == entity.max_items, entity.name
        item = plan[entity.collection][0]
        assert len(item["key"]) == KEY_LENGTH
        for f in entity.fields:
            if f.kind in (Kind.TEXT, Kind.LONGTEXT):
                assert len(item[f.name]) == f.max_length, (entity.name, f.name)
            elif f.kind is Kind.LIST:
                assert [len(e) for e in item[f.name]] == [f.max_length] * f.max_items, (entity.name, f.name)
            elif f.kind is Kind.REF_LIST:
                target = ENTITY_BY_NAME[f.target]
                assert len(item[f.name]) == min(f.max_items, target.max_items), (entity.name, f.name)


# ---------------------------------------------------------------- the round trip of the fullest plan


def test_the_fullest_plan_survives_export_and_import_on_the_command_line(
    app: Flask, runner: Any, add_user: Any, fullest: dict[str, Any], fullest_json: bytes, tmp_path: Path
) -> None:
    with app.app_context():
        plan_id = store.create_from_doc(fullest["plan"]).id
        db.session.remove()
    backup = tmp_path / "fullest.json"
    result = runner.invoke(args=["plan", "export", str(plan_id), "--output", str(backup)])
    assert result.exit_code == 0, result.output
    written = backup.read_bytes()
    assert written == fullest_json  # the store kept every character, in order
    assert len(written) > OLD_IMPORT_CAP

    add_user(OWNER)
    restored = runner.invoke(args=["plan", "import", str(backup), "--owner", OWNER])
    assert restored.exit_code == 0, restored.output
    new_id = int(restored.stdout.splitlines()[-1])
    again = tmp_path / "again.json"
    assert runner.invoke(args=["plan", "export", str(new_id), "-o", str(again)]).exit_code == 0
    assert again.read_bytes() == written


def test_the_fullest_plan_survives_the_upload_page(
    app: Flask, web: Any, fullest: dict[str, Any], fullest_json: bytes
) -> None:
    # Encoded here, in memory: the test client would spool a body this size to a file it never closes.
    boundary, body = encode_multipart(
        {"csrf_token": web.token(), "file": FileStorage(BytesIO(fullest_json), "fullest.json")}
    )
    assert len(body) <= Config.MAX_CONTENT_LENGTH
    response = web.client.post("/plans/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        [plan_id] = db.session.scalars(select(Plan.id))
        assert exported(plan_id).encode("utf-8") == fullest_json
        db.session.remove()
    download = web.get(f"/plans/{plan_id}/export.json")
    assert download.status_code == 200 and download.data == fullest_json


# ---------------------------------------------------------------- the wizard refuses the item past the limit


def full_plan(entity: Entity) -> dict[str, Any]:
    """A valid plan with the most items of `entity` it may hold (one of everything else)."""
    plan = generated_plan(1)
    plan[entity.collection] = [
        {**plan[entity.collection][0], "key": f"{entity.key_prefix}{i}"} for i in range(1, entity.max_items + 1)
    ]
    return plan


def new_item_form(entity: Entity) -> dict[str, str]:
    """What the add form of `entity` sends with its required fields filled."""
    form = {}
    for f in entity.fields:
        if f.required:
            target = ENTITY_BY_NAME[f.target] if f.target else None
            form[f"new-{entity.name}-{f.name}"] = f"{target.key_prefix}1" if target else "One more"
    return form


@pytest.mark.parametrize("entity", ENTITIES, ids=[e.name for e in ENTITIES])
def test_the_wizard_refuses_the_item_past_the_limit_and_saves_nothing(
    ctx: Flask, web: Any, owner: Any, add_member: Any, entity: Entity
) -> None:
    plan = store.create_from_doc(full_plan(entity))
    add_member(plan, owner)
    revision = plan.revision
    response = web.post(f"/plans/{plan.id}/items/{entity.name}/new", new_item_form(entity))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    said = f"This plan holds {entity.max_items} {entity.label_plural.lower()}, the most one plan can"
    assert said in page
    assert 'value="One more"' in page  # what the person typed is still there
    db.session.expire_all()
    assert item_count(plan.id, entity) == entity.max_items
    assert db.session.get(Plan, plan.id).revision == revision

    # One fewer, and the same form adds it: the limit is the limit, not one below it.
    doomed = store.load_doc(plan)[entity.collection][-1]["key"]
    store.delete_item(plan, entity, doomed)
    assert web.post(f"/plans/{plan.id}/items/{entity.name}/new", new_item_form(entity)).status_code == 302
    assert item_count(plan.id, entity) == entity.max_items


def test_the_store_refuses_the_item_past_the_limit_whoever_adds_it(ctx: Flask) -> None:
    goal = ENTITY_BY_NAME["goal"]
    plan = store.create_from_doc(full_plan(goal))
    with pytest.raises(store.TooManyItems):
        store.add_item(plan, goal, {"statement": "One more"})
    assert item_count(plan.id, goal) == goal.max_items


def test_a_reference_list_past_its_limit_is_refused_by_the_form_as_by_the_import(
    ctx: Flask, web: Any, owner: Any, add_member: Any
) -> None:
    practice = ENTITY_BY_NAME["practice"]
    segments = practice.field("segments")
    plan_doc = generated_plan(segments.max_items + 1)
    plan = store.create_from_doc(plan_doc)
    add_member(plan, owner)
    keys = [s["key"] for s in plan_doc["segments"]]
    form = {"new-practice-description": "Answer everyone", "new-practice-segments": keys}
    response = web.post(f"/plans/{plan.id}/items/practice/new", form)
    assert response.status_code == 422
    assert f"Choose at most {segments.max_items}." in response.get_data(as_text=True)
    assert item_count(plan.id, practice) == len(plan_doc["practices"])

    plan_doc["practices"][0]["segments"] = keys
    with pytest.raises(ImportRefused) as refused:
        import_document(dumps(wrap(plan_doc)))
    expected = f"plan.practices[0].segments: has {len(keys)} entries; the most is {segments.max_items}"
    assert expected in [str(p) for p in refused.value.problems]


def test_restoring_a_deletion_into_a_full_plan_is_refused_and_says_why(ctx: Flask) -> None:
    goal = ENTITY_BY_NAME["goal"]
    plan = store.create_from_doc(full_plan(goal))
    store.delete_item(plan, goal, "g1")
    store.add_item(plan, goal, {"statement": "The goal that took its place"})
    [deletion] = [c for c in store_changes(plan.id) if c.action == "delete" and c.entity == "goal"]
    with pytest.raises(store.RestoreRefused) as refused:
        store.restore(plan, deletion.id)
    assert f"This plan holds {goal.max_items} goals" in str(refused.value)
    assert "then restore this one" in str(refused.value)
    assert item_count(plan.id, goal) == goal.max_items


def test_restoring_a_deletion_never_grows_a_reference_list_past_its_limit(ctx: Flask) -> None:
    practice, segment = ENTITY_BY_NAME["practice"], ENTITY_BY_NAME["segment"]
    most = practice.field("segments").max_items
    plan_doc = generated_plan(most + 1)
    keys = [s["key"] for s in plan_doc["segments"]]
    plan_doc["practices"][0]["segments"] = keys[:most]
    plan = store.create_from_doc(plan_doc)
    store.delete_item(plan, segment, keys[0])  # the practice names one fewer
    store.update_item(plan, practice, "pr1", {"segments": keys[1:]})  # and then the most again
    [deletion] = [c for c in store_changes(plan.id) if c.action == "delete"]
    store.restore(plan, deletion.id)
    assert store.load_doc(plan)["practices"][0]["segments"] == keys[1:]
    import_document(exported(plan.id))  # and the plan still restores from its backup


def store_changes(plan_id: int) -> list[Any]:
    from planner.plans.models import Change

    return list(db.session.scalars(select(Change).where(Change.plan_id == plan_id).order_by(Change.id)))


def _forget_the_last_csrf_token() -> None:
    g.pop("csrf_token", None)  # several browsers take turns inside the test's app context


@pytest.fixture
def fresh_csrf(app: Flask) -> Any:
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(0, _forget_the_last_csrf_token)
    yield
    funcs.remove(_forget_the_last_csrf_token)


@pytest.mark.usefixtures("fresh_csrf")
def test_a_workshop_card_promoted_into_a_full_plan_is_refused_with_the_reason(
    ctx: Flask, web: Any, anonymous: Any, owner: Any, add_member: Any
) -> None:
    segment = ENTITY_BY_NAME["segment"]
    plan = store.create_from_doc(full_plan(segment))
    add_member(plan, owner)
    started = web.post(f"/plans/{plan.id}/workshops", {"step": "audiences"})
    code = re.search(r"/workshop/([A-Z0-9]{8})/console$", started.headers["Location"]).group(1)
    anonymous.post(f"/join/{code}", {"name": "Ana"})
    anonymous.post(f"/workshop/{code}/ideas", {"text": "Night-shift nurses"}, headers=JSON)

    answer = web.post(f"/workshop/{code}/ideas/1/promote", {"entity": "segment"}, headers=JSON)
    assert answer.status_code == 422
    assert json.loads(answer.get_data(as_text=True))["error"].startswith(f"This plan holds {segment.max_items}")
    page = web.post(f"/workshop/{code}/ideas/1/promote", {"entity": "segment"})
    assert page.status_code == 422 and "the most one plan can" in page.get_data(as_text=True)
    db.session.expire_all()
    assert item_count(plan.id, segment) == segment.max_items


# ---------------------------------------------------------------- keys the interface can address

BAD_KEYS = [
    ".",
    "..",
    "new",
    "g/1",
    "g?1",
    "g#1",
    "g%2e",
    "g 1",
    " g1",
    "g\t1",
    "g\x00",
    "g\u202e1",
    "é",
    "g\\1",
    "k" * (KEY_LENGTH + 1),
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=[json.dumps(k) for k in BAD_KEYS])
def test_a_key_the_wizard_cannot_address_is_refused_with_its_place_and_nothing_is_saved(
    ctx: Flask, example_doc: dict[str, Any], key: str
) -> None:
    example_doc["plan"]["practices"][3]["key"] = key
    with pytest.raises(ImportRefused) as refused:
        import_document(dumps(example_doc))
    [problem] = [p for p in refused.value.problems if p.path == "plan.practices[3].key"]
    quoted = json.dumps(key if len(key) <= 40 else key[:37] + "...", ensure_ascii=False)
    assert problem.message.startswith(quoted.replace("\u202e", "\\u202e") + " ")
    assert "is not a key" in problem.message or "cannot be a key" in problem.message
    assert plan_count() == 0


def test_an_empty_key_is_refused_as_missing(ctx: Flask, example_doc: dict[str, Any]) -> None:
    example_doc["plan"]["practices"][3]["key"] = ""
    with pytest.raises(ImportRefused) as refused:
        import_document(dumps(example_doc))
    assert "plan.practices[3].key: is required: every practice needs a key" in map(str, refused.value.problems)


def test_dot_segments_and_the_add_address_are_named_in_the_message() -> None:
    assert key_problem("..") == 'cannot be a key: a web address reads ".." as "the folder above"'
    assert key_problem("new") == 'cannot be a key: the wizard\'s address for adding an item ends in "new"'
    assert key_problem("g1") is None


def test_the_upload_page_names_the_bad_key(web: Any, example_doc: dict[str, Any]) -> None:
    example_doc["plan"]["goals"][1]["key"] = ".."
    response = web.post(
        "/plans/import",
        data={"file": (BytesIO(dumps(example_doc).encode()), "plan.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "plan.goals[1].key" in response.get_data(as_text=True)


def test_the_reserved_keys_are_the_static_words_of_the_item_addresses(app: Flask) -> None:
    # /plans/<id>/items/<entity_name>/new is the add form's address: an item keyed "new" could
    # never be saved at /plans/<id>/items/<entity_name>/<key>. Any new word there needs the same.
    prefix = "/plans/<int:plan_id>/items/<entity_name>/"
    rules = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(prefix)]
    words = {rule.removeprefix(prefix).split("/")[0] for rule in rules}
    static = {word for word in words if "<" not in word}
    assert "new" in static
    assert static <= set(RESERVED_KEYS)


def test_the_keys_the_wizard_makes_pass_the_rule() -> None:
    for entity in ENTITIES:
        for n in (1, 9, 10**6):
            assert key_problem(f"{entity.key_prefix}{n}") is None, entity.name


@pytest.mark.parametrize("key", ["...", "g1.x_Y-Kk9", "NEW", "-", "_", "k" * KEY_LENGTH])
def test_a_key_the_import_takes_can_be_edited_in_the_wizard(
    ctx: Flask, web: Any, owner: Any, add_member: Any, example_doc: dict[str, Any], key: str
) -> None:
    example_doc["plan"]["goals"][0]["key"] = key
    for objective in example_doc["plan"]["objectives"]:
        if objective["goal"] == "g1":
            objective["goal"] = key
    plan = import_document(dumps(example_doc))
    add_member(plan, owner)
    with ctx.test_request_context():
        edit = url_for("wizard.edit_item", plan_id=plan.id, entity_name="goal", key=key)
        save = url_for("wizard.update_item", plan_id=plan.id, entity_name="goal", key=key)
    page = web.get(edit)
    assert page.status_code == 200
    # The field's name as the form draws it (WTForms joins a prefix ending in "-", "_" or "." as it is).
    [name] = re.findall(r'name="([^"]*statement)"', page.get_data(as_text=True))
    response = web.post(save, {name: "Renamed through its own address"})
    assert response.status_code == 302
    db.session.expire_all()
    assert store.get_item(plan, ENTITY_BY_NAME["goal"], key).statement == "Renamed through its own address"


def test_the_store_refuses_a_key_the_rule_refuses(ctx: Flask) -> None:
    plan = store.create_plan("Keys")
    with pytest.raises(ValueError, match="cannot be a key"):
        store.add_item(plan, ENTITY_BY_NAME["goal"], {"key": "..", "statement": "Above"})
    assert item_count(plan.id, ENTITY_BY_NAME["goal"]) == 0


# ---------------------------------------------------------------- line breaks, as the wizard shows them


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        ("name", "Young\nparents", "plan.segments[0].name"),
        ("cares_about", ["repair\u2028cafés"], "plan.segments[0].cares_about[0]"),
        ("cares_about", ["tools\r\nand skills"], "plan.segments[0].cares_about[0]"),
    ],
)
def test_a_line_break_in_a_one_line_answer_is_refused_at_import_with_its_place(
    ctx: Flask, example_doc: dict[str, Any], where: str, value: Any, path: str
) -> None:
    # A text box cannot hold a line break, and a list typed one entry per line would show and
    # save this one entry as two: the import refuses what the wizard would change.
    example_doc["plan"]["segments"][0][where] = value
    with pytest.raises(ImportRefused) as refused:
        import_document(dumps(example_doc))
    assert f"{path}: is one line of text: it holds a line break" in map(str, refused.value.problems)
    assert plan_count() == 0


def test_a_line_break_counts_as_one_character_as_the_browser_counts_it(
    ctx: Flask, web: Any, example_doc: dict[str, Any], owner: Any, add_member: Any
) -> None:
    field = next(f for f in ENTITY_BY_NAME["segment"].fields if f.name == "barriers")
    # At the most characters a browser lets one type (it counts a line break as one), sent back
    # from a text area with "\r\n" breaks, as browsers do: taken whole, and kept with "\n".
    typed = ("x" * 99 + "\n") * (field.max_length // 100)
    assert len(typed) == field.max_length
    example_doc["plan"]["segments"][0]["barriers"] = typed.replace("\n", "\r\n").strip()
    plan = import_document(dumps(example_doc))
    assert export_document(plan)["plan"]["segments"][0]["barriers"] == typed.strip()

    add_member(plan, owner)
    voice = next(f for f in PLAN_FIELDS if f.name == "voice")
    sent = ("y" * 49 + "\n") * (voice.max_length // 50)
    response = web.post(f"/plans/{plan.id}/steps/engagement", {"plan-voice": sent.replace("\n", "\r\n")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert export_document(plan)["plan"]["voice"] == sent.strip()
