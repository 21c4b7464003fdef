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

    async def prepare_new_service(self, svc: Any) -> None:
        # The service's object row (name, "module.Class"), as the reference creates it:
        # a Dependent keeps its state there.
        if getattr(svc, "objectid", None) is None:
            cls = type(svc)
            svc.objectid = await self.master.data.updates.getObjectId(
                svc.name, f"{cls.__module__}.{cls.__name__}")

    def force_schedulers(self) -> list[Any]:
        """The configured ForceSchedulers (the data layer's `forceschedulers` source)."""
        from buildbot.schedulers.forcesched import ForceScheduler
        return [s for s in self.namedServices.values() if isinstance(s, ForceScheduler)]
