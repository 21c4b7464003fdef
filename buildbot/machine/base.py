"""`Machine`: a named host grouping the workers that run on it (`c['machines']`).

Workers name their machine with `machine_name=`; the worker then registers with the
machine when it is configured and builds get the `machine_name` property. Machines started
and stopped on demand are in `buildbot.machine.latent` and `buildbot.machine.generic`.
"""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IMachine
from buildbot.util.service import BuildbotService


@implementer(IMachine)
class Machine(BuildbotService):
    """A machine: `Machine(name)`; `workers` lists the configured workers naming it."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        # Positional name, as in the reference (BuildbotService takes `name=` itself).
        super().__init__(name, name=name, **kwargs)

    def checkConfig(self, name: str, **kwargs: Any) -> None:
        if not isinstance(name, str) or not name:
            config.error(f"machine name must be a non-empty string, not {name!r}")
        if kwargs:
            config.error(f"machine '{name}': unknown arguments {sorted(kwargs)}")
        self.workers: list[Any] = []

    def reconfigService(self, name: str, **kwargs: Any) -> None:
        assert name == self.name

    def registerWorker(self, worker: Any) -> None:
        """`worker` (whose machine_name is ours) runs on this machine."""
        if worker not in self.workers:
            self.workers.append(worker)

    def unregisterWorker(self, worker: Any) -> None:
        if worker in self.workers:
            self.workers.remove(worker)

    def __repr__(self) -> str:
        return f"<Machine '{self.name}' at {id(self)}>"
