"""Projects: the `projects` resource type and the updates registering configured projects."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, update_method
from buildbot.util.resultspec import ResultSpec

project_entity = types.Entity("project", {
    "projectid": types.Integer(),
    "name": types.Identifier(70),
    "slug": types.Identifier(70),
    "active": types.NoneOk(types.Boolean()),
    "description": types.NoneOk(types.String()),
    "description_format": types.NoneOk(types.String()),
    "description_html": types.NoneOk(types.String()),
})


def project_message(row: Any, active: bool | None = None) -> dict[str, Any]:
    """The `project` body of a db ProjectModel (`active` only when the getter was asked)."""
    return {
        "projectid": row.id,
        "name": row.name,
        "slug": row.slug,
        "description": row.description,
        "description_format": row.description_format,
        "description_html": row.description_html,
        "active": active,
    }


class ProjectEndpoint(Endpoint):
    """One project, by id or name."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /projects/n:projectid
        /projects/i:projectname
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        projectid = kwargs.get("projectid")
        if projectid is None:
            projectid = await self.db.projects.find_project_id(kwargs["projectname"],
                                                                auto_create=False)
            if projectid is None:
                return None
        row = await self.db.projects.get_project(projectid)
        return project_message(row) if row is not None else None


class ProjectsEndpoint(Endpoint):
    """Projects; `active=` selects those with (without) an attached builder."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "projects"
    pathPatterns = "/projects"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        active = result_spec.popBooleanFilter("active")
        if active is None:
            rows = await self.db.projects.get_projects()
        else:
            # Buildbot 4.3 lists an active project once per builder attached to a master;
            # we list it once (docs/differences.md).
            active_rows = list({r.id: r for r in
                                await self.db.projects.get_active_projects()}.values())
            if active:
                rows = active_rows
            else:
                ids = {r.id for r in active_rows}
                rows = [r for r in await self.db.projects.get_projects() if r.id not in ids]
        return [project_message(r, active) for r in rows]


class Project(ResourceType):
    """Projects (`project` / `projects`)."""

    name = "project"
    plural = "projects"
    keyField = "projectid"
    endpoints: ClassVar[list[type[Endpoint]]] = [ProjectEndpoint, ProjectsEndpoint]
    eventPathPatterns = "/projects/:projectid"
    stateEvents = frozenset({"update"})
    entityType = project_entity

    @update_method
    async def find_project_id(self, name: str, auto_create: bool = True) -> int | None:
        """The id of the project called `name` (created if new and `auto_create`)."""
        found = await self.db.projects.find_project_id(name, auto_create=auto_create)
        return None if found is None else int(found)

    @update_method
    async def update_project_info(self, projectid: int, slug: str, description: str | None,
                                  description_format: str | None,
                                  description_html: str | None) -> None:
        """Store the project's slug and description; announce `update`."""
        with self.writing() as seq:
            await self.db.projects.update_project_info(
                projectid, slug, description, description_format, description_html)
            row = await self.db.projects.get_project(projectid)
            if row is not None:
                self.produceEvent(project_message(row), "update", seq)
