"""`AbstractLatentMachine`: a machine the master wakes when one of its latent workers is
needed and puts back to sleep when none has built for `build_wait_timeout` seconds.

Subclasses implement `start_machine()` (True once the machine is coming up) and
`stop_machine()`. The workers naming the machine (`machine_name=`) must be latent: a
worker's substantiation first substantiates the machine (`substantiate(worker)`), which
also substantiates the machine's other workers that connect by themselves once the host
is up (`starts_without_substantiate`, e.g. LocalLatentWorker). A machine that woke but
runs no build within `missing_timeout` seconds is stopped again.
"""

from __future__ import annotations

import enum
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot import interfaces
from buildbot.machine.base import Machine
from buildbot.util.deferred import ensure_deferred, maybe_await

log = Logger()


class States(enum.Enum):
    """Where the machine is (names as in 4.3)."""

    STOPPED = "asleep"
    STARTING = "waking"
    STARTED = "awake"
    STOPPING = "going to sleep"


class _Outcome:
    """Waiters for the end of one transition."""

    def __init__(self) -> None:
        self._waiting: list[defer.Deferred[Any]] = []

    def wait(self) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self._waiting.append(d)
        return d

    def fire(self, value: Any) -> None:
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(value)


@implementer(interfaces.ILatentMachine)
class AbstractLatentMachine(Machine):
    """`AbstractLatentMachine(name, build_wait_timeout=0, missing_timeout=1200)`."""

    DEFAULT_MISSING_TIMEOUT = 20 * 60
    # the IDelayedCalls armed while idle (build_wait_timeout) and while starting
    # (missing_timeout)
    _build_wait_timer: Any = None
    _missing_timer: Any = None

    def __init__(self, name: str, build_wait_timeout: float = 0,
                 missing_timeout: float = DEFAULT_MISSING_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(name, build_wait_timeout=build_wait_timeout,
                         missing_timeout=missing_timeout, **kwargs)

    def checkConfig(self, name: str, build_wait_timeout: float = 0,
                    missing_timeout: float = DEFAULT_MISSING_TIMEOUT, **kwargs: Any) -> None:
        super().checkConfig(name, **kwargs)
        self.latent_workers: list[Any] = []
        self._reset_lifecycle()

    async def reconfigService(self, name: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              build_wait_timeout: float = 0,
                              missing_timeout: float = DEFAULT_MISSING_TIMEOUT,
                              **kwargs: Any) -> None:
        # Only latent workers can be woken with the machine; refuse the rest first.
        stray = next((w for w in self.workers
                      if not interfaces.ILatentWorker.providedBy(w)), None)
        if stray is not None:
            raise RuntimeError(f"Worker is not latent {stray.name}")
        super().reconfigService(name, **kwargs)
        self.build_wait_timeout, self.missing_timeout = build_wait_timeout, missing_timeout
        self._reset_lifecycle()

    def _reset_lifecycle(self) -> None:
        """A (re)configured machine counts as stopped, with no start or stop under way and
        no timer armed (a timer of the previous configuration is cancelled, not dropped)."""
        for timer in ("_build_wait_timer", "_missing_timer"):
            self._cancel(timer)
        self.state = States.STOPPED
        self._started, self._stopped = _Outcome(), _Outcome()
        self._shutting_down = False

    @property
    def _clock(self) -> Any:
        return self.master.reactor

    # -- what subclasses implement ------------------------------------------------------
    def start_machine(self) -> Any:
        """Wake the machine: True (or a Deferred/coroutine of it) on success."""
        raise NotImplementedError

    def stop_machine(self) -> Any:
        """Put the machine to sleep."""
        raise NotImplementedError

    # -- called by the workers ------------------------------------------------------------
    def substantiate(self, starting_worker: Any) -> defer.Deferred[bool]:
        """Make sure the machine is up for `starting_worker`; fires True if it is."""
        return ensure_deferred(self._substantiate(starting_worker))

    async def _substantiate(self, starting_worker: Any) -> bool:
        if self.state == States.STOPPING:
            await self._stopped.wait()
        if self.state == States.STARTED:
            return True
        if self.state == States.STARTING:
            return bool(await self._started.wait())
        self.state = States.STARTING
        # Workers that connect by themselves once the host is up wait for their
        # connection from now on (the requesting worker's call is reentrant).
        for worker in self.workers:
            if worker.starts_without_substantiate:
                # its failure is reported to the builds waiting on that worker
                worker.substantiate(None, None).addErrback(lambda _: None)
        try:
            woke = bool(await maybe_await(self.start_machine()))
        except Exception:  # noqa: BLE001 - a failed start is reported as not woken
            log.failure("while starting latent machine {name}", name=self.name)
            woke = False
        if woke:
            self._set_missing_timer()
        else:
            await defer.DeferredList([w.insubstantiate() for w in self.workers],
                                     consumeErrors=True)
        self.state = States.STARTED if woke else States.STOPPED
        self._started.fire(woke)
        return woke

    def notifyBuildStarted(self) -> None:
        self._cancel("_missing_timer")

    def notifyBuildFinished(self) -> None:
        if any(w.building for w in self.workers):
            self._cancel("_build_wait_timer")
        else:
            self._cancel("_build_wait_timer")
            if not self._shutting_down:
                self._build_wait_timer = self._clock.callLater(self.build_wait_timeout,
                                                               self._idle)

    # -- stopping -----------------------------------------------------------------------
    def _idle(self) -> None:
        # whichever timer fired, the other may still be armed (a start that returned after
        # its build had begun arms the missing timer): cancel it, not just forget it
        self._cancel("_build_wait_timer")
        self._cancel("_missing_timer")
        self.tasks.spawn("stop of an idle machine", self._stop())

    async def _stop(self) -> None:
        if self.state == States.STARTING:
            # a build ran (and ended) before the start action returned
            await self._started.wait()
        if self.state == States.STOPPED or any(w.building for w in self.workers):
            return
        if self.state == States.STOPPING:
            await self._stopped.wait()
            return
        self.state = States.STOPPING
        await defer.DeferredList([w.insubstantiate() for w in self.workers],
                                 consumeErrors=True)
        try:
            await maybe_await(self.stop_machine())
        except Exception:  # noqa: BLE001 - the machine counts as stopped either way
            log.failure("while stopping latent machine {name}", name=self.name)
        self.state = States.STOPPED
        self._stopped.fire(None)

    def _set_missing_timer(self) -> None:
        self._cancel("_missing_timer")
        if self._shutting_down:  # a start that returns after stop() must not arm a timer
            return
        self._missing_timer = self._clock.callLater(self.missing_timeout, self._idle)

    def _cancel(self, attr: str) -> None:
        call = getattr(self, attr, None)
        setattr(self, attr, None)
        if call is not None and call.active():
            call.cancel()

    async def stop(self) -> None:
        self._shutting_down = True
        self._cancel("_missing_timer")
        self._cancel("_build_wait_timer")
        await self.tasks.wait()
        await super().stop()

    def __repr__(self) -> str:
        return f"<AbstractLatentMachine '{self.name}' at {id(self)}>"
