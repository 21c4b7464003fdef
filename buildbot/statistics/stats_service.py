"""`StatsService`: connects the captures of its storage backends to the master's events."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.statistics.capture import YIELDED_DATA
from buildbot.statistics.storage_backends.base import StatsStorageBase
from buildbot.util.service import BuildbotService

log = Logger()


class StatsService(BuildbotService):
    """`c['services'] = [StatsService(storage_backends=[...], name="StatsService")]`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consumers: list[Any] = []
        self.registeredStorageServices: list[Any] = []

    def checkConfig(self, storage_backends: list[Any]) -> None:
        for backend in storage_backends:
            if not isinstance(backend, StatsStorageBase):
                raise TypeError(f"Invalid type of stats storage service {type(backend)!r}. "
                                f"Should be of type StatsStorageBase, is: {type(backend)!r}")

    async def reconfigService(self, storage_backends: list[Any]) -> None:
        log.info("Reconfiguring StatsService with config: {backends!r}",
                 backends=storage_backends)
        self.checkConfig(storage_backends)
        self.registeredStorageServices = list(storage_backends)
        await self.removeConsumers()
        await self.registerConsumers()

    async def registerConsumers(self) -> None:
        """Start consuming the events of every capture of every backend."""
        self.consumers = []
        for backend in self.registeredStorageServices:
            for capture in backend.captures:
                if backend not in capture.parent_svcs:
                    capture.parent_svcs.append(backend)
                capture.master = self.master
                self.consumers.append(await self.master.mq.startConsuming(
                    self._consumer(capture), capture.routingKey))

    def _consumer(self, capture: Any) -> Any:
        def on_message(key: Any, msg: Any) -> None:
            # a failing capture (CaptureCallbackError) is logged under its name
            self.tasks.spawn(f"statistics capture {type(capture).__name__}",
                             capture.consume(key, msg))
        return on_message

    async def removeConsumers(self) -> None:
        consumers, self.consumers = self.consumers, []
        for consumer in consumers:
            consumer.stopConsuming()

    async def stop(self) -> None:
        await self.removeConsumers()
        await super().stop()  # waits for the captures still storing

    async def yieldMetricsValue(self, data_name: str, post_data: Any, buildid: int) -> None:
        """Post `post_data` (a dict) under `data_name` for the build `buildid`, for the
        CaptureData* captures of that name."""
        build = await self.master.data.get(("builds", buildid))
        self.master.mq.produce(YIELDED_DATA, {"data_name": data_name, "post_data": post_data,
                                              "build_data": build})
