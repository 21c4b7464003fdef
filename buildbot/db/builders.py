"""The `builders`, `builder_masters` and `builders_tags` tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from buildbot.db.base import (
    DbComponent,
    hash_columns,
    insert_ignoring_duplicates,
    thd_find_or_create,
    thd_find_or_create_named,
)
from buildbot.db.tags import thd_find_tag_ids


@dataclass(frozen=True, slots=True)
class BuilderModel:
    """A builder; `tags` are names, `masterids` the masters it is configured on."""

    id: int
    name: str
    description: str | None = None
    description_format: str | None = None
    description_html: str | None = None
    projectid: int | None = None
    tags: list[str] = field(default_factory=list)
    masterids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BuilderInfo:
    """What a master's configuration says about a builder (`updateBuildersInfo`); `tags`
    are names or tag ids."""

    description: str | None = None
    description_format: str | None = None
    description_html: str | None = None
    projectid: int | None = None
    tags: tuple[str | int, ...] = ()


# Builders per IN (...) list: well below every backend's bound-parameter limit.
_CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK))


class BuildersDb(DbComponent):
    """Builders, the masters they are configured on, and their tags."""

    async def findBuilderId(self, name: str, autoCreate: bool = True) -> int | None:
        """The id of the builder `name`, created if new (None if not and not `autoCreate`)."""
        t = self._tables.builders
        name_hash = hash_columns(name)

        def thd_find(conn: sa.Connection) -> int | None:
            return thd_find_or_create(conn, t, {"name_hash": name_hash},
                                      {"name": name, "name_hash": name_hash},
                                      auto_create=autoCreate)[0]

        return await self._pool.run(thd_find)

    async def findBuilderIds(self, names: Iterable[str]) -> dict[str, int]:
        """The ids of the builders called `names`, the new ones created: one transaction
        however many names (a master's start-up registers all its builders at once)."""
        t = self._tables.builders
        wanted = list(names)
        return await self._pool.run(lambda conn: thd_find_or_create_named(conn, t, wanted))

    async def updateBuilderInfo(self, builderid: int, description: str | None,
                                description_format: str | None, description_html: str | None,
                                projectid: int | None, tags: Sequence[str | int]) -> None:
        """Set the description, project and tags (names, created if new, or tag ids)."""
        await self.updateBuildersInfo({builderid: BuilderInfo(
            description, description_format, description_html, projectid, tuple(tags))})

    async def updateBuildersInfo(self, infos: Mapping[int, BuilderInfo]) -> None:
        """`updateBuilderInfo` for many builders in one transaction (a few statements per
        500 builders, not per builder)."""
        t = self._tables
        items = list(infos.items())
        if not items:
            return

        def thd_update(conn: sa.Connection) -> None:
            b, bt = t.builders, t.builders_tags
            conn.execute(b.update().where(b.c.id == sa.bindparam("b_id")).values(
                description=sa.bindparam("description"),
                description_format=sa.bindparam("description_format"),
                description_html=sa.bindparam("description_html"),
                projectid=sa.bindparam("projectid")),
                [{"b_id": builderid, "description": i.description,
                  "description_format": i.description_format,
                  "description_html": i.description_html, "projectid": i.projectid}
                 for builderid, i in items])
            names = {tag for _, i in items for tag in i.tags if isinstance(tag, str)}
            by_name = thd_find_or_create_named(conn, t.tags, sorted(names)) if names else {}
            for ids in _chunks([builderid for builderid, _ in items]):
                conn.execute(bt.delete().where(bt.c.builderid.in_(ids)))
            links = [{"builderid": builderid, "tagid": tagid}
                     for builderid, i in items
                     for tagid in dict.fromkeys(by_name[tag] if isinstance(tag, str)
                                                else int(tag) for tag in i.tags)]
            if links:
                conn.execute(bt.insert(), links)

        await self._pool.run(thd_update)

    async def addBuilderMaster(self, builderid: int, masterid: int) -> None:
        """Record that the builder is configured on the master (no-op if it is already)."""
        await self.addBuilderMasters([builderid], masterid)

    async def addBuilderMasters(self, builderids: Sequence[int], masterid: int) -> None:
        """`addBuilderMaster` for many builders, in one transaction."""
        bm = self._tables.builder_masters
        if not builderids:
            return

        def thd_add(conn: sa.Connection) -> None:
            conn.execute(insert_ignoring_duplicates(conn, bm),
                         [{"builderid": b, "masterid": masterid} for b in builderids])

        await self._pool.run(thd_add)

    async def removeBuilderMaster(self, builderid: int, masterid: int) -> None:
        """Forget that the builder is configured on the master."""
        await self.removeBuilderMasters([builderid], masterid)

    async def removeBuilderMasters(self, builderids: Sequence[int], masterid: int) -> None:
        """`removeBuilderMaster` for many builders, in one transaction."""
        bm = self._tables.builder_masters
        if not builderids:
            return

        def thd_remove(conn: sa.Connection) -> None:
            for ids in _chunks(builderids):
                conn.execute(bm.delete().where(bm.c.builderid.in_(ids),
                                               bm.c.masterid == masterid))

        await self._pool.run(thd_remove)

    async def getBuilder(self, builderid: int) -> BuilderModel | None:
        """The builder with this id, or None."""
        found = await self.getBuilders(_builderid=builderid)
        return found[0] if found else None

    async def getBuilders(self, masterid: int | None = None, projectid: int | None = None,
                          workerid: int | None = None, _builderid: int | None = None
                          ) -> list[BuilderModel]:
        """Builders by id: all, or those configured on `masterid`, in `projectid`, or
        configured for `workerid`. `masterids` always lists every master of the builder.
        Three queries in one transaction."""
        t = self._tables

        def thd_list(conn: sa.Connection) -> list[BuilderModel]:
            b, bm = t.builders, t.builder_masters
            q = sa.select(b.c.id, b.c.name, b.c.description, b.c.description_format,
                          b.c.description_html, b.c.projectid).order_by(b.c.id)
            if _builderid is not None:
                q = q.where(b.c.id == _builderid)
            if masterid is not None:
                q = q.where(b.c.id.in_(sa.select(bm.c.builderid).where(
                    bm.c.masterid == masterid)))
            if projectid is not None:
                q = q.where(b.c.projectid == projectid)
            if workerid is not None:
                cw = t.configured_workers
                q = q.where(b.c.id.in_(sa.select(bm.c.builderid).join(
                    cw, cw.c.buildermasterid == bm.c.id).where(cw.c.workerid == workerid)))
            rows = conn.execute(q).all()
            if not rows:
                return []
            ids = [r.id for r in rows] if len(rows) < 500 else None
            masters: dict[int, list[int]] = {r.id: [] for r in rows}
            mq = sa.select(bm.c.builderid, bm.c.masterid).order_by(bm.c.masterid)
            for r in conn.execute(mq if ids is None else mq.where(bm.c.builderid.in_(ids))):
                if r.builderid in masters:
                    masters[r.builderid].append(r.masterid)
            tags: dict[int, list[str]] = {r.id: [] for r in rows}
            bt, tg = t.builders_tags, t.tags
            tq = sa.select(bt.c.builderid, tg.c.name).join(tg, tg.c.id == bt.c.tagid) \
                .order_by(bt.c.id)
            for r in conn.execute(tq if ids is None else tq.where(bt.c.builderid.in_(ids))):
                if r.builderid in tags:
                    tags[r.builderid].append(r.name)
            return [BuilderModel(id=r.id, name=r.name, description=r.description,
                                 description_format=r.description_format,
                                 description_html=r.description_html, projectid=r.projectid,
                                 tags=tags[r.id], masterids=masters[r.id]) for r in rows]

        return await self._pool.run(thd_list)
