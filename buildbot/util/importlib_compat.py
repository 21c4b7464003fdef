"""`entry_points_get(entry_points, group)`: one group of `importlib.metadata.entry_points()`."""

from __future__ import annotations

from typing import Any


def entry_points_get(entry_points: Any, group: str) -> Any:
    """The entry points of `group`, from an `EntryPoints` object or a dict by group."""
    if hasattr(entry_points, "select"):
        return entry_points.select(group=group)
    return entry_points.get(group, [])
