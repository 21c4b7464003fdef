"""Schedulers, change sources: ownership by masters, classifications."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.changesources import ChangeSourceModel
from buildbot.db.connector import DBConnector
from buildbot.db.errors import ChangeSourceAlreadyClaimedError, SchedulerAlreadyClaimedError
from buildbot.db.schedulers import SchedulerModel
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_scheduler_has_one_owner(db: DBConnector) -> None:
    m1 = await rows.master(db, "m1")
    m2 = await rows.master(db, "m2")
    s = await db.schedulers.findSchedulerId("nightly")
    assert await db.schedulers.findSchedulerId("nightly") == s
    await db.schedulers.setSchedulerMaster(s, m1)
    await db.schedulers.setSchedulerMaster(s, m1)  # same owner: fine
    with pytest.raises(SchedulerAlreadyClaimedError, match="m1"):
        await db.schedulers.setSchedulerMaster(s, m2)
    assert await db.schedulers.get_scheduler_master(s) == m1
    await db.schedulers.setSchedulerMaster(s, None)
    await db.schedulers.setSchedulerMaster(s, m2)
    assert await db.schedulers.getScheduler(s) == SchedulerModel(s, "nightly", True, m2)


@pytest_twisted.ensureDeferred
async def test_get_schedulers_filters(db: DBConnector) -> None:
    m = await rows.master(db)
    a = await db.schedulers.findSchedulerId("a")
    b = await db.schedulers.findSchedulerId("b")
    await db.schedulers.setSchedulerMaster(a, m)
    await db.schedulers.enable(b, False)
    assert await db.schedulers.getSchedulers(active=True) == [SchedulerModel(a, "a", True, m)]
    assert await db.schedulers.getSchedulers(active=False) == [SchedulerModel(b, "b", False)]
    assert [x.id for x in await db.schedulers.getSchedulers(masterid=m)] == [a]
    assert await db.schedulers.getSchedulers(masterid=m, active=False) == []


@pytest_twisted.ensureDeferred
async def test_change_classifications(db: DBConnector) -> None:
    s = await db.schedulers.findSchedulerId("s")
    c1 = await db.changes.addChange(branch="main", repository="r", project="p")
    c2 = await db.changes.addChange(branch=None, repository="r", project="p")
    c3 = await db.changes.addChange(branch="main", repository="r", project="p")
    await db.schedulers.classifyChanges(s, {c1: True, c2: False})
    await db.schedulers.classifyChanges(s, {c2: True, c3: False})
    assert await db.schedulers.getChangeClassifications(s) == {c1: True, c2: True, c3: False}
    assert await db.schedulers.getChangeClassifications(s, branch=None) == {c2: True}
    assert await db.schedulers.getChangeClassifications(s, branch="main") == {c1: True,
                                                                              c3: False}
    await db.schedulers.flushChangeClassifications(s, less_than=c3)
    assert await db.schedulers.getChangeClassifications(s) == {c3: False}
    await db.schedulers.flushChangeClassifications(s)
    assert await db.schedulers.getChangeClassifications(s) == {}


@pytest_twisted.ensureDeferred
async def test_change_source_claim_refuses_any_existing_owner(db: DBConnector) -> None:
    m = await rows.master(db)
    cs = await db.changesources.findChangeSourceId("poller")
    await db.changesources.setChangeSourceMaster(cs, m)
    with pytest.raises(ChangeSourceAlreadyClaimedError):
        await db.changesources.setChangeSourceMaster(cs, m)
    assert await db.changesources.getChangeSource(cs) == ChangeSourceModel(cs, "poller", m)
    assert await db.changesources.get_change_source_master(cs) == m
    await db.changesources.setChangeSourceMaster(cs, None)
    assert await db.changesources.getChangeSources(active=False) == [
        ChangeSourceModel(cs, "poller")]
    assert await db.changesources.getChangeSources(masterid=m) == []
