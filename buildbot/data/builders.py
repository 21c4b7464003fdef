"""Builders: the `builders` resource type and the updates registering builders and
attaching them to masters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.data.nesting import NestedLookup
from buildbot.db.builders import BuilderInfo
from buildbot.util.resultspec import ResultSpec

__all__ = ["Builder", "BuilderInfo", "builder_message"]

builder_entity = types.Entity("builder", {
    "builderid": types.Integer(),
    "name": types.String(),
    "masterids": types.List(of=types.Integer()),
    "description": types.NoneOk(types.String()),
    "description_format": types.NoneOk(types.String()),
    "description_html": types.NoneOk(types.String()),
    "projectid": types.NoneOk(types.Integer()),
    "tags": types.List(of=types.String()),
})


def builder_message(row: Any) -> dict[str, Any]:
    """The `builder` body of a db BuilderModel."""
    return {
        "builderid": row.id,
        "name": row.name,
        "masterids": list(row.masterids),
        "description": row.description,
        "description_format": row.description_format,
        "description_html": row.description_html,
        "projectid": row.projectid,
        "tags": list(row.tags),
    }


class BuilderEndpoint(Endpoint):
    """One builder, by id or name, or by id among a master's builders."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /builders/n:builderid
        /builders/s:buildername
        /masters/n:masterid/builders/n:builderid
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        builderid = await NestedLookup(self.db, kwargs).builder_id()
        if builderid is None:
            return None
        row = await self.db.builders.getBuilder(builderid)
        if row is None:
            return None
        if "masterid" in kwargs and kwargs["masterid"] not in row.masterids:
            return None
        return builder_message(row)


class BuildersEndpoint(Endpoint):
    """Every builder ever registered, or those of a master, project or worker."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "builders"
    pathPatterns = """
        /builders
        /masters/n:masterid/builders
        /projects/n:projectid/builders
        /workers/n:workerid/builders
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        rows = await self.db.builders.getBuilders(
            masterid=kwargs.get("masterid"), projectid=kwargs.get("projectid"),
            workerid=kwargs.get("workerid"))
        return [builder_message(r) for r in rows]


class Builder(ResourceType):
    """Builders (`builder` / `builders`)."""

    name = "builder"
    plural = "builders"
    keyField = "builderid"
    endpoints: ClassVar[list[type[Endpoint]]] = [BuilderEndpoint, BuildersEndpoint]
    eventPathPatterns = "/builders/:builderid"
    stateEvents = frozenset({"update"})
    entityType = builder_entity

    @update_method
    async def findBuilderId(self, name: str) -> int:
        """The id of the builder called `name`, created if new."""
        return int(await self.db.builders.findBuilderId(name))

    @update_method
    async def findBuilderIds(self, names: Iterable[str]) -> dict[str, int]:
        """The ids of the builders called `names` (name -> id), the new ones created; one
        database transaction for them all."""
        ids: dict[str, int] = await self.db.builders.findBuilderIds(names)
        return ids

    @update_method
    async def updateBuilderInfo(self, builderid: int, description: str | None,
                                description_format: str | None, description_html: str | None,
                                projectid: int | None, tags: Sequence[int | str]) -> None:
        """Store the builder's description, project and tags (names or tag ids);
        announce `update`."""
        await self.updateBuildersInfo({builderid: BuilderInfo(
            description, description_format, description_html, projectid, tuple(tags))})

    @update_method
    async def updateBuildersInfo(self, infos: Mapping[int, BuilderInfo]) -> None:
        """`updateBuilderInfo` for many builders (builderid -> info): one transaction to
        store them, one to read them back; an `update` for each builder."""
        if not infos:
            return
        with self.writing() as seq:
            await self.db.builders.updateBuildersInfo(infos)
            if len(infos) == 1:
                row = await self.db.builders.getBuilder(next(iter(infos)))
                found = [row] if row is not None else []
            else:
                found = [r for r in await self.db.builders.getBuilders() if r.id in infos]
            for row in found:
                self.produceEvent(builder_message(row), "update", seq)

    @update_method
    async def updateBuilderList(self, masterid: int, builderNames: Sequence[str]) -> None:
        """Make the builders attached to master `masterid` exactly `builderNames`;
        announce `stopped` for each one detached and `started` for each one attached.
        A constant number of transactions, however many builders change."""
        attached = await self.db.builders.getBuilders(masterid=masterid)
        wanted = set(builderNames)
        gone = [row for row in attached if row.name not in wanted]
        if gone:
            with self.writing() as seq:
                await self.db.builders.removeBuilderMasters([r.id for r in gone], masterid)
                for row in gone:
                    self.produce(("builders", str(row.id), "stopped"),
                                 {"builderid": row.id, "masterid": masterid,
                                  "name": row.name}, seq)
        present = {row.name for row in attached}
        # In the order given, so that the `started` messages follow the configuration.
        new = list(dict.fromkeys(n for n in builderNames if n not in present))
        if new:
            with self.writing() as seq:
                ids = await self.db.builders.findBuilderIds(new)
                await self.db.builders.addBuilderMasters([ids[n] for n in new], masterid)
                for name in new:
                    self.produce(("builders", str(ids[name]), "started"),
                                 {"builderid": ids[name], "masterid": masterid, "name": name},
                                 seq)
