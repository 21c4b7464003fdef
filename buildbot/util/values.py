"""Container helpers of the `buildbot.util` namespace (the reference's semantics exactly)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from typing import Any


def makeList(input: Any) -> list[Any]:
    """A new list: `[]` for None, `[s]` for a string, `list(input)` for any other iterable."""
    if input is None:
        return []
    if isinstance(input, str):
        return [input]
    return list(input)


def flattened_iterator(l: Any, types: tuple[type, ...] = (list, tuple)) -> Iterator[Any]:
    """Yield the leaves of nested `types` containers, depth first."""
    if not isinstance(l, types):
        yield l
        return
    items: Any = l  # one of `types`, all iterable
    for item in items:
        yield from flattened_iterator(item, types)


def flatten(l: Any, types: tuple[type, ...] = (list,)) -> Any:
    """Nested `types` containers flattened into one list; any other value is returned as is.

    Only lists are flattened by default (tuples stay), as in Buildbot 4.3.
    """
    if not isinstance(l, types):
        return l
    return list(flattened_iterator(l, types))


def dictionary_merge(a: dict[Any, Any], b: dict[Any, Any]) -> dict[Any, Any]:
    """Merge `b` into `a` in place (nested dicts merged, other values of `b` win); returns `a`."""
    for key, value in b.items():
        mine = a.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            dictionary_merge(mine, value)
        else:
            a[key] = value
    return a


def diffSets(old: Iterable[Any], new: Iterable[Any]) -> tuple[set[Any], set[Any]]:
    """`(removed, added)` between two collections, as sets."""
    old_set, new_set = set(old), set(new)
    return old_set - new_set, new_set - old_set


def toJson(obj: Any) -> Any:
    """`json.dumps(default=toJson)` hook: datetimes become epoch seconds, other values None."""
    if isinstance(obj, datetime.datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=datetime.UTC)
        return int(obj.timestamp())
    return None
