"""Merging an edit that was based on an older version of an item (or of the plan's fields)
with what others saved since.

An edit form carries the version it was based on.  When the item has moved on since,
`merge_edit` rebuilds the item as it was at that version (`state_at`, from the recorded
changes) and compares three versions of each field (`three_way`):

* *base*: the value the person saw when they opened the form;
* *mine*: the value they sent;
* *theirs*: the value saved now.

A field only I changed takes my value; a field only they changed keeps theirs; a field we both
changed to different values is a conflict, and nothing is saved until the person chooses.
Values are compared as the JSON format writes them (`codec.plain_value`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.domain import Entity, Field, Kind
from planner.plans.store.journal import later_changes
from planner.plans.store.results import Conflict, Edit, EditConflict, Saved


@dataclass(frozen=True)
class Merge:
    """The outcome of merging one edit."""

    apply: dict[str, Any]  # the fields to write: mine, where I changed them
    theirs: tuple[str, ...] = ()  # fields others changed and I did not: their values stay
    conflicts: tuple[str, ...] = ()  # fields both changed, to different values
    same: tuple[str, ...] = field(default=())  # fields both changed to the same value

    @property
    def clean(self) -> bool:
        return not self.conflicts


def three_way(
    base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any], names: Iterable[str]
) -> Merge:
    """Merge my edit of the fields `names` (those I sent) into what is saved now."""
    apply: dict[str, Any] = {}
    only_theirs, conflicts, same = [], [], []
    for name in names:
        b, m, t = base.get(name), mine.get(name), theirs.get(name)
        i_changed, they_changed = m != b, t != b
        if i_changed and they_changed:
            if m == t:
                same.append(name)
            else:
                conflicts.append(name)
        elif i_changed:
            apply[name] = m
        elif they_changed:
            only_theirs.append(name)
    return Merge(apply, tuple(only_theirs), tuple(conflicts), tuple(same))


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The fields one change altered (for a create or a delete: every field it holds)."""
    if before is None or after is None:
        return [n for n in (before or after or {}) if n != "key"]
    names = list(dict.fromkeys([*before, *after]))
    return [n for n in names if n != "key" and before.get(n) != after.get(n)]


def state_at(current: Mapping[str, Any], later: Iterable[tuple[Mapping | None, Mapping | None]]) -> dict[str, Any]:
    """An item as it was before the `later` changes, given as (before, after) pairs, oldest first.

    Each field takes the `before` of the earliest later change that altered it; a field no later
    change touched is as it is now.  A deletion's `before` holds every field, so an item deleted
    and brought back is rebuilt as it was before the deletion."""
    state = dict(current)
    seen: set[str] = set()
    for before, after in later:
        if before is None:  # a creation: nothing was there before it
            continue
        for name in changed_fields(before, after):
            if name not in seen and name in before:
                state[name] = before[name]
                seen.add(name)
    return state


def merge_edit(
    plan_id: int,
    entity: Entity | None,
    key: str | None,
    fields: list[Field],
    base_version: int | None,
    version: int,
    current: dict[str, Any],
    mine: dict[str, Any],
) -> tuple[dict[str, Any], Saved | None]:
    """What to write of an edit based on `base_version`, when the item is at `version` now.

    Returns the values to write and, when the edit was merged with others' changes, a `Saved`
    template saying whose. Raises `EditConflict` when the same field was changed on both sides."""
    if base_version is None or base_version >= version:
        return mine, None
    later = later_changes(plan_id, entity.name if entity else "plan", key, base_version)
    base = state_at(current, [(c.before, c.after) for c, _ in later])
    mine = in_saved_order(fields, mine, base)
    merge = three_way(base, mine, current, [f.name for f in fields])
    edits: dict[str, Edit] = {}
    for change, name in later:
        for field_name in changed_fields(change.before, change.after):
            edits[field_name] = Edit(name, change.at)
    if not merge.clean:
        raise EditConflict(Conflict(entity, key, tuple(fields), base, mine, dict(current), merge, version, edits))
    others = tuple(dict.fromkeys(name or "someone" for _, name in later))
    return merge.apply, Saved(None, kept_theirs=merge.theirs, others=others, merged=True)


def in_saved_order(fields: list[Field], mine: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Checkboxes send their choices in the form's order, not in the saved one: the same choices
    in another order are no change (else saving a form would rewrite the list, and meet someone
    else's edit of it as a conflict)."""
    out = dict(mine)
    for f in fields:
        checkboxes = f.kind in (Kind.REF_LIST, Kind.ENUM_LIST) and f.name in out
        if checkboxes and sorted(out[f.name] or []) == sorted(saved.get(f.name) or []):
            out[f.name] = saved.get(f.name)
    return out
