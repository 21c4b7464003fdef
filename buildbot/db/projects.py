"""The `projects` table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import DbComponent, hash_columns, thd_find_or_create


@dataclass(frozen=True, slots=True)
class ProjectModel:
    """A project (builders and codebases belong to one)."""

    id: int
    name: str
    slug: str
    description: str | None
    description_format: str | None
    description_html: str | None


def _project(r: Any) -> ProjectModel:
    return ProjectModel(id=r.id, name=r.name, slug=r.slug, description=r.description,
                        description_format=r.description_format,
                        description_html=r.description_html)


class ProjectsDb(DbComponent):
    """Projects."""

    async def find_project_id(self, name: str, auto_create: bool = True) -> int | None:
        """The id of the project `name`, created (slug = name) if new and `auto_create`."""
        t = self._tables.projects
        name_hash = hash_columns(name)

        def thd_find(conn: sa.Connection) -> int | None:
            return thd_find_or_create(conn, t, {"name_hash": name_hash},
                                      {"name": name, "name_hash": name_hash, "slug": name},
                                      auto_create=auto_create)[0]

        return await self._pool.run(thd_find)

    async def _list(self, q: sa.Select[Any]) -> list[ProjectModel]:
        def thd_list(conn: sa.Connection) -> list[ProjectModel]:
            return [_project(r) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    async def get_project(self, projectid: int) -> ProjectModel | None:
        """The project, or None."""
        t = self._tables.projects
        found = await self._list(sa.select(t).where(t.c.id == projectid))
        return found[0] if found else None

    async def get_projects(self) -> list[ProjectModel]:
        """Every project, by name."""
        t = self._tables.projects
        return await self._list(sa.select(t).order_by(t.c.name, t.c.id))

    async def get_active_projects(self) -> list[ProjectModel]:
        """Projects with at least one builder configured on some master, by name (each
        once)."""
        t = self._tables
        p, b, bm = t.projects, t.builders, t.builder_masters
        active = sa.select(b.c.projectid).join(bm, bm.c.builderid == b.c.id)
        return await self._list(sa.select(p).where(p.c.id.in_(active)).order_by(p.c.name, p.c.id))

    async def update_project_info(self, projectid: int, slug: str, description: str | None,
                                  description_format: str | None,
                                  description_html: str | None) -> None:
        """Set the slug and description of the project."""
        t = self._tables.projects
        self.check_length(t.c.slug, slug)

        def thd_update(conn: sa.Connection) -> None:
            conn.execute(t.update().where(t.c.id == projectid).values(
                slug=slug, description=description, description_format=description_format,
                description_html=description_html))

        await self._pool.run(thd_update)
