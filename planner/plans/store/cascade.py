"""What deleting an item does to the rest of the plan, worked out before anything is written.

An item that cannot exist without the deleted one (a required reference: an objective without
its goal) is deleted with it, and so on down the line; every optional reference to any of the
deleted items is cleared, so a practice that served a goal's objective loses its objective
when the goal goes. `cascade` reads this from the declaration on a plan document. The delete
page lists what it returns, and `store.delete_item` records what it returns, so what a person
is asked to confirm and what happens cannot disagree. (The database does the same through its
foreign keys; tests/test_delete_cascade.py checks that the three agree for the example plan.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.domain import Entity, Field, Kind
from planner.plans import view


@dataclass(frozen=True)
class Deleted:
    """An item the deletion takes: the one asked for, or one that needed a deleted item."""

    entity: Entity
    item: dict[str, Any]
    # (the field, the entity and item it needed); empty for the item asked for.
    needed: tuple[tuple[Field, Entity, dict[str, Any]], ...] = ()

    @property
    def title(self) -> str:
        return view.title_of(self.entity, self.item)


@dataclass(frozen=True)
class Cleared:
    """An item that stays but loses references to deleted items."""

    entity: Entity
    before: dict[str, Any]
    after: dict[str, Any]
    # (the field, the entity and item it no longer refers to), in the order they were met.
    lost: tuple[tuple[Field, Entity, dict[str, Any]], ...]

    @property
    def title(self) -> str:
        return view.title_of(self.entity, self.before)

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(dict.fromkeys(f for f, _, _ in self.lost))


@dataclass(frozen=True)
class Cascade:
    """Everything one deletion changes: `deleted[0]` is the item asked for."""

    deleted: tuple[Deleted, ...]
    cleared: tuple[Cleared, ...]

    @property
    def asked(self) -> Deleted:
        return self.deleted[0]

    @property
    def along(self) -> tuple[Deleted, ...]:
        """The items deleted because they needed a deleted item."""
        return self.deleted[1:]

    def __bool__(self) -> bool:
        """Whether the deletion changes anything besides the item itself."""
        return bool(self.along or self.cleared)

    def named_along(self, refs: tuple[tuple[Field, Entity, dict[str, Any]], ...]) -> list[str]:
        """Of the deleted items in `refs` (a `needed` or `lost`), those deleted because they
        needed another, by name: what makes a change second-order, for the page to say why."""
        asked = (self.asked.entity.name, self.asked.item["key"])
        return list(
            dict.fromkeys(
                f"{e.label[:1].lower()}{e.label[1:]} “{view.title_of(e, item)}”"
                for _, e, item in refs
                if (e.name, item["key"]) != asked
            )
        )


def cascade(doc: dict[str, Any], entity: Entity, key: str) -> Cascade:
    """What deleting `entity`'s item `key` from `doc` deletes and clears (LookupError when
    there is no such item)."""
    item = next((i for i in view.items(doc, entity) if i["key"] == key), None)
    if item is None:
        raise LookupError(f"no {entity.name} {key}")
    deleted: dict[tuple[str, str], Deleted] = {(entity.name, key): Deleted(entity, item)}
    needs: dict[tuple[str, str], list[tuple[Field, Entity, dict[str, Any]]]] = {}
    losses: dict[tuple[str, str], tuple[Entity, dict[str, Any], list[tuple[Field, Entity, dict[str, Any]]]]] = {}
    queue = [(entity, item)]
    while queue:
        gone_entity, gone = queue.pop(0)
        for r in view.referrers(doc, gone_entity, gone["key"]):
            at = (r.entity.name, r.item["key"])
            if r.deleted_too:
                needs.setdefault(at, []).append((r.field, gone_entity, gone))
                if at not in deleted:
                    deleted[at] = Deleted(r.entity, r.item)
                    queue.append((r.entity, r.item))
            else:
                losses.setdefault(at, (r.entity, r.item, []))[2].append((r.field, gone_entity, gone))
    doomed = tuple(Deleted(d.entity, d.item, tuple(needs.get(at, ()))) for at, d in deleted.items())
    cleared = tuple(
        Cleared(other, before, _without(before, lost), tuple(lost))
        for at, (other, before, lost) in losses.items()
        if at not in deleted
    )
    return Cascade(doomed, cleared)


def _without(item: dict[str, Any], lost: list[tuple[Field, Entity, dict[str, Any]]]) -> dict[str, Any]:
    """The item with its references to the lost items cleared."""
    after = dict(item)
    for f, _, target in lost:
        if f.kind is Kind.REF:
            after[f.name] = None
        else:
            after[f.name] = [k for k in after[f.name] or [] if k != target["key"]]
    return after
