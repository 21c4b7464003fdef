"""`MeasuredBuildbotServiceManager`: a service manager whose reconfigurations are timed."""

from __future__ import annotations

import time
from typing import Any

from buildbot.process.metrics import MetricTimeEvent
from buildbot.util.service import BuildbotServiceManager


class MeasuredBuildbotServiceManager(BuildbotServiceManager):
    """Reports each reconfiguration's duration as `<managed_services_name>.reconfig`."""

    managed_services_name = "services"

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        started = time.monotonic()
        await super().reconfigServiceWithBuildbotConfig(new_config)
        MetricTimeEvent.log(f"{self.managed_services_name}.reconfig", time.monotonic() - started)
