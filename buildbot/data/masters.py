"""Masters: the `masters` resource type, heartbeat updates and the housekeeping of masters
that stopped or died."""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.util.results import RETRY
from buildbot.util.resultspec import Filter, ResultSpec

log = Logger()

# Buildbot 4.3's expiry (10 minutes); ours comes from c['masterHeartbeat'] (expiry, 30 s by
# default), read through the master's config when there is one.
EXPIRE_MINUTES = 10


def expiry_seconds(master: Any) -> float:
    heartbeat = getattr(getattr(master, "config", None), "masterHeartbeat", None)
    if isinstance(heartbeat, dict) and heartbeat.get("expiry"):
        return float(heartbeat["expiry"])
    return 60.0 * EXPIRE_MINUTES

master_entity = types.Entity("master", {
    "masterid": types.Integer(),
    "name": types.String(),
    "active": types.Boolean(),
    "last_active": types.DateTime(),
})


def master_message(row: Any) -> dict[str, Any]:
    """The `master` body of a db MasterModel."""
    return {"masterid": row.id, "name": row.name, "active": row.active,
            "last_active": row.last_active}


class MasterEndpoint(Endpoint):
    """One master, optionally only if a given builder is attached to it."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /masters/n:masterid
        /builders/n:builderid/masters/n:masterid
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "builderid" in kwargs:
            builder = await self.db.builders.getBuilder(kwargs["builderid"])
            if builder is None or kwargs["masterid"] not in builder.masterids:
                return None
        row = await self.db.masters.getMaster(kwargs["masterid"])
        return master_message(row) if row is not None else None


class MastersEndpoint(Endpoint):
    """Masters, all or those a builder is attached to."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "masters"
    pathPatterns = """
        /masters
        /builders/n:builderid/masters
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "builderid" in kwargs:
            builder = await self.db.builders.getBuilder(kwargs["builderid"])
            if builder is None or not builder.masterids:
                return []
            result_spec.filters.insert(0, Filter("masterid", "in", list(builder.masterids)))
        sql = take_sql_spec(result_spec, self.db.masters.result_spec_fields)
        rows = await self.db.masters.getMasters(result_spec=sql)
        return [master_message(r) for r in rows]


class Master(ResourceType):
    """Masters (`master` / `masters`)."""

    name = "master"
    plural = "masters"
    keyField = "masterid"
    endpoints: ClassVar[list[type[Endpoint]]] = [MasterEndpoint, MastersEndpoint]
    eventPathPatterns = "/masters/:masterid"
    entityType = master_entity

    @update_method
    async def findMasterId(self, name: str) -> int:
        """The id of the master called `name` (`hostname:basedir`), created inactive if
        new."""
        return int(await self.db.masters.findMasterId(name))

    @update_method
    async def masterActive(self, name: str, masterid: int) -> None:
        """Heartbeat: mark the master active now; announce `started` if it was not."""
        with self.writing() as seq:
            activated = await self.db.masters.setMasterState(masterid=masterid, active=True)
            if activated:
                self.produceEvent({"masterid": masterid, "name": name, "active": True},
                                  "started", seq)

    @update_method
    async def masterCheckIn(self, name: str, masterid: int) -> bool:
        """Heartbeat of a running master: refresh its `last_active`. False if another master
        has expired it meanwhile: the caller is fenced and must stop taking work."""
        return bool(await self.db.masters.checkIn(masterid))

    @update_method
    async def masterStopped(self, name: str, masterid: int) -> None:
        """The master stops: mark it inactive and release everything it held."""
        deactivated = await self.db.masters.setMasterState(masterid=masterid, active=False)
        if deactivated:
            await self._masterDeactivated(masterid, name)

    @update_method
    async def expireMasters(self, forceHouseKeeping: bool = False) -> list[int]:
        """Deactivate (and clean up after) every master silent for longer than the expiry
        (`c['masterHeartbeat']['expiry']`); with `forceHouseKeeping` (at start-up) also clean
        up after masters already inactive. Returns the ids of the masters marked active
        afterwards (one query reads them all)."""
        too_old = self.clock.seconds() - expiry_seconds(self.master)
        every = await self.db.masters.getMasters()
        active = [m.id for m in every if m.active]
        for m in every:
            if m.last_active.timestamp() >= too_old:
                continue
            deactivated = await self.db.masters.setMasterState(masterid=m.id, active=False)
            if deactivated:
                log.info("master {masterid} {name} silent since {when}: expired",
                         masterid=m.id, name=m.name, when=m.last_active.isoformat())
                active.remove(m.id)
                await self._masterDeactivated(m.id, m.name)
            elif forceHouseKeeping:
                await self._masterDeactivatedHousekeeping(m.id, m.name)
        # a master back from the dead speaks for itself again
        taken_over = getattr(self.connector, "taken_over", None)
        if taken_over:
            taken_over.difference_update(active)
        return active

    async def _masterDeactivated(self, masterid: int, name: str) -> None:
        await self._masterDeactivatedHousekeeping(masterid, name)
        self.produceEvent({"masterid": masterid, "name": name, "active": False}, "stopped")

    async def _masterDeactivatedHousekeeping(self, masterid: int, name: str) -> None:
        """Release what master `masterid` held: configured workers, builders, schedulers,
        change sources; finish its running builds with RETRY; release its claims."""
        log.info("doing housekeeping for master {masterid} {name}", masterid=masterid,
                 name=name)
        updates = self.connector.updates
        # This master now speaks for the dead one: its reporters report the RETRY ends
        # below (and any later event of its builds), which nobody else does.
        taken_over: set[int] = vars(self.connector).setdefault("taken_over", set())
        taken_over.add(masterid)
        await updates.deconfigureAllWorkersForMaster(masterid)
        await updates.updateBuilderList(masterid, [])
        await self.connector.rtypes.scheduler._masterDeactivated(masterid)
        await self.connector.rtypes.changesource._masterDeactivated(masterid)

        running = await self.db.builds.getBuilds(complete=False, result_spec=ResultSpec(
            filters=[Filter("masterid", "eq", [masterid])]))
        for build in running:
            steps = await self.db.steps.getSteps(buildid=build.id)
            for step in steps:
                if step.results is not None:
                    continue
                logs = await self.db.logs.getLogs(stepid=step.id)
                for lg in logs:
                    if not lg.complete:
                        await updates.finishLog(logid=lg.id)
                await updates.finishStep(stepid=step.id, results=RETRY, hidden=False)
            await updates.finishBuild(buildid=build.id, results=RETRY)

        # Buildbot 4.3 releases these only when `masterid` is the local master (its unclaim
        # deletes the local master's claims); we release the dead master's claims, so that
        # its requests can run elsewhere (docs/differences.md).
        claimed = await self.db.buildrequests.getBuildRequests(complete=False, claimed=masterid)
        if claimed:
            brids = [br.buildrequestid for br in claimed]
            await self.db.buildrequests.unclaimBuildRequests(brids, masterid=masterid)
            # announced, so that every master running these builders looks at once
            rtype = self.connector.rtypes.buildrequest
            rtype.announce(await rtype.rows(brids), "unclaimed", None)


async def master_bodies(db: Any, masterids: Any) -> dict[int, dict[str, Any]]:
    """Bodies of the masters `masterids` (None entries ignored), by id, in one query."""
    ids = sorted({m for m in masterids if m is not None})
    if not ids:
        return {}
    rows = await db.masters.getMasters(
        result_spec=ResultSpec(filters=[Filter("masterid", "in", ids)]))
    return {r.id: master_message(r) for r in rows}
