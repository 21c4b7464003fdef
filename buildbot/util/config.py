"""`ConfiguredMixin`: what the web UI shows of a configured object (its name)."""

from __future__ import annotations

from typing import Any


class ConfiguredMixin:
    """Adds `getConfigDict()` → `{"name": self.name}`."""

    name: Any

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name}
