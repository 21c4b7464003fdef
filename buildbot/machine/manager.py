"""`master.machine_manager`: the machines of `c['machines']`, by name."""

from __future__ import annotations

from typing import Any

from buildbot.process.measured_service import MeasuredBuildbotServiceManager


class MachineManager(MeasuredBuildbotServiceManager):
    """Keeps `c['machines']` configured; workers look their machine up here.

    Reconfigured before the workers (priority 128 > 127), so a worker always finds the
    machine it names.
    """

    # 4.3's name for what it manages; it names the `machines.reconfig` timer metric
    managed_services_name = "machines"

    config_attr = "machines"
    reconfig_priority = 128

    def __init__(self) -> None:
        super().__init__(name="MachineManager")

    @property
    def master(self) -> Any:
        return self.parent

    @property
    def machines(self) -> dict[str, Any]:
        return dict(self.namedServices)

    def getMachineByName(self, name: str) -> Any:
        """The machine called `name`, or None."""
        return self.namedServices.get(name)
