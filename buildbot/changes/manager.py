"""`master.change_svc`: keeps c['change_source'] running."""

from __future__ import annotations

from typing import Any

from buildbot.util.service import BuildbotServiceManager


class ChangeManager(BuildbotServiceManager):
    """Change sources as configured, keyed by name."""

    config_attr = "change_sources"

    def __init__(self) -> None:
        super().__init__(name="ChangeManager")

    @property
    def master(self) -> Any:
        return self.parent
