"""`master.scheduler_manager`: keeps c['schedulers'] running."""

from __future__ import annotations

from typing import Any

from buildbot.process.object_ids import ObjectIdAssigningMixin
from buildbot.util.service import BuildbotServiceManager


class SchedulerManager(ObjectIdAssigningMixin, BuildbotServiceManager):
    """Schedulers as configured, keyed by name."""

    config_attr = "schedulers"

    def __init__(self) -> None:
        super().__init__(name="SchedulerManager")

    @property
    def master(self) -> Any:
        return self.parent

    def force_schedulers(self) -> list[Any]:
        """The configured ForceSchedulers (the data layer's `forceschedulers` source)."""
        from buildbot.schedulers.forcesched import ForceScheduler
        return [s for s in self.namedServices.values() if isinstance(s, ForceScheduler)]
