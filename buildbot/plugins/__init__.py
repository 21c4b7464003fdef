"""`buildbot.plugins`: the namespaces master.cfg files import components from.

`from buildbot.plugins import *` binds exactly the nine names of `__all__`. Each except
`statistics` is a lazy namespace over the built-in registry and the `buildbot.<name>` entry
points of other distributions (see `buildbot.plugins.db`); `statistics` stands for the
`buildbot.statistics` module, imported on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from buildbot.plugins.db import PluginDBError, get_plugins

__all__ = ["changes", "reporters", "schedulers", "secrets", "statistics", "steps", "util",
           "webhooks", "worker"]


class _LazyModule:
    """Stands for a module until an attribute is used, then delegates to it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _module(self) -> ModuleType:
        try:
            return importlib.import_module(self._name)
        except ImportError as e:
            raise PluginDBError(f"Unable to load {self._name}: {e}") from e

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._module(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._module())

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


changes = get_plugins("changes")
reporters = get_plugins("reporters")
schedulers = get_plugins("schedulers")
secrets = get_plugins("secrets")
statistics: Any = _LazyModule("buildbot.statistics")
steps = get_plugins("steps")
util = get_plugins("util")
webhooks = get_plugins("webhooks")
worker = get_plugins("worker")
