"""`StatsStorageBase`: the interface of statistics storage backends."""

from __future__ import annotations

import abc
from typing import Any


class StatsStorageBase(abc.ABC):
    """A backend: `captures` (the Capture objects whose values it stores) and
    `thd_postStatsValue`, called in a thread for each captured value."""

    captures: list[Any]

    @abc.abstractmethod
    def thd_postStatsValue(self, post_data: dict[str, Any], series_name: str,
                           context: dict[str, Any] | None = None) -> None:
        """Store `post_data` (field -> value) in the series `series_name`, tagged with
        `context` (builder_name, build_number). Runs in a thread: it may block."""
