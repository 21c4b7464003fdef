"""`Application`: the object a web UI plugin package exposes as its `buildbot.www` entry point.

Stock plugin packages do `ep = Application(__package__, "Buildbot UI (React)")` (and may
replace `ep.resource` with their own web resource, as `buildbot_badges` does).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from twisted.web import static


class Application:
    """A web plugin: its static files, its web resource, and the configuration it was given."""

    def __init__(self, package_name: str, description: str, ui: bool = True) -> None:
        self.modulename = self.package_name = package_name
        self.description = description
        self.ui = ui
        module = importlib.import_module(package_name)
        base = os.path.dirname(os.path.abspath(module.__file__ or ""))
        self.version: str | None = None
        version_file = os.path.join(base, "VERSION")
        if os.path.exists(version_file):
            with open(version_file, encoding="utf-8") as f:
                self.version = f.read().strip()
        self.static_dir = os.path.join(base, "static")
        self.resource: Any = static.File(self.static_dir)
        self.master: Any = None
        self.config: Any = None

    def setMaster(self, master: Any) -> None:
        self.master = master

    def setConfiguration(self, config: Any) -> None:
        self.config = config

    def __repr__(self) -> str:
        return (f"Application(version={self.version}, description={self.description}, "
                f"static_dir={self.static_dir})")
