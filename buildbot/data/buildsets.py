"""Buildsets: the `buildsets` resource type, `addBuildset` (which creates the build requests)
and buildset completion."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    RowCache,
    take_sql_spec,
    update_method,
)
from buildbot.data.sourcestamps import sourcestamp_entity
from buildbot.db.buildsets import BuildSetModel
from buildbot.db.errors import AlreadyCompleteError
from buildbot.util.deferred import gather
from buildbot.util.results import SUCCESS, worst_status
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

log = Logger()

buildset_entity = types.Entity("buildset", {
    "bsid": types.Integer(),
    "external_idstring": types.NoneOk(types.String()),
    "reason": types.String(),
    "rebuilt_buildid": types.NoneOk(types.Integer()),
    "submitted_at": types.Integer(),
    "complete": types.Boolean(),
    "complete_at": types.NoneOk(types.Integer()),
    "results": types.NoneOk(types.Integer()),
    "sourcestamps": types.List(of=sourcestamp_entity),
    "parent_buildid": types.NoneOk(types.Integer()),
    "parent_relationship": types.NoneOk(types.String()),
})


def buildset_message(row: Any, sourcestamps: list[dict[str, Any]]) -> dict[str, Any]:
    """The `buildset` body of a db BuildSetModel and the bodies of its source stamps.

    Unlike other resources, buildsets give their times as epoch seconds (as in Buildbot
    4.3, whose `complete` message alone carries datetimes)."""
    return {
        "bsid": row.bsid,
        "external_idstring": row.external_idstring,
        "reason": row.reason,
        "submitted_at": to_epoch(row.submitted_at),
        "complete": bool(row.complete),
        "complete_at": to_epoch(row.complete_at),
        "results": row.results,
        "parent_buildid": row.parent_buildid,
        "parent_relationship": row.parent_relationship,
        "rebuilt_buildid": row.rebuilt_buildid,
        "sourcestamps": sourcestamps,
    }


def new_buildset_message(row: BuildSetModel, sourcestamps: list[dict[str, Any]],
                         scheduler: str | None) -> dict[str, Any]:
    """The `new` message of a buildset just stored: 4.3 adds the scheduler's name and
    leaves out `parent_relationship`."""
    body = buildset_message(row, sourcestamps)
    del body["parent_relationship"]
    body["scheduler"] = scheduler
    return body


class BuildsetEndpoint(Endpoint):
    """One buildset with its source stamps."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/buildsets/n:bsid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await self.db.buildsets.getBuildset(kwargs["bsid"])
        if row is None:
            return None
        return (await self.rtype.bodies([row]))[0]  # type: ignore[attr-defined]  # self.rtype is typed as the generic ResourceType; this one has the method


