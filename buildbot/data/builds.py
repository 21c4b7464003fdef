"""Builds: the `builds` resource type, its control actions (stop, rebuild) and the updates
the process layer reports a build's life through."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    RowCache,
    control_reason,
    filter_properties,
    take_sql_spec,
    update_method,
)
from buildbot.data.exceptions import InvalidPathError
from buildbot.data.nesting import NestedLookup
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

build_entity = types.Entity("build", {
    "buildid": types.Integer(),
    "number": types.Integer(),
    "builderid": types.Integer(),
    "buildrequestid": types.Integer(),
    "workerid": types.Integer(),
    "masterid": types.Integer(),
    "started_at": types.DateTime(),
    "complete": types.Boolean(),
    "complete_at": types.NoneOk(types.DateTime()),
    "locks_duration_s": types.Integer(),
    "results": types.NoneOk(types.Integer()),
    "state_string": types.String(),
    "properties": types.NoneOk(types.SourcedProperties()),
})


def build_message(row: Any, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `build` body of a db BuildModel (`properties` only when asked for)."""
    return {
        "buildid": row.id,
        "number": row.number,
        "builderid": row.builderid,
        "buildrequestid": row.buildrequestid,
        "workerid": row.workerid,
        "masterid": row.masterid,
        "started_at": row.started_at,
        "complete_at": row.complete_at,
        "locks_duration_s": row.locks_duration_s,
        "complete": row.complete_at is not None,
        "state_string": row.state_string,
        "results": row.results,
        "properties": properties or {},
    }


async def build_bodies(db: Any, rows: Sequence[Any], wanted_props: list[str] | None
                       ) -> list[dict[str, Any]]:
    """Bodies of many builds, with the wanted properties (read in one query)."""
    if not wanted_props or not rows:
        return [build_message(r) for r in rows]
    props = await db.builds.get_builds_properties([r.id for r in rows])
    return [build_message(r, filter_properties(props.get(r.id, {}), wanted_props))
            for r in rows]


