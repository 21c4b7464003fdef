"""Latent workers: workers whose instance (VM, container, process) the master starts when a
build needs it and stops when it has been idle for `build_wait_timeout` seconds.

Subclasses implement `start_instance(build)` (True once the instance was asked to start; it
then connects like any worker), `stop_instance(fast)` and optionally `check_instance()`
(`(ok, message)`: is the instance still starting, or did it die before connecting?). Each of
them may return a value, a Deferred or a coroutine.

States (`AbstractLatentWorker.state`), the reference's names and meaning:

- NOT_SUBSTANTIATED: no instance.
- SUBSTANTIATING: a build asked for an instance; `start_instance` not called yet.
- SUBSTANTIATING_STARTING: `start_instance` called; waiting for the worker to connect.
- SUBSTANTIATED: connected (or, with a negative `build_wait_timeout`, may connect any time).
- INSUBSTANTIATING: `stop_instance` running.
- INSUBSTANTIATING_SUBSTANTIATING: as INSUBSTANTIATING, and a build asked for a new
  instance meanwhile: substantiation starts once the stop is done.
- SHUT_DOWN: the service stopped; substantiation requests are answered False.

Every substantiation failure (start error, `start_instance` saying False, `check_instance`
reporting a dead instance, the missing timer firing before the worker connected) fails the
waiting builds, stops the instance, is counted (`substantiation_failures`, consecutive;
`total_substantiation_failures`) and, if `notify_on_missing` is set, announced as a
`workers/<id>/missing` event.
"""

from __future__ import annotations

import enum
import inspect
import random
import string
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from buildbot.interfaces import (
    ILatentMachine,
    ILatentWorker,
    LatentWorkerFailedToSubstantiate,
    LatentWorkerSubstantiatiationCancelled,
)
from buildbot.util.deferred import maybe_await
from buildbot.util.latent import CompatibleLatentWorkerMixin
from buildbot.worker.base import AbstractWorker

log = Logger()


class States(enum.Enum):
    """Where a latent worker's instance is; the names are the reference's (users' code and
    tests compare `worker.state` with them), the values say what each one means."""

    NOT_SUBSTANTIATED = "no instance"
    SUBSTANTIATING = "instance requested"
    SUBSTANTIATING_STARTING = "instance starting, worker not connected yet"
    SUBSTANTIATED = "worker connected"
    INSUBSTANTIATING = "instance stopping"
    INSUBSTANTIATING_SUBSTANTIATING = "instance stopping, a new one requested"
    SHUT_DOWN = "service stopped"



_STARTING = (States.SUBSTANTIATING, States.SUBSTANTIATING_STARTING)
_STOPPING = (States.INSUBSTANTIATING, States.INSUBSTANTIATING_SUBSTANTIATING)


class _Waiters:
    """Deferreds waiting for one outcome (True or a Failure); `notify` fires them all."""

    def __init__(self) -> None:
        self._waiting: list[defer.Deferred[bool]] = []

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def wait(self) -> defer.Deferred[bool]:
        d: defer.Deferred[bool] = defer.Deferred()
        self._waiting.append(d)
        return d

    def notify(self, result: bool | Failure) -> None:
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            if isinstance(result, Failure):
                d.errback(result)
            else:
                d.callback(result)


