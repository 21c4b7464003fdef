"""Configured workers: connection lifecycle, builder links, pause/graceful/quarantine state."""

from __future__ import annotations

import ntpath
import posixpath
from typing import Any

from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IWorker
from buildbot.process.locks import LockSet
from buildbot.process.properties import Properties
from buildbot.util.identifiers import isIdentifier
from buildbot.util.service import BuildbotService

log = Logger()

QUARANTINE_INITIAL = 10
QUARANTINE_MAX = 3600
RESERVED_NAMES = ("debug", "change", "status")


@implementer(IWorker)
class AbstractWorker(BuildbotService):
    """Common base of every worker kind (the reference's `AbstractWorker`)."""

    reconfig_priority = 127
    quarantine_timeout = QUARANTINE_INITIAL
    keepalive_interval = 3600
    builds_may_be_incompatible = False

    def __init__(self, name: str, password: Any = None, *args: Any, **kwargs: Any) -> None:
        # Positional on purpose: BuildbotService would take a `name=` keyword away from
        # checkConfig, which needs it.
        super().__init__(name, password, *args, **kwargs)

    def checkConfig(self, name: str, password: Any, max_builds: int | None = None,
                    notify_on_missing: Any = None, missing_timeout: int | None = None,
                    properties: dict[str, Any] | None = None,
                    defaultProperties: dict[str, Any] | None = None, locks: Any = None,
                    keepalive_interval: int = 3600, machine_name: str | None = None) -> None:
        self.name = name
        self.workername = name
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
        notify = notify_on_missing or []
        if isinstance(notify, str):
            notify = [notify]
        for n in notify:
            if not isinstance(n, str):
                config.error(f"notify_on_missing arg {n!r} is not a string")
        self.password = password
        self.max_builds = max_builds
        self.notify_on_missing = notify
        self.missing_timeout = 3600 if missing_timeout is None else missing_timeout
        self.properties = Properties()
        self.properties.update(properties or {}, "Worker")
        self.properties.setProperty("workername", name, "Worker")
        self.defaultProperties = Properties()
        self.defaultProperties.update(defaultProperties or {}, "Worker")
        self.access = locks or []
        self.keepalive_interval = keepalive_interval
        self.machine_name = machine_name
        # Runtime state (not configuration).
        self.workerid: int | None = None
        self.conn: Any = None
        self.info: dict[str, Any] = {}
        self.worker_commands: dict[str, str] = {}
        self.worker_system = "posix"
        self.worker_basedir: str | None = None
        self.worker_environ: dict[str, str] = {}
        self.path_module: Any = posixpath
        self._paused = False
        self._pause_reason: str | None = None
        self._graceful = False
        self._busy: set[Any] = set()
        self._builders_attached: set[str] = set()
        self._builder_list: list[tuple[str, str]] | None = None
        self._missing_timer: Any = None
        self._quarantine_timer: Any = None
        self._consumers: list[Any] = []
        self._disconnect_sub: Any = None
        self._build_locks: dict[int, LockSet] = {}
        self.lastMessageReceived: float | None = None
        self.registrations: list[Any] = []

    async def reconfigService(self, name: str, password: Any, max_builds: int | None = None,
                        notify_on_missing: Any = None, missing_timeout: int | None = None,
                        properties: dict[str, Any] | None = None,
                        defaultProperties: dict[str, Any] | None = None, locks: Any = None,
                        keepalive_interval: int = 3600,
                        machine_name: str | None = None) -> None:
        self.password = password
        self.max_builds = max_builds
        notify = notify_on_missing or []
        self.notify_on_missing = [notify] if isinstance(notify, str) else list(notify)
        new_timeout = 3600 if missing_timeout is None else missing_timeout
        self.missing_timeout = new_timeout
        self.properties = Properties()
        self.properties.update(properties or {}, "Worker")
        self.properties.setProperty("workername", name, "Worker")
        self.defaultProperties = Properties()
        self.defaultProperties.update(defaultProperties or {}, "Worker")
        self.access = locks or []
        self.keepalive_interval = keepalive_interval
        self.machine_name = machine_name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- plumbing -----------------------------------------------------------------------
    @property
    def botmaster(self) -> Any:
        return self.master.botmaster

    @property
    def clock(self) -> Any:
        return self.master.reactor

    def getConfigDict(self) -> dict[str, Any]:
        return {"name": self.name}

    async def start(self) -> None:
        updates = self.master.data.updates
        self.workerid = await updates.findWorkerId(self.name)
        row = await self.master.data.get(("workers", self.workerid))
        if row is not None:
            self._paused = bool(row.get("paused"))
        self._consumers.append(await self.master.mq.startConsuming(
            self._control, ("control", "worker", str(self.workerid), None)))
        await super().start()
        await self.apply_builders()
        self.startMissingTimer()

    async def stop(self) -> None:
        for c in self._consumers:
            c.stopConsuming()
        self._consumers = []
        self.stopMissingTimer()
        self._stop_quarantine_timer()
        if self.workerid is not None and self.master is not None:
            try:
                await self.master.data.updates.workerConfigured(
                    self.workerid, self.master.masterid, [])
            except Exception:
                log.failure("{w}: cannot deconfigure", w=self)
        conn = self.conn
        if conn is not None:
            conn.loseConnection()
            if hasattr(conn, "wait_disconnected"):
                await conn.wait_disconnected()
        await super().stop()

    # -- builders -----------------------------------------------------------------------
    async def apply_builders(self) -> None:
        """Record which builders use us and, if connected, send the builder list."""
        if self.workerid is None:
            return
        builders = self.botmaster.getBuildersForWorker(self.name)
        builderids = [b.builderid for b in builders if b.builderid is not None]
        await self.master.data.updates.workerConfigured(
            self.workerid, self.master.masterid, builderids)
        if self.conn is not None:
            await self.updateWorker()

    async def updateWorker(self) -> None:
        """Send the builder list and attach the builders the worker acknowledged."""
        conn = self.conn
        if conn is None:
            return
        builders = self.botmaster.getBuildersForWorker(self.name)
        blist = [(b.name, b.config.workerbuilddir) for b in builders]
        if blist == self._builder_list:
            return
        attached = await conn.remoteSetBuilderList(blist)
        self._builder_list = blist
        names = set(attached)
        for b in builders:
            if b.name in names and b.name not in self._builders_attached:
                await b.attached(self, self.worker_commands)
                self._builders_attached.add(b.name)
        for name in list(self._builders_attached - names):
            bldr = self.botmaster.builders.get(name)
            if bldr is not None:
                bldr.detached(self)
            self._builders_attached.discard(name)
        self.botmaster.maybeStartBuildsForWorker(self.name)

    # -- connection lifecycle -----------------------------------------------------------
    async def attached(self, conn: Any) -> None:
        """A connection passed authentication: run the handshake and attach builders."""
        log.info("worker '{name}' attaching from {peer}", name=self.name, peer=conn.get_peer())
        self.conn = conn
        self._builder_list = None
        self._builders_attached = set()
        try:
            await conn.remotePrint(message="attached")
            info = await conn.remoteGetWorkerInfo()
            self._apply_info(info)
            log.info("Got workerinfo from '{name}'", name=self.name)
            self._graceful = False
            await self.master.data.updates.workerConnected(
                self.workerid, self.master.masterid, self._public_info())
            self._disconnect_sub = conn.notifyOnDisconnect(self.detached)
            self.stopMissingTimer()
            await self.updateWorker()
        except Exception:
            log.failure("worker '{name}' failed to attach", name=self.name)
            if self.conn is conn:
                self.conn = None
            conn.loseConnection()
            raise
        log.info("bot attached")
        self.messageReceivedFromWorker()
        self.botmaster.maybeStartBuildsForWorker(self.name)

    def _apply_info(self, info: dict[str, Any]) -> None:
        info = dict(info or {})
        self.info = info
        self.worker_commands = dict(info.get("worker_commands") or {})
        self.worker_environ = dict(info.get("environ") or {})
        self.worker_system = info.get("system") or "posix"
        self.worker_basedir = info.get("basedir")
        self.path_module = ntpath if self.worker_system == "nt" else posixpath
        for key, value in info.items():
            if key not in ("environ", "worker_commands"):
                self.properties.setProperty(key, value, "Worker")

    def _public_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: self.info[k] for k in ("admin", "host", "access_uri")
                               if k in self.info}
        out["version"] = self.info.get("version", "(unknown)")
        return out

    def path_expand_user(self, path: str) -> str:
        if path.startswith("~") and "HOME" in self.worker_environ:
            return self.worker_environ["HOME"] + path[1:]
        return path

    async def detached(self) -> None:
        """The connection is gone: tell the builders and the database."""
        conn, self.conn = self.conn, None
        if conn is None:
            return
        for name in list(self._builders_attached):
            bldr = self.botmaster.builders.get(name)
            if bldr is not None:
                bldr.detached(self)
        self._builders_attached = set()
        self._builder_list = None
        for lockset in self._build_locks.values():
            lockset.release_all()
        self._build_locks.clear()
        log.info("Worker.detached({name})", name=self.name)
        try:
            await self.master.data.updates.workerDisconnected(self.workerid,
                                                              self.master.masterid)
        except Exception:
            log.failure("{w}: cannot record the disconnection", w=self)
        if self.running:
            self.startMissingTimer()

    def messageReceivedFromWorker(self) -> None:
        self.lastMessageReceived = self.clock.seconds()

    def shutdownRequested(self) -> None:
        """The worker asked for a graceful shutdown."""
        log.info("worker {name} wants to shut down", name=self.name)
        self.tasks.spawn("graceful shutdown request", self._set_graceful(True))

    async def shutdown(self) -> None:
        """Ask the worker process to exit."""
        if self.conn is not None:
            await self.conn.remoteShutdown()

    def disconnect(self) -> None:
        if self.conn is not None:
            self.conn.loseConnection()

    # -- missing timer --------------------------------------------------------------------
    def startMissingTimer(self) -> None:
        self.stopMissingTimer()
        if self.missing_timeout and self.conn is None:
            self._missing_timer = self.clock.callLater(self.missing_timeout, self._missing)

    def stopMissingTimer(self) -> None:
        if self._missing_timer is not None and self._missing_timer.active():
            self._missing_timer.cancel()
        self._missing_timer = None

    def _missing(self) -> None:
        self._missing_timer = None
        if self.conn is not None or not self.running:
            return
        last = int(self.lastMessageReceived) if self.lastMessageReceived else None
        self.tasks.spawn("missing notification", self.master.data.updates.workerMissing(
            workerid=self.workerid, masterid=self.master.masterid, last_connection=last,
            notify=list(self.notify_on_missing)))

    # -- availability -------------------------------------------------------------------
    def canStartBuild(self) -> bool:
        if self.conn is None or self._paused or self._graceful:
            return False
        if self._quarantine_timer is not None:
            return False
        if self.max_builds and len(self._busy) >= self.max_builds:
            return False
        if self.access:
            pairs = self._lock_pairs()
            if not all(real.isAvailable(None, access) for real, access in pairs):
                return False
        return True

    def buildStarted(self, wfb: Any) -> None:
        self._busy.add(wfb)

    def buildFinished(self, wfb: Any) -> None:
        self._busy.discard(wfb)
        if self._graceful and not self._busy:
            self.tasks.spawn("graceful shutdown", self.shutdown())
        else:
            self.botmaster.maybeStartBuildsForWorker(self.name)

    def _lock_pairs(self) -> list[Any]:
        return self.botmaster.lock_registry.resolve(
            self.access, self.master.config_version, self.name)

    def acquireLocks(self, build: Any) -> bool:
        """Claim worker-level locks for `build` without waiting; False if unavailable."""
        if not self.access:
            return True
        lockset = LockSet(build, self._lock_pairs())
        if not lockset.try_claim():
            return False
        self._build_locks[id(build)] = lockset
        return True

    def releaseLocks(self, build: Any) -> None:
        lockset = self._build_locks.pop(id(build), None)
        if lockset is not None:
            lockset.release_all()
            self.botmaster.maybeStartBuildsForWorker(self.name)

    def setupProperties(self, props: Properties) -> None:
        for name, (value, source) in self.properties.asDict().items():
            props.setProperty(name, value, source)
        if self.machine_name:
            props.setProperty("machine_name", self.machine_name, "Worker")
        for name, (value, source) in self.defaultProperties.asDict().items():
            if not props.hasProperty(name):
                props.setProperty(name, value, source)

    # -- quarantine ---------------------------------------------------------------------
    def putInQuarantine(self) -> None:
        if self._quarantine_timer is not None:
            return
        self._quarantine_timer = self.clock.callLater(self.quarantine_timeout,
                                                      self._exit_quarantine)
        log.info("{w} is in quarantine for {t} s", w=self, t=self.quarantine_timeout)
        self.quarantine_timeout = min(self.quarantine_timeout * 2, QUARANTINE_MAX)

    def resetQuarantine(self) -> None:
        self.quarantine_timeout = QUARANTINE_INITIAL

    def _exit_quarantine(self) -> None:
        self._quarantine_timer = None
        self.botmaster.maybeStartBuildsForWorker(self.name)

    def _stop_quarantine_timer(self) -> None:
        if self._quarantine_timer is not None and self._quarantine_timer.active():
            self._quarantine_timer.cancel()
        self._quarantine_timer = None

    # -- control actions ----------------------------------------------------------------
    def _control(self, key: tuple[str, ...], body: Any) -> Any:
        action = key[-1]
        reason = (body or {}).get("reason")
        if action == "pause":
            return self._set_paused(True, reason)
        if action == "unpause":
            self._stop_quarantine_timer()
            return self._set_paused(False, None)
        if action == "stop":
            return self._set_graceful(True)
        if action == "kill":
            return self.shutdown()
        return None

    async def _set_paused(self, paused: bool, reason: str | None) -> None:
        self._paused = paused
        self._pause_reason = reason
        await self.master.data.updates.set_worker_paused(self.workerid, paused, reason)
        if not paused:
            self.botmaster.maybeStartBuildsForWorker(self.name)

    async def _set_graceful(self, graceful: bool) -> None:
        self._graceful = graceful
        await self.master.data.updates.set_worker_graceful(self.workerid, graceful)
        if graceful and not self._busy:
            await self.shutdown()


class Worker(AbstractWorker):
    """A worker that connects by itself (PB or msgpack)."""
