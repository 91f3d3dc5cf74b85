"""Three-way merge of one item's fields, as plain functions.

An edit form carries the version it was based on.  When the item has moved on since, the
store rebuilds the item as it was at that version (`state_at`, from the recorded changes) and
compares three versions of each field:

* *base*: the value the person saw when they opened the form;
* *mine*: the value they sent;
* *theirs*: the value saved now.

A field only I changed takes my value; a field only they changed keeps theirs; a field we both
changed to different values is a conflict, and nothing is saved until the person chooses.
Values are compared as the JSON format writes them (`store.plain_value`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


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
