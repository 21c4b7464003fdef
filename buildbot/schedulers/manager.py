"""`master.scheduler_manager`: keeps c['schedulers'] running."""

from __future__ import annotations

from typing import Any

from buildbot.util.service import BuildbotServiceManager


class SchedulerManager(BuildbotServiceManager):
    """Schedulers as configured, keyed by name."""

    config_attr = "schedulers"

    def __init__(self) -> None:
        super().__init__(name="SchedulerManager")

    @property
    def master(self) -> Any:
        return self.parent

    def force_schedulers(self) -> list[Any]:
        """The configured ForceSchedulers (the data layer's `forceschedulers` source)."""
        return [s for s in self.namedServices.values() if hasattr(s, "all_fields")
                and hasattr(s, "force")]
