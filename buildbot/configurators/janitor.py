"""JanitorConfigurator: a nightly builder on the master that deletes old log chunks and old
build data (`logHorizon`, `build_data_horizon`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from buildbot.config.builder import BuilderConfig
from buildbot.configurators import ConfiguratorBase
from buildbot.process.buildstep import BuildStep
from buildbot.process.factory import BuildFactory
from buildbot.process.results import SUCCESS
from buildbot.schedulers.forcesched import ForceScheduler
from buildbot.schedulers.timed import Nightly
from buildbot.worker.local import LocalWorker

JANITOR_NAME = "__Janitor"


def _horizon_to_timestamp(now: float, horizon: Any) -> int:
    if isinstance(horizon, datetime.timedelta):
        return int(now - horizon.total_seconds())
    return int(now - float(horizon))


class LogChunksJanitor(BuildStep):
    """Deletes the stored lines of logs older than `logHorizon` (a timedelta)."""

    name = "LogChunksJanitor"
    renderables = ("logHorizon",)
    logHorizon: Any = None

    def __init__(self, logHorizon: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "logHorizon", logHorizon)

    async def run(self) -> int:
        older_than = _horizon_to_timestamp(self.master.reactor.seconds(), self.logHorizon)
        deleted = await self.master.data.updates.deleteOldLogChunks(older_than)
        object.__setattr__(self, "descriptionDone", [f"deleted {deleted} logchunks"])
        return SUCCESS


class BuildDataJanitor(BuildStep):
    """Deletes build data of builds older than `build_data_horizon` (a timedelta)."""

    name = "BuildDataJanitor"
    renderables = ("build_data_horizon",)
    build_data_horizon: Any = None

    def __init__(self, build_data_horizon: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "build_data_horizon", build_data_horizon)

    async def run(self) -> int:
        older_than = _horizon_to_timestamp(self.master.reactor.seconds(),
                                           self.build_data_horizon)
        deleted = await self.master.data.updates.deleteOldBuildData(older_than)
        object.__setattr__(self, "descriptionDone", [f"deleted {deleted} build data key-value pairs"])
        return SUCCESS


class JanitorConfigurator(ConfiguratorBase):
    """Adds the `__Janitor` LocalWorker, builder, Nightly scheduler (at `hour`, plus any
    other Nightly timing arguments) and force scheduler."""

    def __init__(self, logHorizon: Any = None, hour: Any = 0, build_data_horizon: Any = None,
                 **kwargs: Any) -> None:
        self.logHorizon = logHorizon
        self.build_data_horizon = build_data_horizon
        self.hour = hour
        self.kwargs = kwargs

    def configure(self, config_dict: dict[str, Any]) -> None:
        super().configure(config_dict)
        # One cleaning step per horizon given; with none, the janitor is not installed.
        makers: list[tuple[Any, Callable[[], Any]]] = [
            (self.logHorizon, lambda: LogChunksJanitor(logHorizon=self.logHorizon)),
            (self.build_data_horizon,
             lambda: BuildDataJanitor(build_data_horizon=self.build_data_horizon)),
        ]
        steps = [make() for horizon, make in makers if horizon is not None]
        if not steps:
            return
        config_dict["schedulers"].append(Nightly(
            name=JANITOR_NAME, builderNames=[JANITOR_NAME], hour=self.hour, **self.kwargs))
        config_dict["schedulers"].append(ForceScheduler(
            name=JANITOR_NAME + "_force", builderNames=[JANITOR_NAME]))
        config_dict["builders"].append(BuilderConfig(
            name=JANITOR_NAME, workername=JANITOR_NAME, factory=BuildFactory(steps=steps)))
        config_dict["workers"].append(LocalWorker(JANITOR_NAME))
