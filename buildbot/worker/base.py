"""Configured workers: connection lifecycle, builder links, pause/graceful/quarantine state.

`AbstractWorker` is the master-side stand-in for one entry of `c['workers']`. It owns:

- the connection (`conn`), handed over by a protocol after authentication (`attached`), and
  what the worker told about itself (`info`, `worker_commands`, `worker_environ`,
  `worker_system`, `path_module`);
- the links to the builders that use it (`workerforbuilders`, by builder name);
- availability: paused (with a reason, kept in the database across master restarts),
  graceful shutdown requested, quarantine after failed builds, `max_builds`, worker locks;
- the liveness check (`keepalive_interval`) and the missing timer (`missing_timeout`).
"""

from __future__ import annotations

import ntpath
import posixpath
import time
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IWorker
from buildbot.process.locks import LockSet
from buildbot.process.properties import Properties
from buildbot.util.deferred import ensure_deferred
from buildbot.util.identifiers import isIdentifier
from buildbot.util.service import BuildbotService

log = Logger()

RESERVED_NAMES = ("debug", "change", "status")
# Keys of the worker info published as `workerinfo` (data API, `workers` table).
PUBLIC_INFO_KEYS = ("admin", "host", "access_uri", "version")
# Keys of the worker info that are not kept as `info` properties.
UNSTORED_INFO_KEYS = ("environ", "worker_commands")


def check_worker_name(name: Any) -> None:
    """Report a config error for a worker name the reference refuses."""
    if not isinstance(name, str):
        config.error(f"worker name '{name!r}' is not a string")
    elif name in RESERVED_NAMES:
        config.error(f"worker name '{name}' is reserved")
    elif not name:
        config.error("worker name cannot be an empty string")
    elif len(name) > 50:
        config.error(f"worker name '{name}' is longer than 50 characters")
    elif not isIdentifier(50, name):
        config.error(f"worker name '{name}' is not an identifier")


def notify_list(notify_on_missing: Any) -> list[str]:
    """`notify_on_missing` as a list (a single address may be given as a string)."""
    if notify_on_missing is None:
        return []
    if isinstance(notify_on_missing, str):
        return [notify_on_missing]
    return list(notify_on_missing)


