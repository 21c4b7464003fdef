"""Build requests: the `buildrequests` resource type, its control actions (cancel,
set_priority) and the claim/unclaim/complete updates."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    control_reason,
    filter_properties,
    take_sql_spec,
    update_method,
)
from buildbot.data.exceptions import (
    ControlParamsError,
    InvalidControlException,
    InvalidPathError,
)
from buildbot.db.errors import AlreadyClaimedError, NotClaimedError
from buildbot.util.deferred import gather
from buildbot.util.results import CANCELLED, RETRY
from buildbot.util.resultspec import Filter, ResultSpec

buildrequest_entity = types.Entity("buildrequest", {
    "buildrequestid": types.Integer(),
    "buildsetid": types.Integer(),
    "builderid": types.Integer(),
    "priority": types.Integer(),
    "claimed": types.Boolean(),
    "claimed_at": types.NoneOk(types.DateTime()),
    "claimed_by_masterid": types.NoneOk(types.Integer()),
    "complete": types.Boolean(),
    "results": types.NoneOk(types.Integer()),
    "submitted_at": types.DateTime(),
    "complete_at": types.NoneOk(types.DateTime()),
    "waited_for": types.Boolean(),
    "properties": types.NoneOk(types.SourcedProperties()),
})


def buildrequest_message(row: Any, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `buildrequest` body of a db BuildRequestModel (`properties`: the buildset's,
    only when asked for)."""
    return {
        "buildrequestid": row.buildrequestid,
        "buildsetid": row.buildsetid,
        "builderid": row.builderid,
        "priority": row.priority,
        "claimed": row.claimed_at is not None,
        "claimed_at": row.claimed_at,
        "claimed_by_masterid": row.claimed_by_masterid,
        "complete": bool(row.complete),
        "results": row.results,
        "submitted_at": row.submitted_at,
        "complete_at": row.complete_at,
        "waited_for": bool(row.waited_for),
        "properties": properties,
    }


async def buildrequest_bodies(connector: Any, rows: Sequence[Any],
                              wanted_props: list[str] | None) -> list[dict[str, Any]]:
    """Bodies of many requests; with `wanted_props`, each buildset's properties are read
    once."""
    if not wanted_props:
        return [buildrequest_message(r) for r in rows]
    props = await connector.rtypes.buildset.properties([r.buildsetid for r in rows])
    return [buildrequest_message(r, filter_properties(props[r.buildsetid], wanted_props))
            for r in rows]


