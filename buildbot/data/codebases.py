"""Codebases: the `codebases` resource type and the updates registering configured
codebases."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, take_sql_spec, update_method
from buildbot.util.resultspec import Filter, ResultSpec

codebase_entity = types.Entity("codebase", {
    "codebaseid": types.Integer(),
    "projectid": types.Integer(),
    "name": types.Identifier(70),
    "slug": types.Identifier(70),
})


def codebase_message(row: Any) -> dict[str, Any]:
    """The `codebase` body of a db CodebaseModel."""
    return {"codebaseid": row.id, "name": row.name, "slug": row.slug,
            "projectid": row.projectid}


class CodebaseEndpoint(Endpoint):
    """One codebase, by id or by project and name."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /codebases/n:codebaseid
        /projects/n:projectid/codebases/i:codebasename
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "codebaseid" in kwargs:
            row = await self.db.codebases.get_codebase(kwargs["codebaseid"])
            return codebase_message(row) if row is not None else None
        rows = await self.db.codebases.get_codebases(
            projectid=kwargs["projectid"],
            result_spec=ResultSpec(filters=[Filter("name", "eq", [kwargs["codebasename"]])]))
        return codebase_message(rows[0]) if rows else None


class CodebasesEndpoint(Endpoint):
    """Every codebase."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "codebases"
    pathPatterns = "/codebases"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        sql = take_sql_spec(result_spec, self.db.codebases.result_spec_fields)
        rows = await self.db.codebases.get_codebases(result_spec=sql)
        return [codebase_message(r) for r in rows]


class Codebase(ResourceType):
    """Codebases (`codebase` / `codebases`)."""

    name = "codebase"
    plural = "codebases"
    keyField = "codebaseid"
    endpoints: ClassVar[list[type[Endpoint]]] = [CodebaseEndpoint, CodebasesEndpoint]
    eventPathPatterns = "/codebases/:codebaseid"
    stateEvents = frozenset({"update"})
    entityType = codebase_entity

    @update_method
    async def find_codebase_id(self, *, projectid: int, name: str,
                               auto_create: bool = True) -> int | None:
        """The id of codebase `name` of the project (created if new and `auto_create`)."""
        found = await self.db.codebases.find_codebase_id(projectid=projectid, name=name,
                                                         auto_create=auto_create)
        return None if found is None else int(found)

    @update_method
    async def update_codebase_info(self, *, codebaseid: int, projectid: int, slug: str) -> None:
        """Store the codebase's project and slug; announce `update`."""
        with self.writing() as seq:
            await self.db.codebases.update_codebase_info(codebaseid=codebaseid,
                                                         projectid=projectid, slug=slug)
            row = await self.db.codebases.get_codebase(codebaseid)
            if row is not None:
                self.produceEvent(codebase_message(row), "update", seq)
