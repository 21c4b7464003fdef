"""`master.scheduler_manager`: keeps c['schedulers'] running."""

from __future__ import annotations

from typing import Any

from buildbot.process.object_ids import ObjectIdAssigningMixin
from buildbot.process.measured_service import MeasuredBuildbotServiceManager


class SchedulerManager(ObjectIdAssigningMixin, MeasuredBuildbotServiceManager):
    """Schedulers as configured, keyed by name."""

    # 4.3's name for what it manages; it names the `schedulers.reconfig` timer metric
    managed_services_name = "schedulers"

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
