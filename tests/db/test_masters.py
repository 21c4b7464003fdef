"""The masters component on a real database."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.masters import MasterModel
from buildbot.util.resultspec import Filter, ResultSpec
from tests.db.rows import t

pytestmark = pytest.mark.db


async def _scheduler_owned_by(db: DBConnector, masterid: int) -> None:
    t = db.tables

    def thd(conn):  # type: ignore[no-untyped-def]  # a thd function
        conn.execute(t.schedulers.insert().values(id=5, name="s", name_hash="x" * 40))
        conn.execute(t.scheduler_masters.insert().values(schedulerid=5, masterid=masterid))

    await db.pool.run(thd)


@pytest_twisted.ensureDeferred
async def test_find_master_id_creates_an_inactive_master_once(db: DBConnector) -> None:
    db.clock.advance(1000)
    first = await db.masters.findMasterId("host:/base")
    db.clock.advance(10)
    assert await db.masters.findMasterId("host:/base") == first
    assert await db.masters.getMasters() == [
        MasterModel(id=first, name="host:/base", active=False, last_active=t(1000))]


@pytest_twisted.ensureDeferred
async def test_activating_reports_change_and_refreshes_heartbeat(db: DBConnector) -> None:
    mid = await db.masters.findMasterId("m")
    db.clock.advance(50)
    assert await db.masters.setMasterState(mid, True) is True
    db.clock.advance(60)
    assert await db.masters.setMasterState(mid, True) is False
    assert await db.masters.getMaster(mid) == MasterModel(mid, "m", True, t(110))


@pytest_twisted.ensureDeferred
async def test_deactivating_releases_schedulers(db: DBConnector) -> None:
    mid = await db.masters.findMasterId("m")
    await db.masters.setMasterState(mid, True)
    await _scheduler_owned_by(db, mid)
    assert await db.masters.setMasterState(mid, False) is True
    assert await db.masters.setMasterState(mid, False) is False
    owners = await db.pool.run(
        lambda conn: conn.execute(db.tables.scheduler_masters.select()).all())
    assert owners == []


@pytest_twisted.ensureDeferred
async def test_set_state_of_missing_master_is_false(db: DBConnector) -> None:
    assert await db.masters.setMasterState(99, True) is False
    assert await db.masters.getMaster(99) is None


@pytest_twisted.ensureDeferred
async def test_all_masters_active_long_ago(db: DBConnector) -> None:
    a = await db.masters.findMasterId("a")
    b = await db.masters.findMasterId("b")
    await db.masters.setAllMastersActiveLongTimeAgo()
    assert await db.masters.getMasters() == [
        MasterModel(a, "a", True, t(0)), MasterModel(b, "b", True, t(0))]


@pytest_twisted.ensureDeferred
async def test_get_masters_applies_result_spec_in_sql(db: DBConnector) -> None:
    ids = [await db.masters.findMasterId(n) for n in ("a", "b", "c")]
    await db.masters.setMasterState(ids[1], True)
    spec = ResultSpec(filters=[Filter("active", "eq", [False])], order=["-name"], limit=1)
    assert [m.name for m in await db.masters.getMasters(result_spec=spec)] == ["c"]
    spec = ResultSpec(filters=[Filter("name", "ne", ["a"])], offset=1)
    assert [m.name for m in await db.masters.getMasters(result_spec=spec)] == ["c"]
