"""Build data: named binary values attached to a build (`BUILD/data`), listed without their
value and downloaded raw (`BUILD/data/i:name/value`)."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.data.nesting import NestedLookup
from buildbot.util.resultspec import ResultSpec

build_data_entity = types.Entity("build_data", {
    "buildid": types.Integer(),
    "name": types.String(),
    "length": types.Integer(),
    "value": types.NoneOk(types.Binary()),
    "source": types.String(),
})

_BUILD_SELECTORS = [
    "/builders/n:builderid/builds/n:build_number",
    "/builders/s:buildername/builds/n:build_number",
    "/builds/n:buildid",
]


def build_data_message(row: Any) -> dict[str, Any]:
    """The `build_data` body of a db BuildDataModel (`value` None unless read with it)."""
    return {"buildid": row.buildid, "name": row.name, "value": row.value,
            "length": row.length, "source": row.source}


class BuildDatasNoValueEndpoint(Endpoint):
    """The build's data items, without their values."""

    kind = EndpointKind.COLLECTION
    pathPatterns = " ".join(p + "/data" for p in _BUILD_SELECTORS)

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        buildid = await NestedLookup(self.db, kwargs).build_id()
        if buildid is None:
            return []
        rows = await self.db.build_data.getAllBuildDataNoValues(buildid)
        return [build_data_message(r) for r in rows]


class BuildDataNoValueEndpoint(Endpoint):
    """One data item of a build, without its value."""

    kind = EndpointKind.SINGLE
    pathPatterns = " ".join(p + "/data/i:name" for p in _BUILD_SELECTORS)

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        buildid = await NestedLookup(self.db, kwargs).build_id()
        if buildid is None:
            return None
        row = await self.db.build_data.getBuildDataNoValue(buildid, kwargs["name"])
        return build_data_message(row) if row is not None else None


class BuildDataEndpoint(Endpoint):
    """The raw value of one data item of a build (a download)."""

    kind = EndpointKind.RAW
    pathPatterns = " ".join(p + "/data/i:name/value" for p in _BUILD_SELECTORS)

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        buildid = await NestedLookup(self.db, kwargs).build_id()
        if buildid is None:
            return None
        row = await self.db.build_data.getBuildData(buildid, kwargs["name"])
        if row is None:
            return None
        return {"raw": row.value, "mime-type": "application/octet-stream",
                "filename": row.name}


class BuildData(ResourceType):
    """Named binary values attached to builds."""

    name = "build_data"
    plural = "build_data"
    endpoints: ClassVar[list[type[Endpoint]]] = [
        BuildDatasNoValueEndpoint, BuildDataNoValueEndpoint, BuildDataEndpoint]
    entityType = build_data_entity

    @update_method
    async def deleteOldBuildData(self, older_than_timestamp: int) -> int:
        """Delete build data of builds completed before the time; returns rows deleted."""
        return int(await self.db.build_data.deleteOldBuildData(older_than_timestamp))

    @update_method
    async def setBuildData(self, buildid: int, name: str, value: bytes, source: str) -> None:
        """Store (or replace) the build's value called `name`."""
        await self.db.build_data.setBuildData(buildid, name, value, source)
