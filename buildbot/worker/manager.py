"""`master.workers`: the configured workers, their protocol registrations, new connections."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.service import BuildbotServiceManager
from buildbot.worker.protocols import msgpack as msgpack_protocol
from buildbot.worker.protocols import pb as pb_protocol

log = Logger()

DUPLICATE_PING_TIMEOUT = 10


class WorkerManager(BuildbotServiceManager):
    """Keeps `c['workers']` running and registered on the configured protocol ports."""

    config_attr = "workers"
    reconfig_priority = 127

    def __init__(self) -> None:
        super().__init__(name="WorkerManager")
        self._registrations: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
        # During a reconfig: the workers' builder lists to store (workerid -> builderids),
        # filled by `AbstractWorker.apply_builders`; None otherwise (they store their own).
        self.configured_batch: dict[int, list[int]] | None = None
        # During a reconfig: name -> (workerid, stored row) of the workers being added.
        self._preloaded: dict[str, tuple[int, dict[str, Any] | None]] = {}

    @property
    def master(self) -> Any:
        return self.parent

    @property
    def workers(self) -> dict[str, Any]:
        return dict(self.namedServices)

    def getWorkerByName(self, name: str) -> Any:
        return self.namedServices.get(name)

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        # A constant number of database transactions however many workers: the new workers'
        # ids and stored state are read for them all at once, and every worker's builder
        # list is written in one batch at the end.
        await self._preload(new_config)
        self.configured_batch = {}
        try:
            await super().reconfigServiceWithBuildbotConfig(new_config)
            # Builders may have changed even for workers whose own arguments did not.
            for worker in list(self.namedServices.values()):
                if worker.running:
                    await worker.apply_builders()
            batch = self.configured_batch
            if batch:
                await self.master.data.updates.workersConfigured(self.master.masterid, batch)
        except BaseException:
            for worker in self.namedServices.values():
                if worker.workerid in self.configured_batch:
                    worker.forget_configured_builders()  # not stored: write it next time
            raise
        finally:
            self.configured_batch = None
            self._preloaded = {}
        await self._update_registrations(new_config)

    async def _preload(self, new_config: Any) -> None:
        value = getattr(new_config, self.config_attr, None) or []
        names = [w.name for w in (value.values() if isinstance(value, dict) else value)
                 if w.name not in self.namedServices]
        if not names:
            return
        ids = await self.master.data.updates.findWorkerIds(names)
        rows = {row["workerid"]: row for row in await self.master.data.get(("workers",))}
        self._preloaded = {name: (ids[name], rows.get(ids[name])) for name in names}

    async def prepare_new_service(self, svc: Any) -> None:
        svc.preloaded_state = self._preloaded.pop(svc.name, None)

    async def _update_registrations(self, new_config: Any) -> None:
        """(Re)register every worker's name/password on the configured protocol ports."""
        protocols = getattr(new_config, "protocols", None) or {}
        wanted: dict[str, list[tuple[str, Any, Any]]] = {}
        for name, worker in self.namedServices.items():
            if getattr(worker, "password", None) is None:
                continue  # LocalWorker: in-process, no port
            entries = []
            password = self._password_of(worker)
            if protocols.get("pb", {}).get("port") is not None:
                entries.append(("pb", protocols["pb"]["port"], password))
            msg = protocols.get("msgpack_experimental_v7", {})
            if msg.get("port") is not None:
                entries.append(("msgpack", msg["port"], password))
            wanted[name] = entries
        for name in list(self._registrations):
            current = [key for key, _ in self._registrations[name]]
            if name not in wanted or current != [tuple(e) for e in wanted[name]]:
                for _, reg in self._registrations.pop(name):
                    await reg.unregister()
        for name, entries in wanted.items():
            if name in self._registrations:
                continue
            regs = []
            for proto, port, password in entries:
                if proto == "pb":
                    reg = await self.master.pbmanager.register(
                        port, name, password,
                        pb_protocol.connection_factory(self, self.master.reactor))
                else:
                    reg = await self.master.msgmanager.register(
                        port, name, password,
                        msgpack_protocol.connection_factory(self, self.master.reactor))
                regs.append(((proto, port, password), reg))
            self._registrations[name] = regs

    def get_port(self, name: str, protocol: str = "pb") -> int | None:
        """The TCP port worker `name` can connect to with `protocol` ("pb" or "msgpack"),
        or None when it is not registered there (latent workers tell their instances)."""
        for (proto, _, _), reg in self._registrations.get(name, []):
            if proto == protocol:
                try:
                    return int(reg.getPort())
                except RuntimeError:  # the port manager is not listening (stopped)
                    return None
        return None

    def _password_of(self, worker: Any) -> Any:
        """The password as the port managers take it: plain text, or a function rendering a
        secret (`util.Secret`, `Interpolate`) at login time."""
        password = worker.password
        if isinstance(password, (str, bytes)):
            return password
        master = self.master

        async def rendered() -> Any:
            return await master.render_secrets(password)

        rendered.source = password  # type: ignore[attr-defined]  # for change detection
        return rendered

    async def stop(self) -> None:
        for regs in self._registrations.values():
            for _, reg in regs:
                await reg.unregister()
        self._registrations.clear()
        await super().stop()

    async def newConnection(self, conn: Any, workerName: str) -> bool:
        """Accept `conn` for `workerName`, arbitrating with an existing connection."""
        worker = self.getWorkerByName(workerName)
        if worker is None:
            raise RuntimeError(f"no worker named {workerName!r} is configured")
        refusal = worker.connection_refusal()
        if refusal is not None:
            # An error other than "unauthorized": a stock worker gives up and exits.
            raise RuntimeError(refusal)
        old = worker.conn
        if old is not None:
            log.info("worker '{name}' is connecting again from {peer}; checking the old "
                     "connection", name=workerName, peer=conn.get_peer())
            alive = await self._ping(old)
            if alive:
                log.warn("rejecting duplicate connection of worker '{name}' from {peer}",
                         name=workerName, peer=conn.get_peer())
                raise RuntimeError("rejecting duplicate worker")
            log.info("old connection of worker '{name}' is dead; replacing it",
                     name=workerName)
            old.loseConnection()
            if hasattr(old, "wait_disconnected"):
                await old.wait_disconnected()
        return True

    async def _ping(self, conn: Any) -> bool:
        d = defer.ensureDeferred(conn.remotePrint(message="master got a duplicate connection"))
        d.addTimeout(DUPLICATE_PING_TIMEOUT, self.master.reactor)
        try:
            await d
            return True
        # Any failure (timeout, lost link) means the old connection is dead; the caller
        # logs which connection wins.
        except Exception:  # noqa: BLE001
            return False


WorkerRegistration = internal_class(__name__, "WorkerRegistration",
                                    "workers are registered by the worker manager itself")
differs_internally("created by the master")(WorkerManager)