class BuildEndpoint(Endpoint):
    """One build, by id or by builder and number; actions `stop` and `rebuild`."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /builds/n:buildid
        /builders/n:builderid/builds/n:build_number
        /builders/s:buildername/builds/n:build_number
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await NestedLookup(self.db, kwargs).build()
        if row is None:
            return None
        wanted = result_spec.popProperties()
        return (await build_bodies(self.db, [row], wanted))[0]

    async def control(self, action: str, args: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        if action == "stop":
            # The row is read even for /builds/<id>: an unknown build is a 404 (Buildbot
            # 4.3 answers 200 and sends a stop nobody receives).
            row = await NestedLookup(self.db, kwargs).build()
            if row is None:
                raise InvalidPathError("build not found")
            self.rtype.produce(("control", "builds", str(row.id), "stop"),
                               {"reason": control_reason(args, kwargs)})
            return None
        if action == "rebuild":
            row = await NestedLookup(self.db, kwargs).build()
            if row is None:
                raise InvalidPathError("build not found")
            buildrequest = await self.connector.get(("buildrequests", row.buildrequestid))
            if buildrequest is None:
                raise InvalidPathError("build request not found")
            return await self.connector.updates.rebuildBuildrequest(buildrequest)
        return await super().control(action, args, kwargs)


class BuildTriggeredBuildsEndpoint(Endpoint):
    """The builds triggered by a build (of buildsets it parents)."""

    kind = EndpointKind.COLLECTION
    pathPatterns = "/builds/n:buildid/triggered_builds"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        rows = await self.db.builds.get_triggered_builds(kwargs["buildid"])
        return [build_message(r) for r in rows]


class BuildsEndpoint(Endpoint):
    """Builds: all, or of a builder, request, change or worker."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "builds"
    pathPatterns = """
        /builds
        /builders/n:builderid/builds
        /builders/s:buildername/builds
        /buildrequests/n:buildrequestid/builds
        /changes/n:changeid/builds
        /workers/n:workerid/builds
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "changeid" in kwargs:
            rows = await self.db.builds.getBuildsForChange(kwargs["changeid"])
        else:
            builderid = None
            if "builderid" in kwargs or "buildername" in kwargs:
                builderid = await NestedLookup(self.db, kwargs).builder_id()
                if builderid is None:
                    return []
            complete = result_spec.popBooleanFilter("complete")
            buildrequestid = result_spec.popIntegerFilter("buildrequestid")
            sql = take_sql_spec(result_spec, self.db.builds.result_spec_fields)
            rows = await self.db.builds.getBuilds(
                builderid=builderid,
                buildrequestid=kwargs.get("buildrequestid", buildrequestid),
                workerid=kwargs.get("workerid"), complete=complete, result_spec=sql)
        return await build_bodies(self.db, rows, result_spec.popProperties())


class Build(ResourceType):
    """Builds (`build` / `builds`)."""

    name = "build"
    plural = "builds"
    keyField = "buildid"
    endpoints: ClassVar[list[type[Endpoint]]] = [
        BuildEndpoint, BuildsEndpoint, BuildTriggeredBuildsEndpoint]
    eventPathPatterns = """
        /builders/:builderid/builds/:number
        /builds/:buildid
        /workers/:workerid/builds/:buildid
    """
    stateEvents = frozenset({"new", "update", "finished"})
    entityType = build_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Rows of builds this master runs: an update is announced from the row as updated,
        # without reading it back.
        self.live: RowCache[int, Any] = RowCache()
        # {buildid: state string} stored ahead of its announcement by a neighbouring write
        # (`setBuildStateString` with that text then only announces it).
        self.state_ahead: dict[int, str] = {}

    async def _row(self, buildid: int) -> Any:
        row = self.live.get(buildid)
        if row is None:
            row = await self.db.builds.getBuild(buildid)
            if row is not None:
                self.live.put(buildid, row)
        return row

    def _announce(self, row: Any, event: str, seq: int | None) -> None:
        if row is not None:
            self.produceEvent(build_message(row), event, seq)

    @update_method
    async def addBuild(self, builderid: int, buildrequestid: int,
                       workerid: int | None) -> tuple[int, int]:
        """Store a new build (state `created`) run by this master; announces nothing
        (the process layer calls `generateNewBuildEvent`). Returns (buildid, number)."""
        return await self.add_build_with_started_step(builderid, buildrequestid, workerid)

    @update_method
    async def add_build_with_started_step(self, builderid: int, buildrequestid: int,
                                          workerid: int | None, step_name: str | None = None
                                          ) -> tuple[int, int]:
        """`addBuild`; with `step_name`, the build's first step is stored with it, started
        and holding its locks, not announced: `add_started_step` of that name (with
        `locks_acquired`) then announces it. Returns (buildid, number)."""
        row, stepid = await self.db.builds.add_build_row_with_step(
            builderid=builderid, buildrequestid=buildrequestid, workerid=workerid,
            masterid=self.master.masterid, state_string="created", step_name=step_name)
        # The new row is known whole: `generateNewBuildEvent` and the updates announce it
        # from here, and its properties start empty (no read before the first store).
        self.live.put(row.id, row)
        self.connector.rtypes.property.build_created(row.id)
        if stepid is not None and step_name is not None:
            self.connector.rtypes.step.steps_ahead[row.id] = (
                step_name, stepid, to_epoch(row.started_at))
        return row.id, row.number

    @update_method
    async def generateNewBuildEvent(self, buildid: int) -> None:
        """Announce the build as `new`."""
        with self.writing() as seq:
            self._announce(await self._row(buildid), "new", seq)

    async def _updated(self, buildid: int, event: str, seq: int,
                       change: Any = None) -> None:
        """Announce the build with `change(row)` applied to its cached row, or as read back
        when not cached (the cache is consulted after the write, which may have waited)."""
        cached = self.live.get(buildid)
        if cached is not None and change is not None:
            row = self.live.put(buildid, change(cached))
        else:
            row = await self._row(buildid)
        self._announce(row, event, seq)

    @update_method
    async def setBuildStateString(self, buildid: int, state_string: str) -> None:
        """Set the build's state text; announce `update`."""
        with self.writing() as seq:
            if self.state_ahead.pop(buildid, None) != state_string:  # else stored already
                await self.db.builds.setBuildStateString(buildid=buildid,
                                                         state_string=state_string)
            await self._updated(buildid, "update", seq,
                                lambda r: dataclasses.replace(r, state_string=state_string))

    @update_method
    async def set_build_properties_and_state(self, buildid: int, properties: Any,
                                             state_string: str,
                                             state_ahead: str | None = None,
                                             properties_ahead: Any = None) -> None:
        """`setBuildProperties` then `setBuildStateString` stored in one transaction and
        announced as both are (the changed properties, then the build's `update`). With
        `state_ahead`, that text is stored instead, the build's next one, expected soon
        and announced by `setBuildStateString` (or replaced by another, or its end). With
        `properties_ahead` (the build's next properties, a superset), those are stored
        and only `properties` announced: the next call storing exactly what was stored
        ahead (properties and state string) then only announces."""
        props = self.connector.rtypes.property
        with self.writing() as seq:
            stored, changed = await props.changed_properties(buildid, properties)
            ahead = props.ahead.pop(buildid, None)
            db_state = state_ahead or state_string
            if (ahead is not None and ahead == changed
                    and self.state_ahead.get(buildid) == db_state):
                pass  # all stored by the previous call
            else:
                to_store = changed
                if properties_ahead is not None:
                    _, to_store = await props.changed_properties(buildid, properties_ahead)
                await self.db.builds.set_properties_and_state(buildid, to_store, db_state)
                if properties_ahead is not None:
                    props.ahead[buildid] = {k: v for k, v in to_store.items()
                                            if changed.get(k) != v}
            if db_state != state_string:
                self.state_ahead[buildid] = db_state
            else:
                self.state_ahead.pop(buildid, None)
            props.stored(buildid, stored, changed, seq)
            await self._updated(buildid, "update", seq,
                                lambda r: dataclasses.replace(r, state_string=state_string))

    @update_method
    async def add_build_locks_duration(self, buildid: int, duration_s: int) -> None:
        """Add `duration_s` seconds to the time the build waited for locks."""
        with self.writing() as seq:
            await self.db.builds.add_build_locks_duration(buildid=buildid,
                                                          duration_s=duration_s)
            await self._updated(buildid, "update", seq, lambda r: dataclasses.replace(
                r, locks_duration_s=(r.locks_duration_s or 0) + duration_s))

    @update_method
    async def finishBuild(self, buildid: int, results: int,
                          state_string: str | None = None) -> None:
        """Mark the build complete now with `results`; announce `finished` (preceded by
        `update` when the extension argument `state_string` is given: both are stored in
        one transaction)."""
        now = self.now()
        stored_state = state_string
        if stored_state is None and buildid in self.state_ahead:
            # A text stored ahead and never announced: the last one announced stays.
            announced = self.live.get(buildid)
            stored_state = announced.state_string if announced is not None else None
        with self.writing() as seq:
            await self.db.builds.finishBuild(buildid=buildid, results=results, complete_at=now,
                                             state_string=stored_state)
            self.state_ahead.pop(buildid, None)
            self.connector.rtypes.property.ahead.pop(buildid, None)
            cached = self.live.get(buildid)
            self.live.drop(buildid)
            if cached is None:
                self._announce(await self.db.builds.getBuild(buildid), "finished", seq)
                return
            if state_string is not None:
                cached = dataclasses.replace(cached, state_string=state_string)
                self._announce(cached, "update", seq)
            self._announce(dataclasses.replace(cached, complete_at=to_datetime(now),
                                               results=results),
                           "finished", seq)
