"""The `users` and `users_info` tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import DbComponent, inserted_id, thd_upsert
from buildbot.db.errors import InvalidValueError
from buildbot.util.identifiers import incrementIdentifier

IDENTIFIER_INCREMENT_LENGTH = 256


@dataclass(frozen=True, slots=True)
class UserModel:
    """A user; `attributes` ({attr_type: attr_data}) is None when not read."""

    uid: int
    identifier: str
    bb_username: str | None = None
    bb_password: str | None = None
    attributes: dict[str, str] | None = None


def _user(r: Any, attrs: Sequence[Any] | None) -> UserModel:
    return UserModel(uid=r.uid, identifier=r.identifier, bb_username=r.bb_username,
                     bb_password=r.bb_password,
                     attributes=None if attrs is None else {a.attr_type: a.attr_data
                                                            for a in attrs})


class UsersDb(DbComponent):
    """Users known from changes and from the web UI's login."""

    async def findUserByAttr(self, identifier: str, attr_type: str, attr_data: str) -> int:
        """The uid of the user with that attribute, created (with `identifier`, made unique
        by `_2`, `_3`...) if there is none."""
        t = self._tables
        u, ui = t.users, t.users_info
        self.check_length(u.c.identifier, identifier)
        self.check_length(ui.c.attr_type, attr_type)
        self.check_length(ui.c.attr_data, attr_data)

        def thd_find(conn: sa.Connection) -> int:
            ident = identifier
            attempts_left = 2  # a lost race on the attribute is retried once
            while True:
                found = conn.execute(sa.select(ui.c.uid).where(
                    ui.c.attr_type == attr_type, ui.c.attr_data == attr_data)).scalar()
                if found is not None:
                    return int(found)
                savepoint = conn.begin_nested()
                user_inserted = False
                try:
                    uid = inserted_id(conn.execute(u.insert().values(identifier=ident)))
                    user_inserted = True
                    conn.execute(ui.insert().values(uid=uid, attr_type=attr_type,
                                                    attr_data=attr_data))
                    savepoint.commit()
                    return uid
                except sa.exc.IntegrityError:
                    savepoint.rollback()
                    if not user_inserted:
                        ident = incrementIdentifier(IDENTIFIER_INCREMENT_LENGTH, ident)
                        continue
                    attempts_left -= 1
                    if not attempts_left:
                        raise

        return await self._pool.run(thd_find)

    async def _one(self, *where: Any) -> UserModel | None:
        t = self._tables

        def thd_get(conn: sa.Connection) -> UserModel | None:
            row = conn.execute(sa.select(t.users).where(*where)).first()
            if row is None:
                return None
            attrs = conn.execute(sa.select(t.users_info).where(
                t.users_info.c.uid == row.uid)).all()
            return _user(row, attrs)

        return await self._pool.run(thd_get)

    async def getUser(self, uid: int) -> UserModel | None:
        """The user with attributes, or None."""
        return await self._one(self._tables.users.c.uid == uid)

    async def getUserByUsername(self, username: str | None) -> UserModel | None:
        """The user whose web login is `username`, with attributes, or None."""
        return await self._one(self._tables.users.c.bb_username == username)

    async def getUsers(self) -> list[UserModel]:
        """Every user, without attributes, by uid."""
        u = self._tables.users

        def thd_list(conn: sa.Connection) -> list[UserModel]:
            return [_user(r, None) for r in conn.execute(sa.select(u).order_by(u.c.uid))]

        return await self._pool.run(thd_list)

    async def updateUser(self, uid: int | None = None, identifier: str | None = None,
                         bb_username: str | None = None, bb_password: str | None = None,
                         attr_type: str | None = None, attr_data: str | None = None) -> None:
        """Change the identifier, the web credentials (username needs a password) and/or
        set one attribute (`attr_type` needs `attr_data`); one transaction."""
        t = self._tables
        u, ui = t.users, t.users_info
        values: dict[str, Any] = {}
        if identifier is not None:
            self.check_length(u.c.identifier, identifier)
            values["identifier"] = identifier
        if bb_username is not None:
            if bb_password is None:
                raise InvalidValueError("bb_username needs bb_password")
            self.check_length(u.c.bb_username, bb_username)
            self.check_length(u.c.bb_password, bb_password)
            values.update(bb_username=bb_username, bb_password=bb_password)
        if attr_type is not None:
            if attr_data is None:
                raise InvalidValueError("attr_type needs attr_data")
            self.check_length(ui.c.attr_type, attr_type)
            self.check_length(ui.c.attr_data, attr_data)

        def thd_update(conn: sa.Connection) -> None:
            if values:
                conn.execute(u.update().where(u.c.uid == uid).values(**values))
            if attr_type is not None:
                savepoint = conn.begin_nested()
                try:
                    thd_upsert(conn, ui, {"uid": uid, "attr_type": attr_type},
                               {"attr_data": attr_data})
                    savepoint.commit()
                except sa.exc.IntegrityError:
                    savepoint.rollback()  # another user has that attribute: it keeps it

        await self._pool.run(thd_update)

    async def removeUser(self, uid: int) -> None:
        """Delete the user, its attributes and its links to changes."""
        t = self._tables

        def thd_remove(conn: sa.Connection) -> None:
            for table in (t.change_users, t.users_info, t.users):
                conn.execute(table.delete().where(table.c.uid == uid))

        await self._pool.run(thd_remove)

    async def identifierToUid(self, identifier: str) -> int | None:
        """The uid of the user with that identifier, or None."""
        u = self._tables.users

        def thd_get(conn: sa.Connection) -> int | None:
            found = conn.execute(sa.select(u.c.uid).where(u.c.identifier == identifier)).scalar()
            return None if found is None else int(found)

        return await self._pool.run(thd_get)