class BuildRequestEndpoint(Endpoint):
    """One build request; actions `cancel` and `set_priority`."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/buildrequests/n:buildrequestid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.buildrequests.getBuildRequest(kwargs["buildrequestid"])
        if row is None:
            return None
        return (await buildrequest_bodies(self.connector, [row],
                                    result_spec.popProperties()))[0]

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        brid = kwargs["buildrequestid"]
        if action not in ("cancel", "set_priority"):
            # Buildbot 4.3 raises a ValueError here (HTTP 500) (docs/differences.md).
            raise InvalidControlException(f"action: {action} is not supported")
        if await self.db.buildrequests.getBuildRequest(brid) is None:
            raise InvalidPathError("build request not found")  # (4.3: 200, result null)
        if action == "cancel":
            self.rtype.produce(("control", "buildrequests", str(brid), "cancel"),
                               {"reason": control_reason(args)})
            return None
        if action == "set_priority":
            priority = args.get("priority")
            try:
                priority = int(priority)  # type: ignore[arg-type]  # checked just here
            except (TypeError, ValueError):
                raise ControlParamsError({"priority": "an integer is required"}) from None
            if not -MAX_PRIORITY <= priority <= MAX_PRIORITY:  # (4.3: 500 from the driver)
                raise ControlParamsError({"priority": f"must be between {-MAX_PRIORITY} "
                                                      f"and {MAX_PRIORITY}"})
            try:
                await self.db.buildrequests.set_build_requests_priority(
                    brids=[brid], priority=priority)
            except NotClaimedError:
                pass  # complete requests keep their priority
        return None


# The priority column is a plain INTEGER (32 bits on PostgreSQL and MySQL).
MAX_PRIORITY = 2**31 - 1


class BuildRequestsEndpoint(Endpoint):
    """Build requests, all or of one builder."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "buildrequests"
    pathPatterns = """
        /buildrequests
        /builders/n:builderid/buildrequests
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        complete = result_spec.popBooleanFilter("complete")
        claimed: bool | int | None
        by_master = result_spec.popOneFilter("claimed_by_masterid", "eq")
        if by_master:
            claimed = int(by_master)
        else:
            claimed = result_spec.popBooleanFilter("claimed")
        bsid = result_spec.popOneFilter("buildsetid", "eq")
        sql = take_sql_spec(result_spec, self.db.buildrequests.result_spec_fields)
        rows = await self.db.buildrequests.getBuildRequests(
            builderid=kwargs.get("builderid"), complete=complete, claimed=claimed, bsid=bsid,
            result_spec=sql)
        return await buildrequest_bodies(self.connector, rows, result_spec.popProperties())


class BuildRequest(ResourceType):
    """Build requests (`buildrequest` / `buildrequests`)."""

    name = "buildrequest"
    plural = "buildrequests"
    keyField = "buildrequestid"
    endpoints: ClassVar[list[type[Endpoint]]] = [BuildRequestEndpoint, BuildRequestsEndpoint]
    eventPathPatterns = """
        /buildsets/:buildsetid/builders/:builderid/buildrequests/:buildrequestid
        /buildrequests/:buildrequestid
        /builders/:builderid/buildrequests/:buildrequestid
    """
    stateEvents = frozenset({"new", "claimed", "unclaimed", "complete"})
    entityType = buildrequest_entity

    async def rows(self, brids: Sequence[int]) -> list[Any]:
        """The rows of `brids`, in that order, in one query."""
        if not brids:
            return []
        found = await self.db.buildrequests.getBuildRequests(result_spec=ResultSpec(
            filters=[Filter("buildrequestid", "in", list(brids))]))
        by_id = {r.buildrequestid: r for r in found}
        return [by_id[b] for b in brids if b in by_id]

    async def unclaimed_keys(self) -> list[tuple[int, int, int, int]]:
        """(builderid, buildrequestid, priority, submitted_at epoch seconds) of every
        incomplete, unclaimed request: one narrow query (the distributor's view)."""
        keys: list[tuple[int, int, int, int]] = await self.db.buildrequests.unclaimed_keys()
        return keys

    def announce(self, rows: Iterable[Any], event: str, seq: int | None) -> None:
        """Announce each request as `event`."""
        for row in rows:
            self.produceEvent(buildrequest_message(row), event, seq)

    @update_method
    async def claimBuildRequests(self, brids: Sequence[int],
                                 claimed_at: int | datetime.datetime | None = None) -> bool:
        """Claim every request for this master, or none: False if one is claimed already.
        Announces `claimed` for each. `claimed_at`: epoch seconds or a datetime (4.3)."""
        if not brids:
            return True
        with self.writing() as seq:
            try:
                # the claim and the read of the claimed rows: one transaction
                rows = await self.db.buildrequests.claim_and_read(
                    list(brids), claimed_at=claimed_at if claimed_at is not None else self.now())
            except AlreadyClaimedError:
                return False
            self.announce(rows, "claimed", seq)
        return True

    @update_method
    async def claim_most_urgent(self, builderid: int, count: int = 1, lookahead: int = 0,
                                claimed_at: int | datetime.datetime | None = None,
                                skip: Sequence[int] = ()
                                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """Claim for this master up to `count` of the builder's unclaimed requests, the most
        urgent first (highest priority, then oldest), skipping those other masters claim
        meanwhile, and read the next `lookahead` unclaimed ones: one transaction. Announces
        `claimed` for each claimed request.

        Returns (claimed requests, next unclaimed requests, whether those are all the
        builder's unclaimed requests besides those in `skip`), as data API dicts."""
        with self.writing() as seq:
            got = await self.db.buildrequests.claim_most_urgent(
                builderid, count=count, lookahead=lookahead,
                claimed_at=claimed_at if claimed_at is not None else self.now(), skip=skip)
            self.announce(got.claimed, "claimed", seq)
        return ([buildrequest_message(r) for r in got.claimed],
                [buildrequest_message(r) for r in got.unclaimed], got.complete)

    @update_method
    async def unclaimBuildRequests(self, brids: Sequence[int]) -> None:
        """Release this master's claims on the requests; announces `unclaimed` for each."""
        if not brids:
            return
        with self.writing() as seq:
            await self.db.buildrequests.unclaimBuildRequests(list(brids))
            self.announce(await self.rows(brids), "unclaimed", seq)

    @update_method
    async def completeBuildRequests(self, brids: Sequence[int], results: int,
                                    complete_at: int | datetime.datetime | None = None) -> bool:
        """Complete the requests with `results` (never RETRY); announces `complete` for each,
        then completes their buildsets if nothing else is pending. False (and nothing done)
        if one is complete already. `complete_at`: epoch seconds or a datetime (4.3)."""
        if results == RETRY:
            raise ValueError("a build request cannot be completed with a retry status")
        if not brids:
            return True
        with self.writing() as seq:
            try:
                # The requests, and the buildsets they complete, in one transaction; the
                # announcements keep their order (requests first, then each buildset).
                rows, buildsets = await self.db.buildrequests.complete_with_buildsets(
                    list(brids), results,
                    complete_at=complete_at if complete_at is not None else self.now())
            except NotClaimedError:
                return False
            self.announce(rows, "complete", seq)
        for done in buildsets:
            await self.connector.rtypes.buildset.announce_complete(done)
        return True

    @update_method
    async def cancelUnclaimedBuildRequest(self, brid: int) -> bool:
        """Cancel a request no build has claimed yet: claim it for this master (without a
        `claimed` message), complete it CANCELLED (maybe completing its buildset), then
        announce `('buildrequests', brid, 'cancel')` with the request as body.

        False, doing nothing, when the request is claimed already (the caller then stops
        its builds)."""
        try:
            await self.db.buildrequests.claimBuildRequests([brid], claimed_at=self.now())
        except AlreadyClaimedError:
            return False
        await self.completeBuildRequests([brid], CANCELLED)
        rows = await self.rows([brid])
        if rows:
            self.produce(("buildrequests", str(brid), "cancel"), buildrequest_message(rows[0]))
        return True

    @update_method
    async def rebuildBuildrequest(self, buildrequest: dict[str, Any]
                                  ) -> tuple[int, dict[int, int]]:
        """Submit the request again: a new buildset for its builder with the original
        buildset's source stamps, properties, external id and parent; `rebuilt_buildid`
        names the request's first build (or the original's own rebuilt build)."""
        bsid = buildrequest["buildsetid"]
        buildset, properties, builds = await gather([
            self.db.buildsets.getBuildset(bsid),
            self.connector.rtypes.buildset.properties([bsid]),
            self.db.builds.getBuilds(buildrequestid=buildrequest["buildrequestid"]),
        ])
        if buildset is None:
            raise ValueError(f"buildset {bsid} does not exist")
        rebuilt_buildid = buildset.rebuilt_buildid
        if builds and rebuilt_buildid is None:
            rebuilt_buildid = builds[0].id
        result: tuple[int, dict[int, int]] = await self.connector.updates.addBuildset(
            waited_for=False, scheduler="rebuild", sourcestamps=list(buildset.sourcestamps),
            reason="rebuild", properties=dict(properties[bsid]),
            builderids=[buildrequest["builderid"]],
            external_idstring=buildset.external_idstring, rebuilt_buildid=rebuilt_buildid,
            parent_buildid=buildset.parent_buildid,
            parent_relationship=buildset.parent_relationship)
        return result