@implementer(IWorker)
class AbstractWorker(BuildbotService):
    """Common base of every worker kind (the reference's `AbstractWorker`)."""

    reconfig_priority = 127
    quarantine_timeout: float = 10
    quarantine_initial_timeout: float = 10
    quarantine_max_timeout: float = 3600
    quarantine_timer: Any = None  # the pending end of a quarantine
    # Latent workers start their missing timer when they are substantiated instead.
    start_missing_on_startup = True
    DEFAULT_MISSING_TIMEOUT = 3600
    DEFAULT_KEEPALIVE_INTERVAL = 3600
    # Subclasses whose isCompatibleWithBuild may say no set this.
    builds_may_be_incompatible = False

    def __init__(self, name: str, password: Any = None, *args: Any, **kwargs: Any) -> None:
        # Positional on purpose: BuildbotService would take a `name=` keyword away from
        # checkConfig, which needs it.
        super().__init__(name, password, *args, **kwargs)

    def checkConfig(self, name: str, password: Any, max_builds: int | None = None,
                    notify_on_missing: Any = None,
                    missing_timeout: float | None = DEFAULT_MISSING_TIMEOUT,
                    properties: dict[str, Any] | None = None,
                    defaultProperties: dict[str, Any] | None = None, locks: Any = None,
                    keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
                    machine_name: str | None = None) -> None:
        self.name = name
        check_worker_name(name)
        for n in notify_list(notify_on_missing):
            if not isinstance(n, str):
                config.error(f"notify_on_missing arg {n!r} is not a string")
        if max_builds is not None and (not isinstance(max_builds, int)
                                       or isinstance(max_builds, bool) or max_builds < 0):
            config.error(f"worker '{name}': max_builds must be a positive integer or None, "
                         f"not {max_builds!r}")
        for label, value in (("missing_timeout", missing_timeout),
                             ("keepalive_interval", keepalive_interval)):
            if value is not None and (not isinstance(value, (int, float))
                                      or isinstance(value, bool) or value < 0):
                config.error(f"worker '{name}': {label} must be a number of seconds "
                             f"(0 or None disables it), not {value!r}")
        self._apply_settings(password, max_builds, notify_on_missing, missing_timeout,
                             properties, defaultProperties, locks, keepalive_interval,
                             machine_name)
        # Runtime state (not configuration).
        self.workerid: int | None = None
        self.conn: Any = None
        self.info = Properties()
        self.worker_commands: dict[str, str] = {}
        self.worker_environ: dict[str, str] = {}
        self.worker_system: str | None = None
        self.worker_basedir: str | None = None
        self.path_module: Any = posixpath
        self.path_cls: type[PurePath] = PurePosixPath
        self.workerforbuilders: dict[str, Any] = {}
        self.machine: Any = None
        self._paused = False
        self._pause_reason: str | None = None
        self._graceful = False
        self._graceful_stored = False
        self.quarantine_timer = None
        self.missing_timer: Any = None
        self._last_seen: float | None = None
        self._configured_builderids: list[int] | None = None
        # (workerid, stored row) when the manager read them for us (see its `_preload`).
        self.preloaded_state: tuple[int, dict[str, Any] | None] | None = None
        self._builder_list: list[tuple[str, str]] | None = None
        # Builders attached on the current connection.
        self._attached_builders: set[str] = set()
        self._consumers: list[Any] = []
        self._build_locks: dict[int, LockSet] = {}
        self._keepalive_call: Any = None
        self._keepalive_pending: defer.Deferred[Any] | None = None
        self._disconnect_sub: Any = None
        self.lastMessageReceived: float | None = None

    def _apply_settings(self, password: Any, max_builds: int | None, notify_on_missing: Any,
                        missing_timeout: float | None, properties: dict[str, Any] | None,
                        defaultProperties: dict[str, Any] | None, locks: Any,
                        keepalive_interval: float | None, machine_name: str | None) -> None:
        self.password = password
        self.max_builds = max_builds
        self.notify_on_missing = notify_list(notify_on_missing)
        self.missing_timeout = missing_timeout
        self.access = list(locks or [])
        self.keepalive_interval = keepalive_interval
        self.machine_name = machine_name
        self.properties = Properties()
        self.properties.update(properties or {}, "Worker")
        self.properties.setProperty("workername", self.name, "Worker")
        if machine_name is not None:
            self.properties.setProperty("machine_name", machine_name, "Worker")
        self.defaultProperties = Properties()
        self.defaultProperties.update(defaultProperties or {}, "Worker")

    async def reconfigService(self, name: str, password: Any, max_builds: int | None = None,
                              notify_on_missing: Any = None,
                              missing_timeout: float | None = DEFAULT_MISSING_TIMEOUT,
                              properties: dict[str, Any] | None = None,
                              defaultProperties: dict[str, Any] | None = None,
                              locks: Any = None,
                              keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL,
                              machine_name: str | None = None) -> None:
        assert name == self.name
        password = await self._render_password(password)
        timer_was_running = self.missing_timer is not None
        old_interval = self.keepalive_interval
        self._apply_settings(password, max_builds, notify_on_missing, missing_timeout,
                             properties, defaultProperties, locks, keepalive_interval,
                             machine_name)
        if timer_was_running:
            self.startMissingTimer()
        if self.conn is not None and old_interval != keepalive_interval:
            self._start_liveness_check()
        self._update_machine()

    async def _render_password(self, password: Any) -> Any:
        if password is None or isinstance(password, (str, bytes)):
            return password
        try:
            return await self.master.render_secrets(password)
        except Exception as e:
            # Kept as is: each login then tries again (and is refused while it fails).
            log.warn("worker {name}: cannot render its password yet: {e}", name=self.name,
                     e=e)
            return password

    def _update_machine(self) -> None:
        """Register with the machine named `machine_name` (c['machines'])."""
        if self.machine is not None and self.machine.name != self.machine_name:
            self.machine.unregisterWorker(self)
            self.machine = None
        if self.machine is None and self.machine_name is not None:
            manager = getattr(self.master, "machine_manager", None)
            machine = manager.getMachineByName(self.machine_name) if manager else None
            if machine is None:
                # The config cross-check refuses unknown machine names; this only happens
                # when no machine manager runs.
                log.warn("worker {name}: unknown machine {machine}", name=self.name,
                         machine=self.machine_name)
                return
            self.machine = machine
            machine.registerWorker(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- plumbing -----------------------------------------------------------------------
    @property
    def workername(self) -> str:
        return str(self.name)

    @property
    def botmaster(self) -> Any:
        return self.master.botmaster if self.master is not None else None

    @property
    def clock(self) -> Any:
        return self.master.reactor

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name}

    def isConnected(self) -> bool:
        return self.conn is not None

    def isPaused(self) -> bool:
        return self._paused

    async def start(self) -> None:
        # Keep our master when removed by a reconfig: the parent goes away before stop()
        # has finished (disconnection, database updates).
        self.master = self.master
        updates = self.master.data.updates
        preloaded, self.preloaded_state = self.preloaded_state, None
        if preloaded is not None:  # read by the manager for all new workers at once
            self.workerid, row = preloaded
        else:
            self.workerid = await updates.findWorkerId(self.name)
            row = await self.master.data.get(("workers", self.workerid))
        if row is not None:
            # Unlike the reference, the pause reason survives a restart too.
            self._paused = bool(row.get("paused"))
            self._pause_reason = row.get("pause_reason") if self._paused else None
            self._graceful_stored = bool(row.get("graceful"))
            self._apply_info(row.get("workerinfo") or {})
        self._consumers.append(await self.master.mq.startConsuming(
            self._control, ("control", "worker", str(self.workerid), None)))
        self._last_seen = self.clock.seconds()
        await super().start()
        await self.apply_builders()
        if self.start_missing_on_startup:
            self.startMissingTimer()

    async def stop(self) -> None:
        for c in self._consumers:
            c.stopConsuming()
        self._consumers = []
        self.stopMissingTimer()
        self._stop_quarantine_timer()
        self._stop_liveness_check()
        if self.machine is not None:
            self.machine.unregisterWorker(self)
            self.machine = None
        if self.workerid is not None and self.master is not None:
            try:
                await self.master.data.updates.workerConfigured(
                    self.workerid, self.master.masterid, [])
            except Exception:  # noqa: BLE001 - stopping goes on: the connection must go
                log.failure("{w}: cannot deconfigure", w=self)
        await self.disconnect()
        await super().stop()
        self.master = None  # found through the service tree again

    # -- builders -----------------------------------------------------------------------
    async def apply_builders(self) -> None:
        """Record which builders use us and, if connected, send the builder list."""
        if self.workerid is None:
            return
        builders = self.botmaster.getBuildersForWorker(self.name)
        builderids = [b.builderid for b in builders if b.builderid is not None]
        if builderids != self._configured_builderids:
            batch = getattr(self.parent, "configured_batch", None)
            if batch is not None:  # the manager's reconfig stores all workers' lists at once
                batch[self.workerid] = builderids
            else:
                await self.master.data.updates.workerConfigured(
                    self.workerid, self.master.masterid, builderids)
            self._configured_builderids = builderids
        await self.updateWorker()

    def forget_configured_builders(self) -> None:
        """The builder list given to `apply_builders` was not stored: store it next time."""
        self._configured_builderids = None

    async def updateWorker(self) -> None:
        """Send the builder list if it changed and attach the builders acknowledged."""
        conn = self.conn
        if conn is None:
            return
        builders = self.botmaster.getBuildersForWorker(self.name)
        blist = [(b.name, b.config.workerbuilddir) for b in builders]
        if blist == self._builder_list:
            return
        attached = set(await conn.remoteSetBuilderList(blist))
        if conn is not self.conn:
            return  # lost meanwhile
        self._builder_list = blist
        for b in builders:
            if b.name in attached and b.name not in self._attached_builders:
                await b.attached(self, self.worker_commands)
                self._attached_builders.add(b.name)
        for name in [n for n in self._attached_builders if n not in attached]:
            self._attached_builders.discard(name)
            self.detach_builder(name)
        self.botmaster.maybeStartBuildsForWorker(self.name)

    def sendBuilderList(self) -> defer.Deferred[None]:
        """Send the builder list to the connected worker if it changed, and attach the
        builders it acknowledged (4.3 name of `updateWorker`)."""
        return ensure_deferred(self.updateWorker())

    def attachBuilder(self, builder: Any) -> defer.Deferred[Any]:
        """Link `builder` to this (connected) worker."""
        return ensure_deferred(builder.attached(self, self.worker_commands))

    def detach_builder(self, name: str) -> None:
        """Drop the link to builder `name` (the builder forgets us too)."""
        bldr = self.botmaster.builders.get(name)
        if bldr is not None:
            bldr.detached(self)
        self.workerforbuilders.pop(name, None)

    def addWorkerForBuilder(self, wfb: Any) -> None:
        self.workerforbuilders[wfb.builder_name] = wfb

    def removeWorkerForBuilder(self, wfb: Any) -> None:
        name = wfb.builder_name
        if self.workerforbuilders.get(name) is wfb:
            del self.workerforbuilders[name]

    # -- connection lifecycle -----------------------------------------------------------
    def connection_refusal(self) -> str | None:
        """Why a new connection must be refused now (None: it may attach)."""
        return None

    async def attached(self, conn: Any) -> None:
        """A connection passed authentication: run the handshake and attach builders."""
        if self.conn is not None:
            raise RuntimeError(f"worker {self.name}: {conn.get_peer()} connecting, but "
                               f"already connected to {self.conn.get_peer()}")
        log.info("worker '{name}' attaching from {peer}", name=self.name, peer=conn.get_peer())
        self.conn = conn
        self._builder_list = None
        self._attached_builders = set()
        try:
            await conn.remotePrint(message="attached")
            info = await conn.remoteGetWorkerInfo()
            if conn is not self.conn:
                raise RuntimeError(f"worker {self.name}: connection lost during the handshake")
            self._apply_info(info, from_connection=True)
            log.info("Got workerinfo from '{name}'", name=self.name)
            self._disconnect_sub = conn.notifyOnDisconnect(self.detached)
            await self.master.data.updates.workerConnected(
                self.workerid, self.master.masterid, self._public_info(info))
            self.messageReceivedFromWorker()
            self.stopMissingTimer()
            self._start_liveness_check()
            # A new connection is never in graceful shutdown.
            self._graceful = False
            await self.updateWorker()
        except Exception:
            if self.conn is conn:
                await self.detached()
            conn.loseConnection()
            raise
        log.info("bot attached")
        self.botmaster.maybeStartBuildsForWorker(self.name)
        if self._graceful_stored:
            await self._store_graceful()

    def _apply_info(self, info: dict[str, Any], from_connection: bool = False) -> None:
        """Keep what the worker reported (or, at start-up, what the database remembers)."""
        info = dict(info or {})
        props = Properties()
        props.setProperty("version", "(unknown)", "Worker")
        for key, value in info.items():
            if key not in UNSTORED_INFO_KEYS and value is not None:
                props.setProperty(key, value, "Worker")
        self.info = props
        if not from_connection:
            return
        self.worker_commands = dict(info.get("worker_commands") or {})
        self.worker_environ = dict(info.get("environ") or {})
        self.worker_system = info.get("system")
        self.worker_basedir = info.get("basedir")
        if self.worker_system == "nt":
            self.path_module, self.path_cls = ntpath, PureWindowsPath
        else:
            # Most systems accept '/', so POSIX rules are the fallback.
            self.path_module, self.path_cls = posixpath, PurePosixPath

    @staticmethod
    def _public_info(info: dict[str, Any]) -> dict[str, Any]:
        return {k: info.get(k) for k in PUBLIC_INFO_KEYS}

    def path_expand_user(self, path: str) -> str:
        """`~` at the start of a worker path, expanded with the worker's HOME."""
        if path.startswith("~") and "HOME" in self.worker_environ:
            return self.worker_environ["HOME"] + path[1:]
        return path

    async def detached(self) -> None:
        """The connection is gone: tell the builders and the database."""
        conn, self.conn = self.conn, None
        if conn is None:
            return
        self._stop_liveness_check()
        self._last_seen = self.clock.seconds()
        self._builder_list = None
        self._attached_builders = set()
        self._detach_builders()
        for lockset in self._build_locks.values():
            lockset.release_all()
        self._build_locks.clear()
        log.info("Worker.detached({name})", name=self.name)
        try:
            await self.master.data.updates.workerDisconnected(self.workerid,
                                                              self.master.masterid)
        except Exception:  # noqa: BLE001 - the detach itself must complete
            log.failure("{w}: cannot record the disconnection", w=self)

    def _detach_builders(self) -> None:
        for name in list(self.workerforbuilders):
            self.detach_builder(name)

    def messageReceivedFromWorker(self) -> None:
        self.lastMessageReceived = self.clock.seconds()

    def waitForCompleteShutdown(self) -> defer.Deferred[None]:
        """Fires once the current connection, if any, is gone and everyone was told."""
        conn = self.conn
        if conn is None:
            return defer.succeed(None)
        return ensure_deferred(conn.wait_disconnected())

    async def disconnect(self) -> None:
        """Drop the connection, if any, and wait until everyone has been told."""
        conn = self.conn
        if conn is None:
            return
        log.info("disconnecting worker {name}", name=self.name)
        conn.loseConnection()
        await conn.wait_disconnected()

    # -- liveness -----------------------------------------------------------------------
    def _start_liveness_check(self) -> None:
        """Ping the worker every `keepalive_interval` s; drop it if a ping goes unanswered
        for a whole interval (the reference has no such check: see docs/workers.md)."""
        self._stop_liveness_check()
        conn = self.conn
        if conn is None:
            return
        # Ours replaces the connection's own fixed hourly keepalive.
        conn.stop_keepalive()
        if self.keepalive_interval:
            self._keepalive_call = self.clock.callLater(self.keepalive_interval,
                                                        self._liveness_tick)

    def _stop_liveness_check(self) -> None:
        call, self._keepalive_call = self._keepalive_call, None
        if call is not None and call.active():
            call.cancel()
        self._keepalive_pending = None

    def _liveness_tick(self) -> None:
        self._keepalive_call = None
        conn = self.conn
        if conn is None:
            return
        if self._keepalive_pending is not None:
            log.warn("worker {name} did not answer a keepalive within {t} s; dropping its "
                     "connection", name=self.name, t=self.keepalive_interval)
            self._keepalive_pending = None
            conn.loseConnection()
            return
        d = defer.Deferred.fromCoroutine(conn.remoteKeepalive())
        self._keepalive_pending = d

        def answered(result: Any) -> None:
            if self._keepalive_pending is d:
                self._keepalive_pending = None
            if isinstance(result, Failure):
                # Lost connections are reported by the transport; anything else is an
                # answer, which proves the worker alive.
                log.info("keepalive to worker {name}: {why}", name=self.name,
                         why=result.getErrorMessage())
            else:
                self.messageReceivedFromWorker()

        d.addBoth(answered)
        self._keepalive_call = self.clock.callLater(self.keepalive_interval,
                                                    self._liveness_tick)

    # -- missing timer --------------------------------------------------------------------
    def startMissingTimer(self) -> None:
        """(Re)start the missing timer, if enabled and the service runs."""
        self.stopMissingTimer()
        if self.missing_timeout and self.running and self.conn is None:
            self.missing_timer = self.clock.callLater(self.missing_timeout,
                                                      self._missing_timer_fired)

    def stopMissingTimer(self) -> None:
        if self.missing_timer is not None and self.missing_timer.active():
            self.missing_timer.cancel()
        self.missing_timer = None

    def _missing_timer_fired(self) -> None:
        self.missing_timer = None
        if self.conn is not None or not self.running:
            return
        seen = self._last_seen if self._last_seen is not None else \
            self.clock.seconds() - (self.missing_timeout or 0)
        log.info("worker {name} is missing (last seen {when})", name=self.name,
                 when=time.ctime(seen))
        self.tasks.spawn("missing notification", self.master.data.updates.workerMissing(
            workerid=self.workerid, masterid=self.master.masterid,
            last_connection=time.ctime(seen), notify=list(self.notify_on_missing)))

    # -- availability -------------------------------------------------------------------
    def isCompatibleWithBuild(self, build_props: Properties) -> Any:
        """Can a build with these (pre-start) properties run here? (Deferred or bool)"""
        return defer.succeed(True)

    def busy_links(self) -> list[Any]:
        """Links to builders that are running (or preparing) a build here."""
        return [wfb for wfb in self.workerforbuilders.values() if wfb.isBusy()]

    def canStartBuild(self) -> bool:
        """Whether a new build may start here now (paused, graceful, quarantine,
        max_builds, worker locks)."""
        if self._graceful or self._paused or self.quarantine_timer is not None:
            return False
        if self.max_builds and len(self.busy_links()) >= self.max_builds:
            return False
        if self.access:
            pairs = self._lock_pairs()
            if not all(real.isAvailable(None, access) for real, access in pairs):
                return False
        return True

    def buildStarted(self, wfb: Any) -> None:
        """A build was given to `wfb`."""

    def buildFinished(self, wfb: Any) -> None:
        """A build of `wfb` ended: shut down if graceful, else look for more work."""
        if self._graceful:
            self.maybeShutdown()
        else:
            self.botmaster.maybeStartBuildsForWorker(self.name)

    def _lock_pairs(self) -> list[Any]:
        return list(self.botmaster.lock_registry.resolve(
            self.access, self.master.config_version, self.name))

    def updateLocks(self) -> defer.Deferred[None]:
        """Look the worker-level locks up again (they are resolved per build here, so this
        only checks that they resolve)."""
        if self.access:
            self._lock_pairs()
        return defer.succeed(None)

    def locksAvailable(self) -> bool:
        """Whether every worker-level lock could be claimed now."""
        return all(real.isAvailable(self, access) for real, access in self._lock_pairs()) \
            if self.access else True

    def acquireLocks(self, build: Any = None) -> bool:
        """Claim worker-level locks for `build` without waiting; False if unavailable."""
        if not self.access:
            return True
        lockset = LockSet(build, self._lock_pairs())
        if not lockset.try_claim():
            return False
        self._build_locks[id(build)] = lockset
        return True

    def releaseLocks(self, build: Any = None) -> None:
        lockset = self._build_locks.pop(id(build), None)
        if lockset is not None:
            lockset.release_all()
            self.botmaster.maybeStartBuildsForWorker(self.name)

    def setupProperties(self, props: Properties) -> None:
        """Worker properties (override), then defaultProperties (only where absent)."""
        for name, (value, source) in self.properties.asDict().items():
            props.setProperty(name, value, source)
        for name, (value, source) in self.defaultProperties.asDict().items():
            if not props.hasProperty(name):
                props.setProperty(name, value, source)

    # -- quarantine ---------------------------------------------------------------------
    def putInQuarantine(self) -> None:
        """No builds for `quarantine_timeout` s, which then doubles (up to the maximum)."""
        if self.quarantine_timer is not None:
            return
        self.quarantine_timer = self.clock.callLater(self.quarantine_timeout,
                                                     self.exitQuarantine)
        log.info("{name} has been put in quarantine for {t}s", name=self.name,
                 t=self.quarantine_timeout)
        self.quarantine_timeout = min(self.quarantine_timeout * 2, self.quarantine_max_timeout)

    def resetQuarantine(self) -> None:
        self.quarantine_timeout = self.quarantine_initial_timeout

    def exitQuarantine(self) -> None:
        log.info("{name} has left quarantine", name=self.name)
        self.quarantine_timer = None
        if self.botmaster is not None:
            self.botmaster.maybeStartBuildsForWorker(self.name)

    def stopQuarantineTimer(self) -> None:
        if self.quarantine_timer is not None:
            if self.quarantine_timer.active():
                self.quarantine_timer.cancel()
            self.exitQuarantine()

    def _stop_quarantine_timer(self) -> None:
        if self.quarantine_timer is not None and self.quarantine_timer.active():
            self.quarantine_timer.cancel()
        self.quarantine_timer = None

    # -- control actions ----------------------------------------------------------------
    def controlWorker(self, key: tuple[str, ...], params: Any) -> Any:
        """Act on a `control/worker/<id>/<action>` message (pause, unpause, stop, kill)."""
        return self._control(key, params)

    def _control(self, key: tuple[str, ...], body: Any) -> Any:
        action = key[-1]
        params = body or {}
        log.info("worker {name} wants to {action}: {params}", name=self.name, action=action,
                 params=params)
        if action == "pause":
            return self.pause(params.get("reason"))
        if action == "unpause":
            return self.unpause()
        if action == "stop":
            return self.shutdownRequested()
        if action == "kill":
            return self.shutdown()
        return None

    def pause(self, reason: str | None = None) -> defer.Deferred[None]:
        """No new builds until unpaused; running builds go on."""
        self._paused = True
        self._pause_reason = reason
        return self.tasks.spawn("pause", self._store_paused())

    def unpause(self) -> defer.Deferred[None]:
        """Accept builds again (also ends a quarantine)."""
        self._paused = False
        self._pause_reason = None
        self.stopQuarantineTimer()
        self.botmaster.maybeStartBuildsForWorker(self.name)
        return self.tasks.spawn("unpause", self._store_paused())

    async def _store_paused(self) -> None:
        await self.master.data.updates.set_worker_paused(self.workerid, self._paused,
                                                         self._pause_reason)

    def shutdownRequested(self) -> defer.Deferred[None]:
        """Graceful shutdown: no new builds; the worker is told to exit once idle.

        Called for the `stop` control action and when the worker itself asks.
        """
        log.info("worker {name} will shut down once its builds are finished",
                 name=self.name)
        self._graceful = True
        self.maybeShutdown()
        return self.tasks.spawn("graceful shutdown flag", self._store_graceful())

    async def _store_graceful(self) -> None:
        self._graceful_stored = self._graceful
        await self.master.data.updates.set_worker_graceful(self.workerid, self._graceful)

    def maybeShutdown(self) -> None:
        """Shut the worker down if a graceful shutdown is pending and nothing runs."""
        if self._graceful and not self.busy_links():
            self.tasks.spawn("shutdown of the worker", self.shutdown())

    async def shutdown(self) -> None:
        """Ask the worker process to exit (the `kill` action)."""
        if self.conn is None:
            log.info("worker {name} is not connected; nothing to shut down", name=self.name)
            return
        await self.conn.remoteShutdown()


class Worker(AbstractWorker):
    """A worker that connects by itself (PB or msgpack)."""

    def canStartBuild(self) -> bool:
        if self.conn is None:
            return False
        return super().canStartBuild()

    async def detached(self) -> None:
        was_connected = self.conn is not None
        await super().detached()
        if was_connected and self.running:
            self.startMissingTimer()
