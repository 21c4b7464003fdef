"""`KeyedSets`: a dict of sets where empty sets disappear."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class KeyedSets:
    """`add(key, value)`, `discard(key, value)`, `pop(key)`; `ks[key]` is a set (maybe empty)."""

    def __init__(self) -> None:
        self.d: dict[Any, set[Any]] = {}

    def add(self, key: Any, value: Any) -> None:
        self.d.setdefault(key, set()).add(value)

    def discard(self, key: Any, value: Any) -> None:
        values = self.d.get(key)
        if values is not None:
            values.discard(value)
            if not values:
                del self.d[key]

    def __contains__(self, key: Any) -> bool:
        return key in self.d

    def __getitem__(self, key: Any) -> set[Any]:
        return self.d.get(key, set())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.d)

    def pop(self, key: Any) -> set[Any]:
        return self.d.pop(key, set())
