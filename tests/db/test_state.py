"""Object state."""

from __future__ import annotations

import hashlib

import pytest
import pytest_twisted

from buildbot.db.base import ensure_length
from buildbot.db.connector import DBConnector

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_object_ids_are_stable_and_long_names_shortened(db: DBConnector) -> None:
    a = await db.state.getObjectId("poller", "GitPoller")
    assert await db.state.getObjectId("poller", "GitPoller") == a
    assert await db.state.getObjectId("poller", "buildbot.changes.gitpoller.GitPoller") != a
    long = "n" * 200
    oid = await db.state.getObjectId(long, "X")
    stored = await db.pool.run(lambda conn: conn.execute(
        db.tables.objects.select().where(db.tables.objects.c.id == oid)).one().name)
    # half the name, then the sha1 hex (only 40 characters, so 104 in all, as in Buildbot)
    assert stored == ensure_length(128, long) and len(stored) == 104


def test_ensure_length_follows_buildbot() -> None:
    assert ensure_length(10, "short") == "short"
    assert ensure_length(10, "a" * 20) == "aaaaa" + hashlib.sha1(b"a" * 20).hexdigest()[:5]
    assert len(ensure_length(128, "x" * 500)) == 104


@pytest_twisted.ensureDeferred
async def test_get_set_state(db: DBConnector) -> None:
    oid = await db.state.getObjectId("s", "Nightly")
    with pytest.raises(KeyError):
        await db.state.getState(oid, "last_build")
    assert await db.state.getState(oid, "last_build", None) is None
    await db.state.setState(oid, "last_build", 1234)
    await db.state.setState(oid, "last_build", {"a": [1]})
    assert await db.state.getState(oid, "last_build") == {"a": [1]}


@pytest_twisted.ensureDeferred
async def test_undecodable_state_is_a_type_error(db: DBConnector) -> None:
    oid = await db.state.getObjectId("s", "X")
    await db.pool.run(lambda conn: conn.execute(db.tables.object_state.insert().values(
        objectid=oid, name="bad", value_json="{nope")))
    with pytest.raises(TypeError):
        await db.state.getState(oid, "bad")


@pytest_twisted.ensureDeferred
async def test_atomic_create_state_keeps_the_first_value(db: DBConnector) -> None:
    oid = await db.state.getObjectId("www", "buildbot.www.service.WWWService")
    assert await db.state.atomicCreateState(oid, "secret", lambda: "first") == "first"
    assert await db.state.atomicCreateState(oid, "secret", lambda: "second") == "first"