class BuildsetsEndpoint(Endpoint):
    """Every buildset."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "buildsets"
    pathPatterns = "/buildsets"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        complete = result_spec.popBooleanFilter("complete")
        sql = take_sql_spec(result_spec, self.db.buildsets.result_spec_fields)
        rows = await self.db.buildsets.getBuildsets(complete=complete, result_spec=sql)
        return await self.rtype.bodies(rows)  # type: ignore[attr-defined]  # self.rtype is typed as the generic ResourceType; this one has the method


class Buildset(ResourceType):
    """Buildsets (`buildset` / `buildsets`)."""

    name = "buildset"
    plural = "buildsets"
    keyField = "bsid"
    endpoints: ClassVar[list[type[Endpoint]]] = [BuildsetEndpoint, BuildsetsEndpoint]
    eventPathPatterns = "/buildsets/:bsid"
    entityType = buildset_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Buildset properties never change once stored (Buildbot caches them too).
        self.properties_cache: RowCache[int, dict[str, Any]] = RowCache(size=1024)

    async def properties(self, bsids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """`{bsid: {name: (value, source)}}` of the buildsets (missing ones read
        concurrently, once each)."""
        found: dict[int, dict[str, Any]] = {}
        missing = []
        for bsid in dict.fromkeys(bsids):
            cached = self.properties_cache.get(bsid)
            if cached is None:
                missing.append(bsid)
            else:
                found[bsid] = cached
        read = await gather(self.db.buildsets.getBuildsetProperties(b) for b in missing)
        for bsid, props in zip(missing, read):
            found[bsid] = self.properties_cache.put(bsid, props)
        return found

    async def for_build(self, bsid: int) -> tuple[dict[str, Any] | None, dict[str, Any],
                                                   dict[int, list[dict[str, Any]]]]:
        """What a build of one of the buildset's requests reads, in one transaction: the
        buildset's body (None if unknown), its properties `{name: (value, source)}` and the
        changes of each source stamp (`{ssid: [change body]}`, as
        `/sourcestamps/n:ssid/changes` gives them)."""
        row, props, changes = await self.db.buildsets.buildset_for_build(bsid)
        if row is None:
            return None, {}, {}
        props = self.properties_cache.put(bsid, props)
        body = (await self.bodies([row]))[0]
        ssids = list(changes)
        change_bodies = await self.connector.rtypes.change.bodies([changes[s] for s in ssids])
        by_ssid = dict(zip(ssids, change_bodies))
        return body, props, {ssid: [by_ssid[ssid]] if ssid in by_ssid else []
                             for ssid in row.sourcestamps}

    async def bodies(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """Bodies of many buildsets; their source stamps are read once each."""
        stamps = await self.connector.rtypes.sourcestamp.bodies(
            [s for r in rows for s in r.sourcestamps])
        by_id = {s["ssid"]: s for s in stamps}
        return [buildset_message(r, [by_id[s] for s in r.sourcestamps if s in by_id])
                for r in rows]

    @update_method
    async def addBuildset(
        self,
        waited_for: bool,
        scheduler: str | None = None,
        sourcestamps: Sequence[int | dict[str, Any]] | None = None,
        reason: str = "",
        properties: dict[str, Any] | None = None,
        builderids: Sequence[int] | None = None,
        external_idstring: str | None = None,
        rebuilt_buildid: int | None = None,
        parent_buildid: int | None = None,
        parent_relationship: str | None = None,
        priority: int = 0,
    ) -> tuple[int, dict[int, int]]:
        """Store a buildset and one build request per builder, let the process layer
        collapse requests, then announce the buildset `new` and each request `new`.
        A buildset without builders completes at once. Returns (bsid, {builderid: brid})."""
        stamps = list(sourcestamps or [])
        builderids = list(builderids or [])
        submitted_at = self.now()
        with self.writing() as seq:
            bsid, brids, ssids = await self.db.buildsets.add_buildset_with_stamps(
                sourcestamps=stamps, reason=reason, properties=dict(properties or {}),
                builderids=builderids, waited_for=waited_for,
                external_idstring=external_idstring, submitted_at=submitted_at,
                rebuilt_buildid=rebuilt_buildid, parent_buildid=parent_buildid,
                parent_relationship=parent_relationship, priority=priority)
            collapser = self.connector.buildrequest_collapser
            if collapser is not None and brids:
                await collapser(list(brids.values()))
            br_type = self.connector.rtypes.buildrequest
            # Read back after the collapser, which may have completed some of them.
            br_rows = await br_type.rows(list(brids.values()))
            ss_bodies = await self.connector.rtypes.sourcestamp.bodies(ssids)
            # Buildbot 4.3 announces the buildset first: its requests' `new` messages wait
            # for a read of each request.
            stored = BuildSetModel(
                bsid=bsid, external_idstring=external_idstring, reason=reason,
                submitted_at=to_datetime(submitted_at), parent_buildid=parent_buildid,
                parent_relationship=parent_relationship, rebuilt_buildid=rebuilt_buildid,
                sourcestamps=ssids)
            self.produceEvent(new_buildset_message(stored, ss_bodies, scheduler), "new", seq)
            br_type.announce(br_rows, "new", seq)
        log.info("added buildset {bsid} to database", bsid=bsid)
        if not builderids:
            await self.maybeBuildsetComplete(bsid)
        return bsid, brids

    @update_method
    async def maybeBuildsetComplete(self, bsid: int) -> None:
        """Complete the buildset if all its requests are complete: results = worst of the
        requests' results (starting from SUCCESS); announce `complete`."""
        requests = await self.db.buildrequests.getBuildRequests(bsid=bsid)
        if any(not r.complete for r in requests):
            return
        results: int = SUCCESS
        for r in requests:
            results = worst_status(results, r.results) or SUCCESS
        row = await self.db.buildsets.getBuildset(bsid)
        if row is None or row.complete:
            return
        complete_at = self.now()
        with self.writing() as seq:
            try:
                await self.db.buildsets.completeBuildset(bsid, results, complete_at=complete_at)
            except AlreadyCompleteError:
                return
            await self._announce_complete(dataclasses.replace(
                row, complete=True, complete_at=to_datetime(complete_at), results=results), seq)

    async def announce_complete(self, done: BuildSetModel) -> None:
        """Announce `complete` for a buildset completed (and stored) by another update."""
        with self.writing() as seq:
            await self._announce_complete(done, seq)

    async def _announce_complete(self, done: BuildSetModel, seq: int) -> None:
        stamps = await self.connector.rtypes.sourcestamp.bodies(list(done.sourcestamps))
        # 4.3's `complete` message alone gives the times as datetimes.
        self.produceEvent({**buildset_message(done, stamps), "submitted_at": done.submitted_at,
                           "complete_at": done.complete_at}, "complete", seq)
