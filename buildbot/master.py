"""The BuildMaster: builds the service tree, loads master.cfg, and runs start-up, reconfig
and shutdown in the reference's order (docs/architecture.md, "Master life cycle")."""

from __future__ import annotations

import gc
import os
import signal
import socket
import time
from typing import Any

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python.failure import Failure

import buildbot
from buildbot.changes.manager import ChangeManager
from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader, MasterConfig
from buildbot.data.connector import DataConnector
from buildbot.db.connector import DBConnector
from buildbot.db.errors import DatabaseNotReadyError
from buildbot.machine.manager import MachineManager
from buildbot.mq.connector import MQConnector
from buildbot.pbmanager import PBManager
from buildbot.process.botmaster import BotMaster
from buildbot.process.caches import CacheManager
from buildbot.process.debug import DebugServices
from buildbot.process.metrics import MetricLogObserver
from buildbot.process.properties import Properties, render
from buildbot.schedulers.manager import SchedulerManager
from buildbot.secrets.manager import SecretManager
from buildbot.util.deferred import ensure_deferred
from buildbot.util.httpclientservice import HTTPClientService
from buildbot.util.service import AsyncService, BuildbotServiceManager
from buildbot.worker.manager import WorkerManager
from buildbot.www.service import WWWService

log = Logger()

HEARTBEAT_INTERVAL = 60


_imports_frozen = False


def freeze_imported_objects() -> None:
    """Exclude every object alive now (the modules imported to run a master, ~100,000
    objects) from the cyclic garbage collector's full collections, once per process.

    Loading a config with many builders allocates enough to trigger several full
    collections, and each walked all those objects: a quarter of the time of executing a
    10,000-builder master.cfg. Only for a master run by twistd: a process running many
    masters (tests) would keep their garbage forever.
    """
    global _imports_frozen
    if not _imports_frozen:
        _imports_frozen = True
        gc.freeze()


class LogRotation:
    """Rotation parameters the tac file sets (used for http.log)."""

    def __init__(self) -> None:
        self.rotateLength = 1000000
        self.maxRotatedFiles = 10


class MsgManagerSlot(AsyncService):
    """`master.msgmanager`: the msgpack worker protocol's port manager, made on first use.

    That manager brings autobahn (with msgpack and cffi), a sixth of the master's import
    time, which a master whose workers all use PB never needs. It runs as this service's
    child, so it keeps the manager's place in the start and stop order.
    """

    def __init__(self, reactor: Any) -> None:
        super().__init__("msgmanager")
        self._reactor = reactor
        self._manager: Any = None

    @property
    def manager(self) -> Any:
        """The real `MsgManager` (created and started now if needed)."""
        if self._manager is None:
            from buildbot.worker.protocols.manager.msgpack import MsgManager

            self._manager = MsgManager(reactor=self._reactor)
            self._manager.setServiceParent(self)  # started with us, or now if we run
        return self._manager

    async def register(self, config_portstr: int | str, username: str, password: Any,
                       pfactory: Any) -> Any:
        """As `MsgManager.register`."""
        manager = self.manager
        await self.tasks.wait()  # its start, when made while we run
        return await manager.register(config_portstr, username, password, pfactory)


class ServiceManager(BuildbotServiceManager):
    """`master.service_manager`: c['services'] (reporters and custom services)."""

    config_attr = "services"
    reconfig_priority = 1000

    def __init__(self) -> None:
        super().__init__(name="services")

    @property
    def master(self) -> Any:
        return self.parent


class UserManagerManager(BuildbotServiceManager):
    """`master.user_manager`: c['user_managers']."""

    config_attr = "user_managers"

    def __init__(self) -> None:
        super().__init__(name="user_manager")

    @property
    def master(self) -> Any:
        return self.parent


