"""The `tags` table: builder tags, by name."""

from __future__ import annotations

import sqlalchemy as sa

from buildbot.db.base import DbComponent, hash_columns, thd_find_or_create


def thd_find_tag_ids(conn: sa.Connection, tags: sa.Table, names: list[str]) -> dict[str, int]:
    """Ids of the tags called `names`, creating the missing ones (inside the caller's
    transaction): one SELECT, plus one INSERT per new tag."""
    hashes = {hash_columns(n): n for n in names}
    found = {hashes[r.name_hash]: int(r.id) for r in conn.execute(
        sa.select(tags.c.id, tags.c.name_hash).where(tags.c.name_hash.in_(list(hashes))))}
    for name_hash, name in hashes.items():
        if name not in found:
            tagid, _ = thd_find_or_create(conn, tags, {"name_hash": name_hash},
                                          {"name": name, "name_hash": name_hash})
            assert tagid is not None
            found[name] = tagid
    return found


class TagsDb(DbComponent):
    """Tags of builders (the links are kept by `BuildersDb`)."""

    async def findTagId(self, name: str) -> int:
        """The id of the tag `name`, created if new."""
        tags = self._tables.tags
        return await self._pool.run(lambda conn: thd_find_tag_ids(conn, tags, [name])[name])
