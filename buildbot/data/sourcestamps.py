"""Source stamps: the `sourcestamps` resource type, also embedded in buildsets and changes.

Source stamps never change once stored, so their bodies are cached by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, RowCache, take_sql_spec
from buildbot.data.patches import patch_entity, patch_message
from buildbot.util.deferred import gather
from buildbot.util.resultspec import ResultSpec

sourcestamp_entity = types.Entity("sourcestamp", {
    "ssid": types.Integer(),
    "revision": types.NoneOk(types.String()),
    "branch": types.NoneOk(types.String()),
    "repository": types.String(),
    "project": types.String(),
    "codebase": types.String(),
    "patch": types.NoneOk(patch_entity),
    "created_at": types.DateTime(),
})


def sourcestamp_message(row: Any) -> dict[str, Any]:
    """The `sourcestamp` body of a db SourceStampModel."""
    return {
        "ssid": row.ssid,
        "branch": row.branch,
        "revision": row.revision,
        "project": row.project,
        "repository": row.repository,
        "codebase": row.codebase,
        "created_at": row.created_at,
        "patch": patch_message(row.patch) if row.patch is not None else None,
    }


class SourceStampEndpoint(Endpoint):
    """One source stamp."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/sourcestamps/n:ssid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        bodies = await self.connector.rtypes.sourcestamp.bodies([kwargs["ssid"]])
        return bodies[0] if bodies else None


class SourceStampsEndpoint(Endpoint):
    """Source stamps, all or of a buildset."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "sourcestamps"
    pathPatterns = """
        /sourcestamps
        /buildsets/:buildsetid/sourcestamps
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "buildsetid" in kwargs:
            # A flagless pattern element: the id arrives as text and may not be a number.
            try:
                bsid = int(kwargs["buildsetid"])
            except ValueError:
                return []
            rows = await self.db.sourcestamps.get_sourcestamps_for_buildset(bsid)
        else:
            sql = take_sql_spec(result_spec, self.db.sourcestamps.result_spec_fields)
            rows = await self.db.sourcestamps.getSourceStamps(result_spec=sql)
        return [sourcestamp_message(r) for r in rows]


class SourceStamp(ResourceType):
    """Source stamps (`sourcestamp` / `sourcestamps`)."""

    name = "sourcestamp"
    plural = "sourcestamps"
    keyField = "ssid"
    endpoints: ClassVar[list[type[Endpoint]]] = [SourceStampEndpoint, SourceStampsEndpoint]
    entityType = sourcestamp_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self.cache: RowCache[int, dict[str, Any]] = RowCache(size=2048)

    async def bodies(self, ssids: Sequence[int]) -> list[dict[str, Any]]:
        """Bodies of the stamps `ssids` (in that order, unknown ones left out); stamps not
        cached yet are read concurrently."""
        found: dict[int, dict[str, Any]] = {}
        missing = []
        for s in dict.fromkeys(ssids):
            body = self.cache.get(s)
            if body is None:
                missing.append(s)
            else:
                found[s] = body
        if missing:
            rows = await gather(self.db.sourcestamps.getSourceStamp(s) for s in missing)
            for row in rows:
                if row is not None:
                    found[row.ssid] = self.cache.put(row.ssid, sourcestamp_message(row))
        return [found[s] for s in ssids if s in found]
