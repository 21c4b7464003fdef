"""Workers: the `workers` resource type, its control actions (stop, kill, pause, unpause) and
the updates reporting worker configuration, connections and state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    control_reason,
    update_method,
)
from buildbot.data.exceptions import InvalidControlException, InvalidPathError
from buildbot.util.identifiers import isIdentifier
from buildbot.util.resultspec import ResultSpec

WORKER_ACTIONS = ("stop", "pause", "unpause", "kill")


def _check_worker_name(name: str) -> None:
    if not isIdentifier(50, name):
        raise ValueError(f"Worker name {name!r} is not a 50-character identifier")

worker_entity = types.Entity("worker", {
    "workerid": types.Integer(),
    "name": types.String(),
    "connected_to": types.List(of=types.Entity("master_id", {"masterid": types.Integer()})),
    "configured_on": types.List(of=types.Entity("master_builder", {
        "masterid": types.Integer(), "builderid": types.Integer()})),
    "workerinfo": types.JsonObject(),
    "paused": types.Boolean(),
    "pause_reason": types.NoneOk(types.String()),
    "graceful": types.Boolean(),
})


def worker_message(row: Any) -> dict[str, Any]:
    """The `worker` body of a db WorkerModel."""
    return {
        "workerid": row.id,
        "name": row.name,
        "workerinfo": row.workerinfo,
        "paused": bool(row.paused),
        "pause_reason": row.pause_reason,
        "graceful": bool(row.graceful),
        "connected_to": [{"masterid": m} for m in row.connected_to],
        "configured_on": [{"masterid": c.masterid, "builderid": c.builderid}
                          for c in row.configured_on],
    }


class WorkerEndpoint(Endpoint):
    """One worker, by id or name, optionally among a master's or builder's; actions
    `stop`, `kill`, `pause`, `unpause`."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /workers/n:workerid
        /workers/i:name
        /masters/n:masterid/workers/n:workerid
        /masters/n:masterid/workers/i:name
        /masters/n:masterid/builders/n:builderid/workers/n:workerid
        /masters/n:masterid/builders/n:builderid/workers/i:name
        /builders/n:builderid/workers/n:workerid
        /builders/n:builderid/workers/i:name
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.workers.getWorker(
            workerid=kwargs.get("workerid"), name=kwargs.get("name"),
            masterid=kwargs.get("masterid"), builderid=kwargs.get("builderid"))
        return worker_message(row) if row is not None else None

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        if action not in WORKER_ACTIONS:
            raise InvalidControlException(f"action: {action} is not supported")
        worker = await self.get(ResultSpec(), kwargs)
        if worker is None:  # (Buildbot 4.3: 500)
            raise InvalidPathError("worker not found")
        self.rtype.produce(("control", "worker", str(worker["workerid"]), action),
                           {"reason": control_reason(args, kwargs)})
        return None


class WorkersEndpoint(Endpoint):
    """Workers: all, or configured on a master and/or builder."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "workers"
    pathPatterns = """
        /workers
        /masters/n:masterid/workers
        /masters/n:masterid/builders/n:builderid/workers
        /builders/n:builderid/workers
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        paused = result_spec.popBooleanFilter("paused")
        graceful = result_spec.popBooleanFilter("graceful")
        rows = await self.db.workers.getWorkers(
            builderid=kwargs.get("builderid"), masterid=kwargs.get("masterid"),
            paused=paused, graceful=graceful)
        return [worker_message(r) for r in rows]


class Worker(ResourceType):
    """Workers (`worker` / `workers`)."""

    name = "worker"
    plural = "workers"
    keyField = "workerid"
    endpoints: ClassVar[list[type[Endpoint]]] = [WorkerEndpoint, WorkersEndpoint]
    eventPathPatterns = "/workers/:workerid"
    stateEvents = frozenset({"connected", "disconnected", "state_updated", "missing"})
    entityType = worker_entity

    async def _announce(self, workerid: int, event: str, seq: int | None,
                        **extra: Any) -> None:
        row = await self.db.workers.getWorker(workerid=workerid)
        if row is not None:
            self.produceEvent({**worker_message(row), **extra}, event, seq)

    @update_method
    async def findWorkerId(self, name: str) -> int:
        """The id of the worker called `name` (an identifier of at most 50 characters, else
        ValueError), created if new."""
        _check_worker_name(name)
        return int(await self.db.workers.findWorkerId(name))

    @update_method
    async def findWorkerIds(self, names: Iterable[str]) -> dict[str, int]:
        """`findWorkerId` for many workers (name -> id): one database transaction."""
        wanted = list(names)
        for name in wanted:
            _check_worker_name(name)
        ids: dict[str, int] = await self.db.workers.findWorkerIds(wanted)
        return ids

    @update_method
    async def workerConfigured(self, workerid: int, masterid: int,
                               builderids: Sequence[int]) -> None:
        """The builders of master `masterid` the worker is configured for."""
        await self.db.workers.workerConfigured(workerid=workerid, masterid=masterid,
                                               builderids=list(builderids))

    @update_method
    async def workersConfigured(self, masterid: int,
                                builderids: Mapping[int, Sequence[int]]) -> None:
        """`workerConfigured` for many workers (workerid -> builderids of master
        `masterid`): one database transaction."""
        await self.db.workers.workersConfigured(masterid, builderids)

    @update_method
    async def workerConnected(self, workerid: int, masterid: int,
                              workerinfo: dict[str, Any]) -> None:
        """The worker connected to master `masterid` with `workerinfo`; announce
        `connected`."""
        with self.writing() as seq:
            await self.db.workers.workerConnected(workerid=workerid, masterid=masterid,
                                                  workerinfo=workerinfo)
            await self._announce(workerid, "connected", seq)

    @update_method
    async def workerDisconnected(self, workerid: int, masterid: int) -> None:
        """The worker left master `masterid`; announce `disconnected`."""
        with self.writing() as seq:
            await self.db.workers.workerDisconnected(workerid=workerid, masterid=masterid)
            await self._announce(workerid, "disconnected", seq)

    @update_method
    async def workerMissing(self, workerid: int, masterid: int, last_connection: Any,
                            notify: bool) -> None:
        """Announce `missing` (the worker body plus `last_connection` and `notify`)."""
        await self._announce(workerid, "missing", None, last_connection=last_connection,
                             notify=notify)

    @update_method
    async def set_worker_paused(self, workerid: int, paused: bool,
                                pause_reason: str | None = None) -> None:
        """Pause or unpause the worker; announce `state_updated`."""
        with self.writing() as seq:
            await self.db.workers.set_worker_paused(workerid=workerid, paused=paused,
                                                    pause_reason=pause_reason)
            await self._announce(workerid, "state_updated", seq)

    @update_method
    async def set_worker_graceful(self, workerid: int, graceful: bool) -> None:
        """Request (or cancel) a graceful shutdown; announce `state_updated`."""
        with self.writing() as seq:
            await self.db.workers.set_worker_graceful(workerid=workerid, graceful=graceful)
            await self._announce(workerid, "state_updated", seq)

    @update_method
    async def deconfigureAllWorkersForMaster(self, masterid: int) -> None:
        """Forget which builders of master `masterid` every worker is configured for."""
        await self.db.workers.deconfigureAllWorkersForMaster(masterid=masterid)
