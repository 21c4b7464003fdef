"""`master.change_svc`: keeps c['change_source'] running."""

from __future__ import annotations

from typing import Any

from buildbot.process.object_ids import ObjectIdAssigningMixin
from buildbot.process.measured_service import MeasuredBuildbotServiceManager


class ChangeManager(ObjectIdAssigningMixin, MeasuredBuildbotServiceManager):
    """Change sources as configured, keyed by name."""

    # 4.3's name for what it manages; it names the `changesources.reconfig` timer metric
    managed_services_name = "changesources"

    config_attr = "change_sources"

    def __init__(self) -> None:
        super().__init__(name="ChangeManager")

    @property
    def master(self) -> Any:
        return self.parent

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        await super().reconfigServiceWithBuildbotConfig(new_config)
        # Sources that depend on global settings (PBChangeSource: the PB port) see them too.
        for svc in list(self):
            hook = getattr(svc, "reconfigServiceWithBuildbotConfig", None)
            if hook is not None:
                await hook(new_config)
