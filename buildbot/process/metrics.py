"""`master.metrics`: counters, timers and alarms that the master logs periodically when
c['metrics'] is set (`log_interval`, default 60 s).

Code anywhere reports with the reference's API: `MetricCountEvent.log("name", 1)`,
`MetricTimeEvent.log("name", seconds)`, `MetricAlarmEvent.log("name", msg=..., level=...)`,
the `Timer`, `countMethod` and `timeMethod` helpers. Events go to every running
MetricLogObserver (usually the master's one).
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.service import AsyncService

log = Logger()


class MetricLogObserver(AsyncService):
    """Collects metric events and writes a summary to the log every `log_interval` s."""

    reconfig_priority = 128

    def __init__(self) -> None:
        super().__init__(name="metrics")
        self.counters: dict[str, float] = defaultdict(int)  # ints unless given floats
        self.timers: dict[str, list[float]] = defaultdict(list)
        self.alarms: dict[str, tuple[str, str]] = {}
        self.log_interval: int | None = None
        self._call: Any = None
        self.enabled = False
        # event class -> the handler recording it (4.3's registerHandler/getHandler)
        self.handlers: dict[type, MetricHandler] = {}
        self.registerHandler(MetricCountEvent, MetricCountHandler(self))
        self.registerHandler(MetricTimeEvent, MetricTimeHandler(self))
        self.registerHandler(MetricAlarmEvent, MetricAlarmHandler(self))

    def registerHandler(self, interface: type, handler: MetricHandler) -> MetricHandler | None:
        """Record events of class `interface` with `handler`; returns the previous one."""
        old = self.handlers.get(interface)
        self.handlers[interface] = handler
        return old

    def getHandler(self, interface: type) -> MetricHandler | None:
        return self.handlers.get(interface)

    def enable(self) -> None:
        """Receive the metric events logged from now on."""
        if not self.enabled:
            _observers.add(self)
            self.enabled = True

    def disable(self) -> None:
        """Stop receiving events and stop the periodic report."""
        _observers.discard(self)
        self._stop_timer()
        self.enabled = False

    def emit(self, eventDict: dict[str, Any]) -> None:
        """Record the metric of a log event dict (`{"metric": MetricEvent}`); other events
        and metrics without a handler are ignored; the handler's watchers run after."""
        metric = eventDict.get("metric")
        handler = self.handlers.get(type(metric)) if isinstance(metric, MetricEvent) else None
        if handler is None:
            return
        handler.handle(eventDict, metric)  # type: ignore[arg-type]  # checked just above
        for watcher in list(handler.watchers):
            watcher.run()

    def report(self) -> None:
        """Log every handler's report, line by line."""
        for handler in self.handlers.values():
            try:
                text = handler.report()
            except Exception:
                log.failure("metrics: report of {handler} failed", handler=handler)
                continue
            for line in text.splitlines():
                log.info("{line}", line=line)

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
        self.report()
        self._schedule()

    def _stop_timer(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    async def start(self) -> None:
        self.enable()
        await super().start()

    async def stop(self) -> None:
        self.disable()
        await super().stop()

    def handle_metric(self, event: MetricEvent) -> None:
        """Record one event (called for every event logged while we run)."""
        self.emit({"metric": event})


_observers: set[MetricLogObserver] = set()

ALARM_OK, ALARM_WARN, ALARM_CRIT = 0, 1, 2
ALARM_TEXT = ["OK", "WARN", "CRIT"]


class MetricEvent:
    """Base of the metric events; `Cls.log(*args)` builds one and reports it."""

    @classmethod
    def log(cls, *args: Any, **kwargs: Any) -> None:
        event = cls(*args, **kwargs)
        for observer in list(_observers):
            observer.handle_metric(event)


class MetricCountEvent(MetricEvent):
    """Add `count` to counter `counter` (or set it, with `absolute=True`)."""

    def __init__(self, counter: str, count: float = 1, absolute: bool = False) -> None:
        self.counter, self.count, self.absolute = counter, count, absolute


class MetricTimeEvent(MetricEvent):
    """One duration sample (seconds) for timer `timer`."""

    def __init__(self, timer: str, elapsed: float) -> None:
        self.timer, self.elapsed = timer, elapsed


class MetricAlarmEvent(MetricEvent):
    """Set alarm `alarm` to `level` (ALARM_OK/WARN/CRIT) with a message."""

    def __init__(self, alarm: str, msg: str | None = None, level: int = ALARM_OK) -> None:
        self.alarm, self.msg, self.level = alarm, msg, level


class FiniteList(list[Any]):
    """A list keeping only its last `maxlen` items."""

    def __init__(self, maxlen: int = 10) -> None:
        super().__init__()
        self._maxlen = maxlen

    def append(self, o: Any) -> None:
        super().append(o)
        if len(self) > self._maxlen:
            del self[0: len(self) - self._maxlen]


class AveragingFiniteList(FiniteList):
    """A FiniteList of numbers with their running `average`."""

    def __init__(self, maxlen: int = 10) -> None:
        super().__init__(maxlen)
        self.average: float = 0

    def append(self, o: Any) -> None:
        super().append(o)
        self._calc()

    def _calc(self) -> None:
        self.average = float(sum(self)) / len(self) if self else 0


class MetricHandler:
    """Reads one kind of metric from a MetricLogObserver (`get`, `keys`, `report`, `asDict`)."""

    kind = ""

    def __init__(self, metrics: MetricLogObserver) -> None:
        self.metrics = metrics
        self.watchers: list[Any] = []

    def addWatcher(self, watcher: Any) -> None:
        self.watchers.append(watcher)

    def removeWatcher(self, watcher: Any) -> None:
        self.watchers.remove(watcher)

    def _values(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        self._values().clear()

    def handle(self, eventDict: dict[str, Any], metric: MetricEvent) -> None:
        """Record `metric` (each kind of handler knows its event class)."""

    def get(self, metric: str) -> Any:
        return self._values().get(metric)

    def keys(self) -> list[str]:
        return list(self._values())

    def report(self) -> str:
        return "\n".join(f"{k}: {self.get(k)}" for k in sorted(self.keys()))

    def asDict(self) -> dict[str, Any]:
        return {k: self.get(k) for k in self.keys()}


class MetricCountHandler(MetricHandler):
    def _values(self) -> dict[str, Any]:
        return self.metrics.counters

    def handle(self, eventDict: dict[str, Any], metric: MetricEvent) -> None:
        assert isinstance(metric, MetricCountEvent)
        self.metrics.countEvent(metric.counter, metric.count, metric.absolute)

    def get(self, counter: str) -> Any:
        return self.metrics.counters.get(counter)


class MetricTimeHandler(MetricHandler):
    def _values(self) -> dict[str, Any]:
        return self.metrics.timers

    def handle(self, eventDict: dict[str, Any], metric: MetricEvent) -> None:
        assert isinstance(metric, MetricTimeEvent)
        self.metrics.timeEvent(metric.timer, metric.elapsed)

    def get(self, timer: str) -> Any:
        samples = self.metrics.timers.get(timer)
        return sum(samples) / len(samples) if samples else None


class MetricAlarmHandler(MetricHandler):
    def _values(self) -> dict[str, Any]:
        return self.metrics.alarms

    def handle(self, eventDict: dict[str, Any], metric: MetricEvent) -> None:
        assert isinstance(metric, MetricAlarmEvent)
        self.metrics.setAlarm(metric.alarm, ALARM_TEXT[metric.level], metric.msg or "")


class AttachedWorkersWatcher:
    """Raises the `attached_workers` alarm when the worker count and the master's
    connected workers disagree (the reference's consistency check)."""

    def __init__(self, metrics: MetricLogObserver) -> None:
        self.metrics = metrics

    def run(self) -> None:
        counted = self.metrics.counters.get("AbstractWorker.attached_workers", 0)
        master = self.metrics.master
        workers = getattr(getattr(master, "workers", None), "connections", None)
        actual = len(workers) if workers is not None else counted
        if counted != actual:
            MetricAlarmEvent.log("attached_workers",
                                 msg=f"{counted} {actual} attached workers", level=ALARM_WARN)
        else:
            MetricAlarmEvent.log("attached_workers", msg=f"{counted}", level=ALARM_OK)


class Timer:
    """Times something: `start()` then `stop()` reports a MetricTimeEvent under `name`."""

    _reactor: Any = None

    def __init__(self, name: str) -> None:
        self.name = name
        self.started: float | None = None

    def _now(self) -> float:
        if self._reactor is None:
            from twisted.internet import reactor
            clock: Any = reactor
            return float(clock.seconds())
        return float(self._reactor.seconds())

    def startTimer(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: start the timer before each call of `func`."""
        @functools.wraps(func)
        def wrap(*args: Any, **kwargs: Any) -> Any:
            self.start()
            return func(*args, **kwargs)
        return wrap

    def stopTimer(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: stop the timer after each call of `func` (even if it raises)."""
        @functools.wraps(func)
        def wrap(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            finally:
                self.stop()
        return wrap

    def start(self) -> None:
        self.started = self._now()

    def stop(self) -> None:
        if self.started is not None:
            MetricTimeEvent.log(self.name, self._now() - self.started)
            self.started = None


def countMethod(counter: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: count each call under `counter`."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrap(*args: Any, **kwargs: Any) -> Any:
            MetricCountEvent.log(counter, 1)
            return func(*args, **kwargs)
        return wrap
    return decorate


def timeMethod(name: str, _reactor: Any = None) -> Callable[[Callable[..., Any]],
                                                            Callable[..., Any]]:
    """Decorator: time each call (until its Deferred fires, if it returns one)."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrap(*args: Any, **kwargs: Any) -> Any:
            timer = Timer(name)
            timer._reactor = _reactor
            timer.start()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                timer.stop()
                raise
            if isinstance(result, defer.Deferred):
                def done(r: Any) -> Any:
                    timer.stop()
                    return r
                return result.addBoth(done)
            timer.stop()
            return result
        return wrap
    return decorate


def periodicCheck(_reactor: Any = None) -> None:
    """Report how late the reactor runs a zero-delay call (`reactorDelay`, a timer)."""
    if _reactor is None:
        from twisted.internet import reactor as _reactor
    asked = _reactor.seconds()
    _reactor.callLater(0, lambda: MetricTimeEvent.log("reactorDelay", _reactor.seconds() - asked))
