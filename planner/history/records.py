"""Reading the history: a plan's changes page by page, and one change field by field.

Every list here is one query, whoever made the changes: the authors' names come in the same
query (an outer join), so a page of 50 changes costs what a page of 5 does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from planner.accounts.models import User
from planner.domain import ENTITY_BY_NAME, STEP_BY_SLUG, Entity, Field, Kind, plan_field
from planner.extensions import db
from planner.plans import view
from planner.plans.models import Change
from planner.plans.store.merging import changed_fields

PAGE_SIZE = 50

ACTION_LABELS = {
    "create": "Added",
    "update": "Edited",
    "delete": "Deleted",
    "move": "Moved",
    "restore": "Restored",
    "import": "Imported",
}


@dataclass(frozen=True)
class Filters:
    """What the history page is narrowed to; each is a query parameter."""

    step: str | None = None
    user: int | None = None
    entity: str | None = None
    key: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        step = args.get("step") or None
        entity = args.get("entity") or None
        return cls(
            step=step if step in STEP_BY_SLUG else None,
            user=args.get("user", type=int),
            entity=entity if entity in ENTITY_BY_NAME or entity == "plan" else None,
            key=(args.get("key") or None) if entity else None,
        )

    def args(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Entry:
    change: Change
    by: str | None  # the author's name; None for the command line or a deleted account
    # Changes made by the same write (what a deletion took along), shown under it.
    with_it: tuple[Entry, ...] = ()

    @property
    def step(self) -> Any:
        return STEP_BY_SLUG.get(self.change.step or "")


@dataclass(frozen=True)
class HistoryPage:
    entries: list[Entry]
    page: int
    has_next: bool
    filters: Filters


def history_page(plan_id: int, filters: Filters, page: int = 1, per_page: int = PAGE_SIZE) -> HistoryPage:
    """One page of a plan's changes, newest first."""
    # A page number beyond any plan's history shows an empty page; one too large for the
    # database's integers (a hand-edited address) must not reach the query.
    page = min(max(page, 1), 1_000_000)
    query = (
        select(Change, User.name)
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.plan_id == plan_id)
        .order_by(Change.at.desc(), Change.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    if filters.step:
        query = query.where(Change.step == filters.step)
    if filters.user:
        query = query.where(Change.user_id == filters.user)
    if filters.entity:
        query = query.where(Change.entity == filters.entity)
    if filters.key:
        query = query.where(Change.item_key == filters.key)
    rows = [Entry(change, by) for change, by in db.session.execute(query).tuples()]
    return HistoryPage(_by_write(rows[:per_page]), page, len(rows) > per_page, filters)


def _by_write(entries: list[Entry]) -> list[Entry]:
    """Group the changes one write recorded (the same moment and author, newest first): the
    first it recorded leads, the others go with it."""
    out: list[Entry] = []
    group: list[Entry] = []
    for e in [*entries, None]:
        if group and (e is None or (e.change.at, e.change.user_id) != (group[0].change.at, group[0].change.user_id)):
            lead, *rest = reversed(group)
            out.append(Entry(lead.change, lead.by, tuple(rest)))
            group = []
        if e is not None:
            group.append(e)
    return out


def authors(plan_id: int) -> list[tuple[int, str]]:
    """Everyone who has changed the plan, by name: the choices of the person filter."""
    rows = db.session.execute(
        select(User.id, User.name)
        .join(Change, Change.user_id == User.id)
        .where(Change.plan_id == plan_id)
        .distinct()
        .order_by(User.name, User.id)
    )
    return [(user_id, name) for user_id, name in rows]


def entry(plan_id: int, change_id: int) -> Entry | None:
    row = db.session.execute(
        select(Change, User.name)
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.id == change_id, Change.plan_id == plan_id)
    ).first()
    return Entry(row[0], row[1]) if row else None


def related(plan_id: int, change: Change) -> list[Entry]:
    """The changes that went with this one (what a deletion took along), and the restores of it."""
    rows = db.session.execute(
        select(Change, User.name)
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.plan_id == plan_id, Change.source == f"change:{change.id}")
        .order_by(Change.id)
    ).tuples()
    return [Entry(c, by) for c, by in rows]


def source_change_id(change: Change) -> int | None:
    """The change this one undid or followed from, if any."""
    if change.source and change.source.startswith("change:"):
        try:
            return int(change.source.removeprefix("change:"))
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class FieldDiff:
    field: Field
    before: Any  # as a reader sees it (`view.display`), None when empty
    after: Any
    changed: bool


def entity_of(change: Change) -> Entity | None:
    return ENTITY_BY_NAME.get(change.entity)


def _fields(change: Change) -> list[Field]:
    entity = entity_of(change)
    if entity:
        return list(entity.fields)
    out = []
    for name in dict.fromkeys([*(change.before or {}), *(change.after or {})]):
        try:
            out.append(plan_field(name))
        except KeyError:
            continue
    return out


def _deleted_names(plan_id: int, wanted: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """Names of deleted items, from their recorded deletions, for references to them."""
    wanted = {name: keys for name, keys in wanted.items() if keys}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Change.entity, Change.item_key, Change.before).where(
            Change.plan_id == plan_id,
            Change.action == "delete",
            Change.entity.in_(list(wanted)),
            Change.item_key.in_([k for keys in wanted.values() for k in keys]),
        )
    )
    found: dict[str, dict[str, str]] = {}
    for entity_name, key, before in rows:
        if key in wanted.get(entity_name, ()) and before:
            title = view.title_of(ENTITY_BY_NAME[entity_name], before)
            found.setdefault(entity_name, {})[key] = f"{title} (deleted)"
    return found


def diff(plan_id: int, change: Change, doc: dict[str, Any]) -> list[FieldDiff]:
    """A change field by field, with labels from the declaration and references by name: the
    name an item has now, or had when it was deleted."""
    if change.action in ("move", "import") or (change.entity == "plan" and change.action == "create"):
        return []
    before, after = change.before or {}, change.after or {}
    fields = _fields(change)
    names = view.names(doc)
    missing: dict[str, set[str]] = {}
    for f in fields:
        if not f.is_ref:
            continue
        for record in (before, after):
            value = record.get(f.name)
            keys = value if f.kind is Kind.REF_LIST else [value] if value else []
            missing.setdefault(f.target, set()).update(k for k in keys or [] if k not in names[f.target])
    for entity_name, extra in _deleted_names(plan_id, missing).items():
        names[entity_name] = {**extra, **names[entity_name]}
    touched = set(changed_fields(change.before, change.after))
    out = []
    for f in fields:
        b = view.display(f, before.get(f.name, f.empty()), names) if f.name in before else None
        a = view.display(f, after.get(f.name, f.empty()), names) if f.name in after else None
        if b is None and a is None:
            continue
        out.append(FieldDiff(f, b, a, f.name in touched))
    return out
