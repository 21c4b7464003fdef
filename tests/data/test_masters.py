"""masters: getters, heartbeat updates, expiry and the housekeeping of dead masters."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.data.masters import master_entity
from buildbot.util.results import RETRY
from buildbot.util.resultspec import Filter
from tests.fixtures.stack import MASTER_NAME, START_TIME, Stack, at

# SQL semantics: also run on PostgreSQL and MariaDB by .ci/run.
pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_get_master_by_id_and_in_collection(stack: Stack) -> None:
    me = {"masterid": stack.masterid, "name": MASTER_NAME, "active": True,
          "last_active": at()}
    assert await stack.data.get(("masters", stack.masterid)) == me
    assert await stack.data.get(("masters", str(stack.masterid))) == me
    assert await stack.data.get(("masters",)) == [me]
    assert master_entity.invalid_fields(me) == []
    assert await stack.data.get(("masters", 999)) is None


@pytest_twisted.ensureDeferred
async def test_master_active_announces_started_only_when_it_was_inactive(stack: Stack) -> None:
    other = await stack.updates.findMasterId("other:/m")
    seen = stack.mq_record(("masters", None, None))

    await stack.updates.masterActive("other:/m", other)
    await stack.updates.masterActive("other:/m", other)

    assert seen == [(("masters", str(other), "started"),
                     {"masterid": other, "name": "other:/m", "active": True})]


@pytest_twisted.ensureDeferred
async def test_last_active_filter_takes_epoch_seconds_or_a_datetime(stack: Stack) -> None:
    other = await stack.updates.findMasterId("other:/m")
    stack.clock.advance(100)
    await stack.updates.masterActive("other:/m", other)

    for since in (START_TIME + 50, at(50)):
        newer = await stack.data.get(("masters",), filters=[
            Filter("last_active", "gt", [since])])
        assert [(m["masterid"], m["last_active"]) for m in newer] == [(other, at(100))]


@pytest_twisted.ensureDeferred
async def test_expired_master_is_cleaned_up(stack: Stack) -> None:
    """Housekeeping of a dead master: workers deconfigured, builders detached, schedulers and
    change sources released, running builds finished RETRY, claims released."""
    dead = await stack.updates.findMasterId("dead:/m")
    await stack.updates.masterActive("dead:/m", dead)
    bid = await stack.updates.findBuilderId("linux")
    await stack.updates.updateBuilderList(dead, ["linux"])
    wid = await stack.make_worker("w1")
    await stack.updates.workerConfigured(wid, dead, [bid])
    sched = await stack.updates.findSchedulerId("sched")
    await stack.updates.trySetSchedulerMaster(sched, dead)
    cs = await stack.updates.findChangeSourceId("poller")
    await stack.updates.trySetChangeSourceMaster(cs, dead)
    # a build the dead master was running, with an open step and log
    _, brids = await stack.make_buildset(builderids=[bid])
    _pending_bsid, pending = await stack.make_buildset(builderids=[bid])
    stack.db.masterid = dead  # claims and builds are made by the dead master
    await stack.updates.claimBuildRequests([brids[bid], pending[bid]])
    buildid, _ = await stack.db.builds.addBuild(builderid=bid, buildrequestid=brids[bid],
                                                workerid=wid, masterid=dead,
                                                state_string="building")
    stack.db.masterid = stack.masterid
    step = await stack.make_step(buildid)
    log = await stack.make_log(step.id)
    stack.clock.advance(11 * 60)
    await stack.updates.masterActive(MASTER_NAME, stack.masterid)
    seen = stack.mq_record(("masters", None, None), ("builders", None, None),
                           ("builds", None, None), ("steps", None, None), ("logs", None, None))

    await stack.updates.expireMasters()

    assert [k for k, _ in seen] == [
        ("builders", str(bid), "stopped"),
        ("logs", str(log.id), "finished"),
        ("steps", str(step.id), "finished"),
        ("builds", str(buildid), "finished"),
        ("masters", str(dead), "stopped")]
    assert (await stack.data.get(("builds", buildid)))["results"] == RETRY
    assert (await stack.data.get(("steps", step.id)))["results"] == RETRY
    assert (await stack.data.get(("workers", wid)))["configured_on"] == []
    assert (await stack.data.get(("schedulers", sched)))["master"] is None
    assert (await stack.data.get(("changesources", cs)))["master"] is None
    assert (await stack.data.get(("masters", dead)))["active"] is False
    # Buildbot 4.3 leaves these claimed (it releases only the local master's claims).
    claims = [(await stack.data.get(("buildrequests", b)))["claimed"]
              for b in (brids[bid], pending[bid])]
    assert claims == [False, False]
    # the local master is alive: nothing happened to it
    assert (await stack.data.get(("masters", stack.masterid)))["active"] is True


@pytest_twisted.ensureDeferred
async def test_master_stopped_and_forced_housekeeping(stack: Stack) -> None:
    other = await stack.updates.findMasterId("other:/m")
    await stack.updates.masterActive("other:/m", other)
    bid = await stack.updates.findBuilderId("linux")
    await stack.updates.updateBuilderList(other, ["linux"])
    seen = stack.mq_record(("masters", None, None), ("builders", None, None))

    await stack.updates.masterStopped("other:/m", other)
    await stack.updates.masterStopped("other:/m", other)  # inactive already: nothing
    await stack.updates.updateBuilderList(other, ["linux"])
    stack.clock.advance(11 * 60)
    await stack.updates.masterActive(MASTER_NAME, stack.masterid)
    await stack.updates.expireMasters(forceHouseKeeping=True)

    assert [k for k, _ in seen] == [
        ("builders", str(bid), "stopped"), ("masters", str(other), "stopped"),
        ("builders", str(bid), "started"),
        ("builders", str(bid), "stopped")]  # forced housekeeping: no `stopped` for the master