def settings_as_keywords(settings: Callable[..., Any], name: str, password: Any,
                         *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The constructor arguments bound to `settings`' signature (name, password, then the
    worker type's own settings, then **options), all as keywords.

    For the worker types that 4.3 configures in their constructor (EC2, libvirt): their
    checkConfig/reconfigService keep the latent worker's signature, so the type's settings
    must reach them by keyword. A call 4.3 would refuse raises the same TypeError here.
    """
    bound = inspect.signature(settings).bind(name, password, *args, **kwargs)
    keywords = dict(bound.arguments)
    for param in inspect.signature(settings).parameters.values():
        if param.kind is param.VAR_KEYWORD:
            keywords.update(keywords.pop(param.name, {}))
    keywords.pop("name")
    keywords.pop("password")
    return keywords


@implementer(ILatentWorker)
class AbstractLatentWorker(AbstractWorker):
    """Base of latent workers (the reference's `AbstractLatentWorker`)."""

    start_missing_on_startup = False
    # True for workers that may connect without being asked (latent machines).
    starts_without_substantiate = False
    state = States.NOT_SUBSTANTIATED
    substantiation_build: Any = None
    build_wait_timer: Any = None

    def checkConfig(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    build_wait_timeout: float = 600, check_instance_interval: float = 10,
                    **kwargs: Any) -> None:
        super().checkConfig(name, password, **kwargs)
        from buildbot import config

        if not isinstance(build_wait_timeout, (int, float)) or \
                isinstance(build_wait_timeout, bool):
            config.error(f"worker '{name}': build_wait_timeout must be a number of seconds")
        if not isinstance(check_instance_interval, (int, float)) or \
                check_instance_interval <= 0:
            config.error(f"worker '{name}': check_instance_interval must be a positive "
                         "number of seconds")
        self.build_wait_timeout = build_wait_timeout
        self.check_instance_interval = check_instance_interval
        self._substantiation_waiters = _Waiters()
        self._start_stop_lock = defer.DeferredLock()
        self.build_wait_timer: Any = None
        self._check_instance_timer: Any = None
        self.substantiation_failures = 0
        self.total_substantiation_failures = 0

    async def reconfigService(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              build_wait_timeout: float = 600,
                              check_instance_interval: float = 10, **kwargs: Any) -> None:
        self.build_wait_timeout = build_wait_timeout
        self.check_instance_interval = check_instance_interval
        await super().reconfigService(name, password, **kwargs)

    # -- what subclasses implement ------------------------------------------------------
    def start_instance(self, build: Any) -> Any:
        """Start an instance that will connect to this master; True (or a Deferred /
        coroutine of it) once started, False to refuse; raise on errors."""
        raise NotImplementedError

    def stop_instance(self, fast: bool = False) -> Any:
        """Stop the instance (`fast`: no need to wait for a clean shutdown)."""
        raise NotImplementedError

    def check_instance(self) -> Any:
        """`(ok, message)`: False once the instance died before connecting."""
        return (True, "")

    def getRandomPass(self) -> str:
        """A password for a new instance (the current one while an instance exists, so a
        reconfig does not lock a starting instance out)."""
        if self.state not in (States.NOT_SUBSTANTIATED, States.SHUT_DOWN) and \
                self.password is not None:
            return str(self.password)
        return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(20))

    def failed_to_start(self, instance_id: Any, instance_state: Any) -> None:
        """For subclasses: give up on an instance that did not come up."""
        log.info("{cls} {name} failed to start instance {id} ({state})",
                 cls=type(self).__name__, name=self.name, id=instance_id, state=instance_state)
        raise LatentWorkerFailedToSubstantiate(instance_id, instance_state)

    # -- state --------------------------------------------------------------------------
    @property
    def substantiated(self) -> bool:
        return self.state == States.SUBSTANTIATED and self.conn is not None

    @property
    def building(self) -> set[Any]:
        """Links running (or preparing) a build here."""
        return set(self.busy_links())

    async def apply_builders(self) -> None:
        # Our links exist without a connection: one per builder listing us.
        for b in self.botmaster.getBuildersForWorker(self.name):
            if b.name not in self.workerforbuilders:
                b.addLatentWorker(self)
        await super().apply_builders()

    def _detach_builders(self) -> None:
        """A lost connection keeps the links: the next build substantiates us again."""

    def canStartBuild(self) -> bool:
        # Disconnected while builds are still being cleaned up.
        if self.conn is None and self.busy_links():
            return False
        return super().canStartBuild()

    # -- substantiation -----------------------------------------------------------------
    def substantiate(self, wfb: Any, build: Any) -> defer.Deferred[bool]:
        """Get an instance running and connected for `build`; fires True when connected,
        False if shut down, or fails (the failure of the substantiation)."""
        log.info("substantiating worker {wfb}", wfb=wfb)
        if self.state == States.SHUT_DOWN:
            return defer.succeed(False)
        if self.state == States.SUBSTANTIATED and self.conn is not None:
            return defer.succeed(True)
        if self.state in (*_STARTING, States.INSUBSTANTIATING_SUBSTANTIATING):
            return self._substantiation_waiters.wait()
        self.startMissingTimer()
        d = self._substantiation_waiters.wait()
        if self.state == States.SUBSTANTIATED:
            # The connection went away while we were substantiated: stop the old instance
            # and start a new one.
            self.tasks.spawn("restart of a disconnected instance",
                             self._insubstantiate(force_substantiation_build=build))
            return d
        if self.state == States.NOT_SUBSTANTIATED:
            self.state = States.SUBSTANTIATING
            self.tasks.spawn("substantiation", self._substantiate(build))
        else:  # INSUBSTANTIATING
            self.state = States.INSUBSTANTIATING_SUBSTANTIATING
            self.substantiation_build = build
        return d

    def startMissingTimer(self) -> None:
        self.stopMissingTimer()
        if self.missing_timeout and self.running:
            self.missing_timer = self.clock.callLater(self.missing_timeout,
                                                      self._missing_timer_fired)

    async def _substantiate(self, build: Any) -> None:
        assert self.state == States.SUBSTANTIATING
        try:
            # With a negative build_wait_timeout the instance is never stopped, so a worker
            # still connected counts as substantiated once start_instance agreed.
            already_attached = self.build_wait_timeout < 0 and self.conn is not None
            started = True
            if ILatentMachine.providedBy(self.machine):
                # The host first: a failed wake fails this substantiation.
                started = bool(await maybe_await(self.machine.substantiate(self)))
                if self.state != States.SUBSTANTIATING:
                    # connected meanwhile (a worker that starts with its host), or
                    # insubstantiated (the waiters were told)
                    return
            await self._start_stop_lock.acquire()
            try:
                if started:
                    self.state = States.SUBSTANTIATING_STARTING
                    started = bool(await maybe_await(self.start_instance(build)))
            finally:
                self._start_stop_lock.release()
            if not started:
                raise LatentWorkerFailedToSubstantiate(
                    self.name, "Worker does not want to substantiate at this time")
            if already_attached and self.state == States.SUBSTANTIATING_STARTING and \
                    self.conn is not None:
                log.info("Worker {name} substantiated (already attached)", name=self.name)
                self._substantiated()
            elif self.state == States.SUBSTANTIATING_STARTING:
                self._start_check_instance_timer()
        except Exception:  # noqa: BLE001 - reported (and logged) as a failed substantiation
            self.stopMissingTimer()
            await self._substantiation_failed(Failure())

    def _substantiated(self) -> None:
        self.state = States.SUBSTANTIATED
        self.substantiation_failures = 0
        self._notify_waiters(True)

    def _notify_waiters(self, result: bool | Failure) -> None:
        if not self._substantiation_waiters:
            return
        log.info("Firing {name} substantiation deferred with {r}", name=self.name,
                 r="success" if result is True else "failure")
        self._substantiation_waiters.notify(result)

    def connection_refusal(self) -> str | None:
        # Only an instance we started may attach (unless we never stop instances).
        if self.state != States.SUBSTANTIATING_STARTING and self.build_wait_timeout >= 0:
            return (f"Worker {self.name} received connection while not trying to "
                    "substantiate. Disconnecting.")
        return None

    async def attached(self, conn: Any) -> None:
        self._stop_check_instance_timer()
        refusal = self.connection_refusal()
        if refusal is not None:
            log.info("{msg}", msg=refusal)
            conn.loseConnection()
            raise RuntimeError(refusal)
        try:
            await super().attached(conn)
        except Exception:
            await self._substantiation_failed(Failure())
            raise
        log.info("Worker {name} substantiated", name=self.name)
        if self.state in _STARTING:
            self._substantiated()
        else:
            # build_wait_timeout < 0: an instance we never stop reconnected by itself.
            self._notify_waiters(True)

    def _missing_timer_fired(self) -> None:
        self.missing_timer = None
        self.tasks.spawn("substantiation timeout", self._substantiation_failed(
            Failure(defer.TimeoutError(f"worker {self.name} did not connect within "
                                       f"{self.missing_timeout} s"))))

    async def _substantiation_failed(self, failure: Failure) -> None:
        self.substantiation_failures += 1
        self.total_substantiation_failures += 1
        log.warn("latent worker {name} failed to substantiate ({n} in a row): {why}",
                 name=self.name, n=self.substantiation_failures,
                 why=failure.getErrorMessage())
        if self.state in _STARTING:
            self._notify_waiters(failure)
        self.tasks.spawn("insubstantiation after a failure", self._insubstantiate())
        if self.parent is None or not self.notify_on_missing:
            return
        await self.master.data.updates.workerMissing(
            workerid=self.workerid, masterid=self.master.masterid,
            last_connection="Latent worker never connected",
            notify=list(self.notify_on_missing))

    # -- check_instance -----------------------------------------------------------------
    def _start_check_instance_timer(self) -> None:
        self._stop_check_instance_timer()
        self._check_instance_timer = self.clock.callLater(self.check_instance_interval,
                                                          self._check_instance_fired)

    def _stop_check_instance_timer(self) -> None:
        call, self._check_instance_timer = self._check_instance_timer, None
        if call is not None and call.active():
            call.cancel()

    def _check_instance_fired(self) -> None:
        self._check_instance_timer = None
        self.tasks.spawn("instance check", self._check_instance_once())

    async def _check_instance_once(self) -> None:
        # Only meaningful between start_instance and the worker's connection.
        if self.state != States.SUBSTANTIATING_STARTING or self._start_stop_lock.locked:
            return
        await self._start_stop_lock.acquire()
        try:
            message = "latent worker crashed before connecting"
            try:
                good, detail = await maybe_await(self.check_instance())
                message += f": {detail}"
            # A failing check counts as a crash; the message carries the error into the
            # build's failure.
            except Exception as e:  # noqa: BLE001
                good = False
                message += f": {e}"
        finally:
            self._start_stop_lock.release()
        if self.state != States.SUBSTANTIATING_STARTING:
            return
        if not good:
            await self._substantiation_failed(
                Failure(LatentWorkerFailedToSubstantiate(self.name, message)))
            return
        self._start_check_instance_timer()

    # -- insubstantiation ---------------------------------------------------------------
    def insubstantiate(self, fast: bool = False,
                       force_substantiation_build: Any = None) -> defer.Deferred[None]:
        """Stop the instance (cancelling a substantiation in progress); plugin-facing."""
        return defer.Deferred.fromCoroutine(
            self._insubstantiate(fast, force_substantiation_build))

    async def _insubstantiate(self, fast: bool = False,
                              force_substantiation_build: Any = None) -> None:
        log.info("insubstantiating worker {w}", w=self)
        if self.state == States.INSUBSTANTIATING_SUBSTANTIATING:
            # Another insubstantiation runs: cancel the substantiation queued behind it.
            self.state = States.INSUBSTANTIATING
            self.substantiation_build = None
            self._notify_waiters(Failure(LatentWorkerSubstantiatiationCancelled()))
        await self._start_stop_lock.acquire()
        try:
            if self.state in (States.NOT_SUBSTANTIATED, States.SHUT_DOWN):
                return
            previous = self.state
            if force_substantiation_build is not None:
                self.state = States.INSUBSTANTIATING_SUBSTANTIATING
                self.substantiation_build = force_substantiation_build
            else:
                self.state = States.INSUBSTANTIATING
            if previous in _STARTING:
                self._notify_waiters(Failure(LatentWorkerSubstantiatiationCancelled()))
            self._clear_build_wait_timer()
            self._stop_check_instance_timer()
            if previous in (States.SUBSTANTIATING_STARTING, States.SUBSTANTIATED):
                try:
                    await maybe_await(self.stop_instance(fast))
                except Exception:
                    # A left-over instance costs resources, but nothing more can be done
                    # here: the backend must make stop_instance reliable.
                    log.failure("while stopping the instance of latent worker {name}",
                                name=self.name)
            if self.state == States.INSUBSTANTIATING_SUBSTANTIATING:
                build, self.substantiation_build = self.substantiation_build, None
                self.state = States.SUBSTANTIATING
                self.tasks.spawn("substantiation", self._substantiate(build))
            else:
                self.state = States.NOT_SUBSTANTIATED
        finally:
            self._start_stop_lock.release()
        if self.botmaster is not None:
            self.botmaster.maybeStartBuildsForWorker(self.name)

    async def _soft_disconnect(self, fast: bool = False, stopping_service: bool = False
                               ) -> None:
        """Drop the connection and stop the instance (just drop it if we never stop
        instances, unless the service stops)."""
        if not stopping_service and self.build_wait_timeout < 0:
            await self.disconnect()
            return
        self.stopMissingTimer()
        results = await defer.DeferredList(
            [defer.Deferred.fromCoroutine(self.disconnect()),
             defer.Deferred.fromCoroutine(self._insubstantiate(fast))],
            consumeErrors=True)
        for ok, result in results:
            if not ok:
                log.failure("while disconnecting latent worker {name}", failure=result,
                            name=self.name)

    # -- builds ------------------------------------------------------------------------
    def buildStarted(self, wfb: Any) -> None:
        self._clear_build_wait_timer()
        if ILatentMachine.providedBy(self.machine):
            self.machine.notifyBuildStarted()

    def buildFinished(self, wfb: Any) -> None:
        if not self.busy_links():
            self._set_build_wait_timer()
        super().buildFinished(wfb)
        if ILatentMachine.providedBy(self.machine):
            self.machine.notifyBuildFinished()

    def _clear_build_wait_timer(self) -> None:
        call, self.build_wait_timer = self.build_wait_timer, None
        if call is not None and call.active():
            call.cancel()

    def _set_build_wait_timer(self) -> None:
        self._clear_build_wait_timer()
        if self.build_wait_timeout < 0 or not self.running:
            return
        # 0 means right after the build, but on a later turn: the same timer lets a build
        # started meanwhile cancel it.
        self.build_wait_timer = self.clock.callLater(self.build_wait_timeout,
                                                     self._build_wait_timer_fired)

    def _build_wait_timer_fired(self) -> None:
        self.build_wait_timer = None
        if self.busy_links():
            return
        self.tasks.spawn("idle shutdown", self._soft_disconnect())

    # -- service ------------------------------------------------------------------------
    async def stop(self) -> None:
        # Wait for transitions in flight, then stop any instance before the base class
        # drops the links and the connection.
        while self.state not in (States.NOT_SUBSTANTIATED, States.SHUT_DOWN):
            if self.state in (*_STARTING, *_STOPPING):
                await self._start_stop_lock.acquire()
                self._start_stop_lock.release()
            if self.conn is not None or self.state in (States.SUBSTANTIATED,
                                                       States.SUBSTANTIATING_STARTING):
                await self._soft_disconnect(stopping_service=True)
            await self.tasks.wait()
        self.state = States.SHUT_DOWN
        self._clear_build_wait_timer()
        self._stop_check_instance_timer()
        for name in list(self.workerforbuilders):
            self.detach_builder(name)
        await super().stop()


class TypeSettingsLatentWorker(AbstractLatentWorker):
    """Base of the worker types that 4.3 configures in their constructor (EC2, libvirt).

    Their checkConfig/reconfigService keep the latent worker's signature, as in 4.3; the
    type's own settings travel as keywords (see settings_as_keywords) to `_check_type` and
    `_configure_type`, which a subclass writes with its full signature and which reach the
    latent worker's checks and configuration through `_check_common`/`_configure_common`.
    """

    def __init__(self, name: str, password: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, password, **settings_as_keywords(
            self._check_type, name, password, *args, **kwargs))

    def checkConfig(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    build_wait_timeout: float = 600, check_instance_interval: float = 10,
                    **kwargs: Any) -> None:
        self._check_type(name, password, build_wait_timeout=build_wait_timeout,
                         check_instance_interval=check_instance_interval, **kwargs)

    async def reconfigService(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              build_wait_timeout: float = 600,
                              check_instance_interval: float = 10, **kwargs: Any) -> None:
        await self._configure_type(name, password, build_wait_timeout=build_wait_timeout,
                                   check_instance_interval=check_instance_interval, **kwargs)

    def _check_type(self, name: str, password: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def _configure_type(self, name: str, password: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def _check_common(self, name: str, password: Any, **kwargs: Any) -> None:
        AbstractLatentWorker.checkConfig(self, name, password, **kwargs)

    async def _configure_common(self, name: str, password: Any, **kwargs: Any) -> None:
        await AbstractLatentWorker.reconfigService(self, name, password, **kwargs)


class LocalLatentWorker(AbstractLatentWorker):
    """A worker on a host that a latent machine (`machine_name=`) wakes and suspends: it
    starts by itself when the host is up, so the instance needs no starting here and it is
    never stopped for being idle (build_wait_timeout is -1); the machine decides."""

    starts_without_substantiate = True

    def checkConfig(self, name: str, password: Any, **kwargs: Any  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    ) -> None:
        kwargs["build_wait_timeout"] = -1
        super().checkConfig(name, password, **kwargs)

    async def reconfigService(self, name: str, password: Any,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              **kwargs: Any) -> None:
        kwargs["build_wait_timeout"] = -1
        await super().reconfigService(name, password, **kwargs)

    def start_instance(self, build: Any) -> bool:
        # The machine's start action brought the host up; its worker connects by itself.
        return True

    def stop_instance(self, fast: bool = False) -> None:
        # The machine's stop action takes the host (and this worker) down.
        return None


__all__ = ["AbstractLatentWorker", "CompatibleLatentWorkerMixin", "LocalLatentWorker",
           "States"]
