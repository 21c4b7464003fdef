"""Change source base classes: `ChangeSource` (clustered: active on one master) and
`ReconfigurablePollingChangeSource` (polls every `pollInterval` seconds while active)."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IChangeSource
from buildbot.process.clustered import ClusteredBuildbotService
from buildbot.util.deferred import maybe_await

log = Logger()


@implementer(IChangeSource)
class ChangeSource(ClusteredBuildbotService):
    """A service producing changes (through `master.data.updates.addChange`), owned by one
    master of a cluster (`changesource_masters`)."""

    def describe(self) -> str:
        return "ChangeSource"

    async def _getServiceId(self) -> int:
        return int(await self.master.data.updates.findChangeSourceId(self.name))

    async def _claimService(self) -> bool:
        return bool(await self.master.data.updates.trySetChangeSourceMaster(
            self.serviceid, self.master.masterid))

    async def _unclaimService(self) -> None:
        await self.master.data.updates.trySetChangeSourceMaster(self.serviceid, None)


class Poller:
    """Runs `fn` every `interval` seconds on `clock`, never twice at once.

    The schedule is anchored at `start()` (a run that overruns does not shift the next
    ones); `random_delay_min/max` add a random delay to each run. `__call__` asks for a run
    now (or, during one, right after it). `stop()` waits for a run in progress.
    """

    def __init__(self, fn: Any, clock: Any) -> None:
        self.fn = fn
        self.clock = clock
        self.running = False
        self.pending = False
        self._executing = False
        self._call: Any = None
        self._start_time = 0.0
        self._interval = 0.0
        self._delay_min = 0
        self._delay_max = 0
        self._idle: list[defer.Deferred[None]] = []

    def start(self, interval: float, now: bool = False, random_delay_min: int = 0,
              random_delay_max: int = 0) -> None:
        assert not self.running
        self._interval = interval
        self._delay_min, self._delay_max = random_delay_min, random_delay_max
        self._start_time = self.clock.seconds()
        self.running = True
        self._schedule(initial_now=now)

    def _wait_time(self, force_now: bool, initial_now: bool) -> float:
        if force_now:
            return 0
        extra = random.randint(self._delay_min, self._delay_max)
        if initial_now or self._interval == 0:
            return extra
        elapsed = self.clock.seconds() - self._start_time
        result: float = self._interval - (elapsed % self._interval) + extra
        return result

    def _schedule(self, force_now: bool = False, initial_now: bool = False) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = self.clock.callLater(self._wait_time(force_now, initial_now), self._run)

    def _run(self) -> defer.Deferred[None]:
        return defer.ensureDeferred(self._run_once())

    async def _run_once(self) -> None:
        self._call = None
        self._executing = True
        try:
            await maybe_await(self.fn())
        except Exception:  # noqa: BLE001 - the poll loop must survive a failed poll
            log.failure("while running the poller {fn}", fn=self.fn)
        finally:
            self._executing = False
        was_pending, self.pending = self.pending, False
        if self.running:
            self._schedule(force_now=was_pending)
        waiters, self._idle = self._idle, []
        for d in waiters:
            d.callback(None)

    def __call__(self) -> None:
        # a call while a poll runs is remembered: one more poll follows that one
        if self.running and self._executing:
            self.pending = True
        elif self.running:
            self._schedule(force_now=True)

    async def stop(self) -> None:
        self.running = False
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if self._executing:
            d: defer.Deferred[None] = defer.Deferred()
            self._idle.append(d)
            await d


class ReconfigurablePollingChangeSource(ChangeSource):
    """A change source whose `poll()` runs every `pollInterval` seconds while it is active
    (at once on activation with `pollAtLaunch`; plus a random delay in
    [pollRandomDelayMin, pollRandomDelayMax])."""

    pollInterval: float | None = None
    pollAtLaunch: bool | None = None
    pollRandomDelayMin: int | None = None
    pollRandomDelayMax: int | None = None

    def checkConfig(self, name: str | None = None, pollInterval: float = 60 * 10,
                    pollAtLaunch: bool = False, pollRandomDelayMin: int = 0,
                    pollRandomDelayMax: int = 0) -> None:
        if self.name is None and name is not None:  # (a `name=` keyword was taken already)
            self.name = name
        # (failed, what must hold, the value given): 4.3's texts, all of them reported
        checks = [
            (pollInterval < 0, "interval must be >= 0", pollInterval),
            (pollRandomDelayMin < 0, "min random delay must be >= 0", pollRandomDelayMin),
            (pollRandomDelayMax < 0, "max random delay must be >= 0", pollRandomDelayMax),
            (pollRandomDelayMin > pollRandomDelayMax,
             f"min random delay must be <= {pollRandomDelayMax}", pollRandomDelayMin),
            (pollRandomDelayMax >= pollInterval,
             f"max random delay must be < {pollInterval}", pollRandomDelayMax),
        ]
        for failed, rule, given in checks:
            if failed:
                config.error(f"{rule}: {given}")

    @property
    def doPoll(self) -> Poller:
        """The poller running `poll()` (created on first use, on the master's clock)."""
        poller: Poller | None = self.__dict__.get("_poller")
        if poller is None:
            poller = Poller(self._poll_logging_errors, self.master.reactor)
            self.__dict__["_poller"] = poller
        return poller

    async def reconfigService(self, name: str | None = None,
                              pollInterval: float = 60 * 10, pollAtLaunch: bool = False,
                              pollRandomDelayMin: int = 0, pollRandomDelayMax: int = 0
                              ) -> None:
        previous = self.pollInterval
        self.pollInterval = pollInterval
        self.pollAtLaunch = pollAtLaunch
        self.pollRandomDelayMin = pollRandomDelayMin
        self.pollRandomDelayMax = pollRandomDelayMax
        if previous != pollInterval and "_poller" in self.__dict__ and self.doPoll.running:
            await self.doPoll.stop()
            self._start_polling()

    def poll(self) -> Any:
        """Look for new changes (subclasses; may return a Deferred or be a coroutine)."""
        return None

    async def _poll_logging_errors(self) -> None:
        try:
            await maybe_await(self.poll())
        except Exception:  # noqa: BLE001 - the poll loop must survive a failed poll
            log.failure("{src}: while polling for changes", src=self)

    def force(self) -> None:
        """Poll now (the `poller` change hook calls this)."""
        self.doPoll()

    def _start_polling(self) -> None:
        assert self.pollInterval is not None
        self.doPoll.start(interval=self.pollInterval, now=bool(self.pollAtLaunch),
                          random_delay_min=self.pollRandomDelayMin or 0,
                          random_delay_max=self.pollRandomDelayMax or 0)

    async def activate(self) -> None:
        self._start_polling()

    async def deactivate(self) -> None:
        await self.doPoll.stop()


# The pre-4.x name; plugins subclass either.
PollingChangeSource = ReconfigurablePollingChangeSource
