"""The `objects` and `object_state` tables: small JSON state kept by masters, schedulers,
change sources and other services across restarts.

Objects are identified by (name, class_name) exactly as Buildbot 4.3 names them (its
`objects` rows), so that state written by Buildbot 4.3 is found again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import Clock, DbComponent, ensure_length, thd_find_or_create, thd_upsert
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool

OBJECT_NAME_LENGTH = 128
STATE_NAME_LENGTH = 255


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()


class StateDb(DbComponent):
    """Per-object JSON values."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        self._object_ids: dict[tuple[str, str], int] = {}

    async def getObjectId(self, name: str, class_name: str) -> int:
        """The id of the object (name, class_name), created if new; cached. A name longer
        than 128 characters is shortened as Buildbot does (half of it + a sha1 prefix)."""
        key = (ensure_length(OBJECT_NAME_LENGTH, name), class_name)
        found = self._object_ids.get(key)
        if found is not None:
            return found
        t = self._tables.objects

        def thd_find(conn: sa.Connection) -> int:
            objectid, _ = thd_find_or_create(
                conn, t, {"name": key[0], "class_name": class_name},
                {"name": key[0], "class_name": class_name})
            assert objectid is not None
            return objectid

        objectid = await self._pool.run(thd_find)
        self._object_ids[key] = objectid
        return objectid

    async def getState(self, objectid: int, name: str, default: Any = NO_DEFAULT) -> Any:
        """The JSON-decoded value; `default` if absent (KeyError without a default);
        TypeError if the stored text is not JSON."""
        t = self._tables.object_state
        key = ensure_length(STATE_NAME_LENGTH, name)

        def thd_get(conn: sa.Connection) -> str | None:
            found: str | None = conn.execute(sa.select(t.c.value_json).where(
                t.c.objectid == objectid, t.c.name == key)).scalar()
            return found

        text = await self._pool.run(thd_get)
        if text is None:
            if default is NO_DEFAULT:
                raise KeyError(f"no such state value '{name}' for object {objectid}")
            return default
        try:
            return json.loads(text)
        except ValueError as e:
            raise TypeError(f"JSON error loading state value '{name}' for {objectid}") from e

    async def setState(self, objectid: int, name: str, value: Any) -> None:
        """Store `value` (JSON-encodable) under `name`, replacing any previous value."""
        t = self._tables.object_state
        key = ensure_length(STATE_NAME_LENGTH, name)
        text = json.dumps(value)

        def thd_set(conn: sa.Connection) -> None:
            thd_upsert(conn, t, {"objectid": objectid, "name": key}, {"value_json": text})

        await self._pool.run(thd_set)

    async def atomicCreateState(self, objectid: int, name: str,
                                thd_create_callback: Callable[[], Any]) -> Any:
        """The stored value, or — if there is none — `thd_create_callback()` (called on a DB
        thread), stored and returned. If another master stores one first, that one wins
        and is returned."""
        t = self._tables.object_state
        key = ensure_length(STATE_NAME_LENGTH, name)

        def thd_create(conn: sa.Connection) -> Any:
            q = sa.select(t.c.value_json).where(t.c.objectid == objectid, t.c.name == key)
            text = conn.execute(q).scalar()
            if text is None:
                value = thd_create_callback()
                try:
                    conn.execute(t.insert().values(objectid=objectid, name=key,
                                                   value_json=json.dumps(value)))
                    return value
                except sa.exc.IntegrityError:
                    conn.rollback()
                    text = conn.execute(q).scalar()
            assert text is not None, "state value vanished after a lost insert race"
            return json.loads(text)

        return await self._pool.run(thd_create)
