"""`master.metrics`: counters, timers and alarms that the master logs periodically when
c['metrics'] is set (`log_interval`, default 60 s)."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from twisted.logger import Logger

from buildbot.util.service import AsyncService

log = Logger()


class MetricLogObserver(AsyncService):
    """Collects metric events and writes a summary to the log every `log_interval` s."""

    reconfig_priority = 128

    def __init__(self) -> None:
        super().__init__(name="metrics")
        self.counters: dict[str, float] = defaultdict(float)
        self.timers: dict[str, list[float]] = defaultdict(list)
        self.alarms: dict[str, tuple[str, str]] = {}
        self.log_interval: int | None = None
        self._call: Any = None

    @property
    def master(self) -> Any:
        return self.parent

    def countEvent(self, name: str, count: float = 1, absolute: bool = False) -> None:
        if absolute:
            self.counters[name] = count
        else:
            self.counters[name] += count

    def timeEvent(self, name: str, seconds: float) -> None:
        samples = self.timers[name]
        samples.append(seconds)
        if len(samples) > 100:
            del samples[0]

    def setAlarm(self, name: str, level: str, msg: str) -> None:
        self.alarms[name] = (level, msg)

    def asDict(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "timers": {k: sum(v) / len(v) for k, v in self.timers.items() if v},
            "alarms": dict(self.alarms),
            "time": time.time(),
        }

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        metrics = getattr(new_config, "metrics", None)
        interval = (metrics or {}).get("log_interval", 60) if metrics else None
        if interval == self.log_interval:
            return
        self._stop_timer()
        self.log_interval = interval
        if interval and self.running:
            self._schedule()

    def _schedule(self) -> None:
        self._call = self.master.reactor.callLater(self.log_interval, self._report)

    def _report(self) -> None:
        log.info("metrics: {metrics}", metrics=self.asDict())
        self._schedule()

    def _stop_timer(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    async def stop(self) -> None:
        self._stop_timer()
        await super().stop()
