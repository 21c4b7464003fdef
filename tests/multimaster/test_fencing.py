"""Fencing in the database: once another master has expired a master, its claims, build
starts and completions are refused; its check-in reports it; c['masterHeartbeat']."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors
from buildbot.config.master import MasterConfig
from buildbot.db.connector import DBConnector
from buildbot.db.errors import AlreadyClaimedError, MasterFencedError, NotClaimedError
from buildbot.process.results import SUCCESS
from tests.db import rows

pytestmark = pytest.mark.multimaster


async def fenced_pair(db: DBConnector) -> tuple[int, int, int, int]:
    """(local master, other master, builderid, brid): the local master is running (active,
    fenced writes on) and has an unclaimed request."""
    me = await rows.master(db, "host:/me")
    other = await rows.master(db, "host:/other", local=False)
    await db.masters.setMasterState(me, True)
    await db.masters.setMasterState(other, True)
    db.fenced_masterid = me
    builderid = await db.builders.findBuilderId("b1")
    assert builderid is not None
    _, brids = await rows.buildset(db, [builderid])
    return me, other, builderid, brids[builderid]


@pytest_twisted.ensureDeferred
async def test_an_expired_master_can_no_longer_claim_start_or_finish(db: DBConnector) -> None:
    me, other, builderid, brid = await fenced_pair(db)
    await db.buildrequests.claimBuildRequests([brid])
    workerid = await db.workers.findWorkerId("w1")
    buildid, _ = await db.builds.addBuild(builderid, brid, workerid, me, "started")
    assert await db.masters.checkIn(me)

    # another master expires this one
    assert await db.masters.setMasterState(me, False)

    assert not await db.masters.checkIn(me)  # the heartbeat notices, and does not revive it
    master = await db.masters.getMaster(me)
    assert master is not None and not master.active
    with pytest.raises(MasterFencedError):
        await db.builds.finishBuild(buildid, SUCCESS)
    with pytest.raises(NotClaimedError):  # callers handling a lost race handle this too
        await db.buildrequests.completeBuildRequests([brid], SUCCESS)
    with pytest.raises(MasterFencedError):
        await db.builds.addBuild(builderid, brid, workerid, me, "started")
    _, more = await rows.buildset(db, [builderid])
    with pytest.raises(AlreadyClaimedError):
        await db.buildrequests.claimBuildRequests([more[builderid]])
    build = await db.builds.getBuild(buildid)
    assert build is not None and build.results is None
    request = await db.buildrequests.getBuildRequest(brid)
    assert request is not None and not request.complete
    # other masters are not affected: the survivor claims the new request
    await db.buildrequests.claimBuildRequests([more[builderid]], masterid=other)


@pytest_twisted.ensureDeferred
async def test_without_a_running_master_nothing_is_fenced(db: DBConnector) -> None:
    # tools and plugins using the db API directly (no fenced_masterid) are unaffected
    me, _, _, brid = await fenced_pair(db)
    db.fenced_masterid = None
    await db.masters.setMasterState(me, False)
    await db.buildrequests.claimBuildRequests([brid])
    await db.buildrequests.completeBuildRequests([brid], SUCCESS)


@pytest_twisted.ensureDeferred
async def test_expiring_a_master_disconnects_its_workers(db: DBConnector) -> None:
    _, other, _, _ = await fenced_pair(db)
    workerid = await db.workers.findWorkerId("w1")
    await db.workers.workerConnected(workerid, other, {})
    await db.masters.setMasterState(other, False)
    worker = await db.workers.getWorker(workerid)
    assert worker is not None and worker.connected_to == []


def load(extra: dict[str, Any]) -> MasterConfig:
    return MasterConfig.loadFromDict(dict({"multiMaster": True}, **extra), "master.cfg")


def test_heartbeat_defaults_and_values() -> None:
    assert load({}).masterHeartbeat == {"interval": 5.0, "expiry": 30.0}
    assert load({"masterHeartbeat": {"expiry": 12}}).masterHeartbeat == {
        "interval": 5.0, "expiry": 12.0}
    assert load({"masterHeartbeat": {"interval": 0.5, "expiry": 3}}).masterHeartbeat == {
        "interval": 0.5, "expiry": 3.0}


@pytest.mark.parametrize(("value", "message"), [
    (5, "c['masterHeartbeat'] must be a dictionary with 'interval' and/or 'expiry'"),
    ({"timeout": 3}, ("c['masterHeartbeat'] has unknown keys ['timeout']: only 'interval' "
                      "and 'expiry' are allowed")),
    ({"interval": 0}, "c['masterHeartbeat']['interval'] must be a positive number of seconds"),
    ({"expiry": "30"}, "c['masterHeartbeat']['expiry'] must be a positive number of seconds"),
    ({"interval": 10, "expiry": 15}, ("c['masterHeartbeat']['expiry'] must be at least "
                                      "twice its 'interval' (a master would be expired "
                                      "between two of its own check-ins)")),
])
def test_heartbeat_errors(value: Any, message: str) -> None:
    with pytest.raises(ConfigErrors) as e:
        load({"masterHeartbeat": value})
    assert e.value.errors == [message]
