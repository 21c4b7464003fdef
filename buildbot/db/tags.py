"""The `tags` table: builder tags, by name."""

from __future__ import annotations

import sqlalchemy as sa

from buildbot.db.base import DbComponent, thd_find_or_create_named


def thd_find_tag_ids(conn: sa.Connection, tags: sa.Table, names: list[str]) -> dict[str, int]:
    """Ids of the tags called `names`, creating the missing ones (inside the caller's
    transaction)."""
    return thd_find_or_create_named(conn, tags, names)


class TagsDb(DbComponent):
    """Tags of builders (the links are kept by `BuildersDb`)."""

    async def findTagId(self, name: str) -> int:
        """The id of the tag `name`, created if new."""
        tags = self._tables.tags
        return await self._pool.run(lambda conn: thd_find_tag_ids(conn, tags, [name])[name])
