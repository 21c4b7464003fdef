"""Users and their attributes."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.users import UserModel

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_find_by_attribute_creates_unique_identifiers(db: DBConnector) -> None:
    a = await db.users.findUserByAttr("dev", "git", "dev <a@x>")
    assert await db.users.findUserByAttr("whatever", "git", "dev <a@x>") == a
    b = await db.users.findUserByAttr("dev", "git", "dev <b@x>")
    c = await db.users.findUserByAttr("dev", "svn", "dev")
    assert [(u.uid, u.identifier) for u in await db.users.getUsers()] == [
        (a, "dev"), (b, "dev_2"), (c, "dev_3")]
    assert await db.users.getUser(a) == UserModel(a, "dev", attributes={"git": "dev <a@x>"})
    assert await db.users.identifierToUid("dev_2") == b


@pytest_twisted.ensureDeferred
async def test_update_and_remove_user(db: DBConnector) -> None:
    uid = await db.users.findUserByAttr("dev", "git", "dev <a@x>")
    other = await db.users.findUserByAttr("o", "email", "o@x")
    await db.users.updateUser(uid, identifier="d", bb_username="dev", bb_password="pw",
                              attr_type="email", attr_data="d@x")
    await db.users.updateUser(uid, attr_type="email", attr_data="d2@x")
    await db.users.updateUser(uid, attr_type="git", attr_data="o@x")
    await db.users.updateUser(uid, attr_type="email", attr_data="o@x")  # taken: kept by o
    assert await db.users.getUserByUsername("dev") == UserModel(
        uid, "d", "dev", "pw", {"git": "o@x", "email": "d2@x"})
    await db.users.removeUser(uid)
    assert await db.users.getUser(uid) is None
    assert [u.uid for u in await db.users.getUsers()] == [other]
