"""Schedulers: the `schedulers` resource type, its `enable` action and the updates through
which clustered schedulers claim their master."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.data.exceptions import (
    ControlParamsError,
    InvalidControlException,
    InvalidPathError,
)
from buildbot.data.masters import master_bodies, master_entity
from buildbot.db.errors import SchedulerAlreadyClaimedError
from buildbot.util.resultspec import ResultSpec

scheduler_entity = types.Entity("scheduler", {
    "schedulerid": types.Integer(),
    "name": types.String(),
    "enabled": types.Boolean(),
    "master": types.NoneOk(master_entity),
})


def scheduler_message(row: Any, master: dict[str, Any] | None) -> dict[str, Any]:
    """The `scheduler` body of a db SchedulerModel and its master's body."""
    return {"schedulerid": row.id, "name": row.name, "enabled": bool(row.enabled),
            "master": master}


async def scheduler_bodies(db: Any, rows: Sequence[Any]) -> list[dict[str, Any]]:
    masters = await master_bodies(db, (r.masterid for r in rows))
    return [scheduler_message(r, masters.get(r.masterid)) for r in rows]


class SchedulerEndpoint(Endpoint):
    """One scheduler, optionally only if a given master owns it; action `enable`."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /schedulers/n:schedulerid
        /masters/n:masterid/schedulers/n:schedulerid
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.schedulers.getScheduler(kwargs["schedulerid"])
        # (Buildbot 4.3 fails with 500 for an unknown id under /masters/n.)
        if row is None or ("masterid" in kwargs and row.masterid != kwargs["masterid"]):
            return None
        return (await scheduler_bodies(self.db, [row]))[0]

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        # Buildbot 4.3 accepts any other action and does nothing, and enables unknown
        # ids (docs/differences.md).
        if action != "enable":
            raise InvalidControlException(f"action: {action} is not supported")
        enabled = args.get("enabled")
        if enabled not in (True, False):  # (0 and 1 compare equal to them: accepted)
            raise ControlParamsError({"enabled": "true or false is required"})
        if await self.db.schedulers.getScheduler(kwargs["schedulerid"]) is None:
            raise InvalidPathError("scheduler not found")
        await self.connector.updates.schedulerEnable(kwargs["schedulerid"], bool(enabled))
        return None


class SchedulersEndpoint(Endpoint):
    """Schedulers, all or those a master owns."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "schedulers"
    pathPatterns = """
        /schedulers
        /masters/n:masterid/schedulers
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        rows = await self.db.schedulers.getSchedulers(masterid=kwargs.get("masterid"))
        return await scheduler_bodies(self.db, rows)


class Scheduler(ResourceType):
    """Schedulers (`scheduler` / `schedulers`)."""

    name = "scheduler"
    plural = "schedulers"
    keyField = "schedulerid"
    endpoints: ClassVar[list[type[Endpoint]]] = [SchedulerEndpoint, SchedulersEndpoint]
    eventPathPatterns = "/schedulers/:schedulerid"
    stateEvents = frozenset({"updated"})
    entityType = scheduler_entity

    @update_method
    async def schedulerEnable(self, schedulerid: int, v: bool) -> None:
        """Enable or disable the scheduler; announce `updated`."""
        with self.writing() as seq:
            await self.db.schedulers.enable(schedulerid, v)
            row = await self.db.schedulers.getScheduler(schedulerid)
            if row is not None:
                self.produceEvent((await scheduler_bodies(self.db, [row]))[0], "updated", seq)

    @update_method
    async def findSchedulerId(self, name: str) -> int:
        """The id of the scheduler called `name`, created if new."""
        return int(await self.db.schedulers.findSchedulerId(name))

    @update_method
    async def trySetSchedulerMaster(self, schedulerid: int, masterid: int | None) -> bool:
        """Make `masterid` the owner (None releases it); False if another master owns it."""
        try:
            await self.db.schedulers.setSchedulerMaster(schedulerid, masterid)
        except SchedulerAlreadyClaimedError:
            return False
        return True

    async def _masterDeactivated(self, masterid: int) -> None:
        """Release the schedulers owned by master `masterid`."""
        for row in await self.db.schedulers.getSchedulers(masterid=masterid):
            await self.db.schedulers.setSchedulerMaster(row.id, None)