class BuildMaster(AsyncService):
    """The build master service (instantiated by buildbot.tac)."""

    def __init__(self, basedir: str, configFileName: str | None = "master.cfg",
                 umask: int | None = None, reactor: Any = None,
                 config_loader: Any = None) -> None:
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor as default_reactor
            reactor = default_reactor
        self.reactor = reactor
        self.basedir = os.path.abspath(os.path.expanduser(basedir))
        self.configFileName = configFileName or "master.cfg"
        self.umask = umask
        self.config_loader = config_loader or FileLoader(self.basedir, self.configFileName)
        try:
            hostname = os.uname()[1]
        except AttributeError:
            hostname = socket.getfqdn()
        self.name = f"{hostname}:{self.basedir}"  # type: ignore[assignment]  # Twisted: str
        self.masterid: int | None = None
        self.config = MasterConfig()
        self.config_version = 0
        self.log_rotation = LogRotation()
        self._heartbeat: Any = None
        self._fenced = False  # set once another master expired this one
        #: ids of the masters marked active at the last check-in (reporters use it)
        self.active_masterids: set[int] = set()
        self._reconfig_running = False
        self._reconfig_pending = False
        self._stopping = False
        self.db = DBConnector(self.basedir, clock=reactor)
        self.db.master = self  # type: ignore[attr-defined]  # for plugins reaching master.db
        # Children, in the reference's start order (the shared HTTP client first).
        self.httpservice = self._child(HTTPClientService(""))
        self.metrics = self._child(MetricLogObserver())
        self.caches = self._child(CacheManager())
        self.pbmanager = self._child(PBManager(reactor=reactor))
        self.msgmanager = self._child(MsgManagerSlot(reactor))
        self.workers = self._child(WorkerManager())
        self.change_svc = self._child(ChangeManager())
        self.botmaster = self._child(BotMaster())
        self.machine_manager = self._child(MachineManager())
        self.scheduler_manager = self._child(SchedulerManager())
        self.user_manager = self._child(UserManagerManager())
        self.debug = self._child(DebugServices())  # runs c['manhole']
        self.mq = self._child(MQConnector())
        self.data = self._child(DataConnector(self))
        self.www = self._child(WWWService(self, reactor))
        self.secrets_manager = self._child(SecretManager())
        self.service_manager = self._child(ServiceManager())
        self.data.force_scheduler_source = self.scheduler_manager.force_schedulers

    def _child(self, svc: Any) -> Any:
        svc.setServiceParent(self)
        return svc

    @property
    def master(self) -> BuildMaster:
        return self

    # -- start-up -----------------------------------------------------------------------
    def startService(self) -> defer.Deferred[None]:
        # Twisted's application calls this from the tac; failures end the process, with the
        # marker line the `buildbot start` log watcher waits for.
        d = super().startService()

        def failed(f: Failure) -> None:
            if not f.check(ConfigErrors, DatabaseNotReadyError):
                log.failure("error during master start-up", failure=f)
            log.info("BuildMaster startup failed")
            # Under twistd (attached to the tac's application) a failed start ends the
            # process; a master embedded elsewhere (tests) just reports the failure.
            if self.parent is not None and self.reactor.running:
                self.reactor.stop()
                return None
            return f  # type: ignore[return-value]  # the Deferred fires with the value the signature names

        d.addErrback(failed)
        return d

    async def start(self) -> None:
        log.info("Starting BuildMaster -- buildbot.version: {version} -- {identity}",
                 version=buildbot.version, identity=buildbot.identity)
        if self.parent is not None:  # under twistd (see freeze_imported_objects)
            freeze_imported_objects()
        if self.umask is not None:
            os.umask(self.umask)
        try:
            new_config = await threads.deferToThreadPool(
                self.reactor, self.reactor.getThreadPool(), self.config_loader.loadConfig)
        except ConfigErrors as e:
            log.error("Configuration Errors:")
            for msg in e.errors:
                log.error("  {msg}", msg=msg)
            log.error("Halting master.")
            raise
        self.config = new_config
        self.config_version += 1
        await self.secrets_manager.reconfigServiceWithBuildbotConfig(new_config)
        db_url = await self.render_secrets(new_config.db["db_url"])
        log.info("Setting up database with URL '{url}'", url=_safe_url(db_url))
        try:
            await self.db.setup(db_url, new_config.db.get("engine_kwargs") or {})
        except DatabaseNotReadyError as e:
            log.error("{msg}", msg=str(e))
            raise
        await self.db.start()
        self._apply_log_settings(new_config)
        self.mq.setup(new_config.mq)
        self._install_signal_handlers()
        self.masterid = await self.data.updates.findMasterId(self.name)
        self.db.masterid = self.masterid
        await self.data.updates.masterStopped(name=self.name, masterid=self.masterid)
        await super().start()
        self.active_masterids = set(
            await self.data.updates.expireMasters(forceHouseKeeping=True))
        # Active (unfenced) before the children start: builds and claims are refused to a
        # master marked inactive (db.masters.thd_fence).
        await self.data.updates.masterActive(name=self.name, masterid=self.masterid)
        self.db.fenced_masterid = self.masterid
        await self._reconfig_children(new_config)
        await self.data.updates.masterActive(name=self.name, masterid=self.masterid)
        self._heartbeat = self.reactor.callLater(self._heartbeat_interval(), self._beat)
        log.info("BuildMaster is running")

    def _apply_log_settings(self, cfg: MasterConfig) -> None:
        self.db.logs.configure(compression_method=cfg.logCompressionMethod,
                               max_size=cfg.logMaxSize, max_tail_size=cfg.logMaxTailSize)

    def _heartbeat_interval(self) -> float:
        hb = getattr(self.config, "masterHeartbeat", None) or {}
        return float(hb.get("interval", HEARTBEAT_INTERVAL))

    def _beat(self) -> None:
        self._heartbeat = self.reactor.callLater(self._heartbeat_interval(), self._beat)
        self.tasks.spawn("heartbeat", self._heartbeat_once())

    async def _heartbeat_once(self) -> None:
        if self._fenced:
            return
        if not await self.data.updates.masterCheckIn(name=self.name, masterid=self.masterid):
            self._on_fenced()
            return
        active = set(await self.data.updates.expireMasters())
        gone = self.active_masterids - active
        self.active_masterids = active
        if gone:
            # A master stopped or was expired: its schedulers and change sources are free
            # now; claim them at once rather than at the services' next 5-minute retry.
            for manager in (self.scheduler_manager, self.change_svc):
                for svc in list(manager):
                    claim_now = getattr(svc, "claim_now", None)
                    if claim_now is not None:
                        claim_now()

    def _on_fenced(self) -> None:
        """Another master expired this one (it was silent longer than the expiry: paused,
        cut off from the database): its builds have been ended RETRY and its requests
        handed over, and the database refuses its claims and build completions. Stop the
        process; a supervisor (systemd `Restart=`) starts it afresh, as a new member."""
        self._fenced = True
        log.error("this master was marked inactive by another master (no check-in for "
                  "longer than c['masterHeartbeat']['expiry']); its work was taken over: "
                  "stopping")
        if self._heartbeat is not None and self._heartbeat.active():
            self._heartbeat.cancel()
        self._heartbeat = None
        if self.parent is not None and self.reactor.running:
            self.reactor.stop()

    def _install_signal_handlers(self) -> None:
        if not hasattr(signal, "SIGHUP"):
            return
        try:
            signal.signal(signal.SIGHUP, lambda *_: self.reactor.callFromThread(self.reconfig))
            signal.signal(signal.SIGUSR1, lambda *_: self.reactor.callFromThread(
                self._clean_shutdown))
        except ValueError:  # not the main thread (in-process tests): no signals
            pass

    def _clean_shutdown(self) -> None:
        log.info("Initiating clean shutdown")
        self.tasks.spawn("clean shutdown", self.botmaster.cleanShutdown())

    async def _reconfig_children(self, new_config: MasterConfig) -> None:
        """Reconfigure the children in the reference's priority order, then the db."""
        children = [c for c in self if hasattr(c, "reconfigServiceWithBuildbotConfig")
                    and c is not self.secrets_manager]
        children.sort(key=lambda c: -getattr(c, "reconfig_priority", 128))
        for child in children:
            await child.reconfigServiceWithBuildbotConfig(new_config)  # www among them
        set_horizon = getattr(self.db, "set_change_horizon", None)
        if set_horizon is not None:
            set_horizon(new_config.changeHorizon)
        set_stall_limit = getattr(self.db, "set_stall_limit", None)
        if set_stall_limit is not None:
            expiry = (getattr(new_config, "masterHeartbeat", None) or {}).get("expiry")
            set_stall_limit(float(expiry) if new_config.multiMaster and expiry else None)

    # -- reconfiguration ----------------------------------------------------------------
    def reconfig(self) -> defer.Deferred[None]:
        """Reload master.cfg (SIGHUP); one at a time, a request during one runs after it."""
        if self._reconfig_running:
            log.info("reconfig already active; will reconfig again after")
            self._reconfig_pending = True
            return defer.succeed(None)
        return ensure_deferred(self._reconfig_loop())

    async def _reconfig_loop(self) -> None:
        self._reconfig_running = True
        try:
            while True:
                self._reconfig_pending = False
                await self._do_reconfig()
                if not self._reconfig_pending:
                    break
        finally:
            self._reconfig_running = False

    async def _do_reconfig(self) -> None:
        started = time.time()
        log.info("beginning configuration update")
        try:
            new_config = await threads.deferToThreadPool(
                self.reactor, self.reactor.getThreadPool(), self.config_loader.loadConfig)
        except ConfigErrors as e:
            for msg in e.errors:
                log.error("{msg}", msg=msg)
            log.info("configuration update aborted without making any changes "
                     "(took {t:.3f} seconds)", t=time.time() - started)
            return
        except Exception:
            log.failure("error while loading configuration")
            log.info("configuration update aborted without making any changes "
                     "(took {t:.3f} seconds)", t=time.time() - started)
            return
        problems = self._refused_changes(new_config)
        if problems:
            for msg in problems:
                log.error("{msg}", msg=msg)
            log.info("configuration update aborted without making any changes "
                     "(took {t:.3f} seconds)", t=time.time() - started)
            return
        old_config = self.config
        self.config = new_config
        self.config_version += 1
        try:
            await self.secrets_manager.reconfigServiceWithBuildbotConfig(new_config)
            self.mq.reconfigure(new_config.mq)
            self._apply_log_settings(new_config)
            await self._reconfig_children(new_config)
        except Exception:
            log.failure("error during reconfig")
            log.info("WARNING: configuration update partially applied; master may "
                     "malfunction (took {t:.3f} seconds)", t=time.time() - started)
            return
        del old_config
        log.info("configuration update complete (took {t:.3f} seconds)", t=time.time() - started)

    def _refused_changes(self, new_config: MasterConfig) -> list[str]:
        problems = []
        if (new_config.mq or {}).get("type", "simple") != (self.config.mq or {}).get(
                "type", "simple"):
            problems.append("Cannot change c['mq']['type'] after the master has started")
        if dict(new_config.db) != dict(self.config.db):
            problems.append("Cannot change c['db'] after the master has started")
        return problems

    # -- shutdown -----------------------------------------------------------------------
    async def stop(self) -> None:
        if self._heartbeat is not None and self._heartbeat.active():
            self._heartbeat.cancel()
        self._heartbeat = None
        if self.masterid is not None:
            await self.botmaster.cleanShutdown(quickMode=True, stopReactor=False)
            # Recording our own stop marks this master inactive and then finishes what it
            # still held (RETRY): those writes are this master's own clean-up, so the fence
            # (which refuses writes of an inactive master) must not stop them.
            self.db.fenced_masterid = None
            try:
                await self.data.updates.masterStopped(name=self.name, masterid=self.masterid)
            except Exception:
                log.failure("cannot record that this master stopped")
        await super().stop()
        # Also after a failed start-up: the database threads must not keep the process alive.
        await self.db.stop()
        log.info("BuildMaster is stopped")

    # -- helpers for plugins ------------------------------------------------------------
    async def render_secrets(self, value: Any) -> Any:
        """Render `value` with secrets available (no build properties)."""
        props = Properties()
        props.master = self
        return await render(value, props)

    def getObjectId(self) -> defer.Deferred[int]:
        return ensure_deferred(self.data.updates.getObjectId(self.name,
                                                             "buildbot.master.BuildMaster"))


def _safe_url(url: Any) -> str:
    text = str(url)
    if "://" in text and "@" in text.split("://", 1)[1]:
        scheme, rest = text.split("://", 1)
        creds, host = rest.split("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":xxxx"
        text = f"{scheme}://{creds}@{host}"
    return text
