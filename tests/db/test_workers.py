"""Workers: configuration per master, connections, pause and graceful flags."""

from __future__ import annotations

import pytest
import pytest_twisted

from buildbot.db.connector import DBConnector
from buildbot.db.errors import InvalidValueError
from buildbot.db.workers import BuilderMasterModel, WorkerModel
from tests.db import rows

pytestmark = pytest.mark.db


@pytest_twisted.ensureDeferred
async def test_find_worker_id_requires_an_identifier(db: DBConnector) -> None:
    wid = await db.workers.findWorkerId("w1")
    assert await db.workers.findWorkerId("w1") == wid
    with pytest.raises(InvalidValueError):
        await db.workers.findWorkerId("not a name")
    assert await db.workers.getWorker(workerid=wid) == WorkerModel(wid, "w1", {})


@pytest_twisted.ensureDeferred
async def test_find_worker_ids_in_bulk(db: DBConnector) -> None:
    known = await db.workers.findWorkerId("w7")
    names = [f"w{i}" for i in range(600)]  # more than one IN (...) chunk
    ids = await db.workers.findWorkerIds(names)
    assert set(ids) == set(names) and ids["w7"] == known and len(set(ids.values())) == 600
    assert await db.workers.findWorkerIds(["w1", "w1"]) == {"w1": ids["w1"]}
    with pytest.raises(InvalidValueError):
        await db.workers.findWorkerIds(["ok", "not a name"])


@pytest_twisted.ensureDeferred
async def test_many_workers_configured_at_once(db: DBConnector) -> None:
    m1 = await rows.master(db, "m1")
    m2 = await rows.master(db, "m2")
    b1, b2, b3 = (await db.builders.findBuilderIds(["b1", "b2", "b3"])).values()
    await db.builders.addBuilderMasters([b1, b2], m1)
    await db.builders.addBuilderMasters([b1], m2)
    w = await db.workers.findWorkerIds(["x", "y", "z"])
    await db.workers.workerConfigured(w["z"], m2, [b1])
    await db.workers.workersConfigured(m1, {w["x"]: [b1, b3], w["y"]: [b1, b2], w["z"]: [b2]})
    await db.workers.workersConfigured(m1, {w["x"]: [b2], w["y"]: [b1]})
    configured = {x.name: sorted((c.builderid, c.masterid) for c in x.configured_on)
                  for x in await db.workers.getWorkers()}
    assert configured == {"x": [(b2, m1)], "y": [(b1, m1)],
                          "z": sorted([(b1, m2), (b2, m1)])}


@pytest_twisted.ensureDeferred
async def test_configured_matches_builder_masters_of_this_master(db: DBConnector) -> None:
    m1 = await rows.master(db, "m1")
    m2 = await rows.master(db, "m2")
    b1, b2, b3 = [await db.builders.findBuilderId(n) for n in ("b1", "b2", "b3")]
    for b in (b1, b2):
        await db.builders.addBuilderMaster(builderid=b, masterid=m1)
    await db.builders.addBuilderMaster(builderid=b1, masterid=m2)
    w = await db.workers.findWorkerId("w")
    await db.workers.workerConfigured(w, m1, [b1, b2, b3])  # b3 is not on m1: skipped
    await db.workers.workerConfigured(w, m2, [b1])
    await db.workers.workerConfigured(w, m1, [b2])
    found = await db.workers.getWorker(workerid=w)
    assert found is not None
    assert sorted(found.configured_on, key=lambda c: c.masterid) == [
        BuilderMasterModel(b2, m1), BuilderMasterModel(b1, m2)]
    assert [x.id for x in await db.workers.getWorkers(masterid=m2, builderid=b1)] == [w]
    assert await db.workers.getWorkers(masterid=m2, builderid=b2) == []
    await db.workers.deconfigureAllWorkersForMaster(m1)
    assert (await db.workers.getWorker(name="w")).configured_on == [  # type: ignore[union-attr]  # not None here
        BuilderMasterModel(b1, m2)]


@pytest_twisted.ensureDeferred
async def test_connection_stores_info_and_is_per_master(db: DBConnector) -> None:
    m1 = await rows.master(db, "m1")
    m2 = await rows.master(db, "m2")
    w = await db.workers.findWorkerId("w")
    info = {"admin": "me", "host": "h", "access_uri": None, "version": "4.3.0"}
    await db.workers.workerConnected(w, m1, info)
    await db.workers.workerConnected(w, m1, info)
    await db.workers.workerConnected(w, m2, {})
    assert await db.workers.getWorker(workerid=w) == WorkerModel(w, "w", {}, connected_to=[m1, m2])
    await db.workers.workerConnected(w, m1, info)
    await db.workers.workerDisconnected(w, m2)
    assert await db.workers.getWorker(workerid=w) == WorkerModel(w, "w", info, connected_to=[m1])


@pytest_twisted.ensureDeferred
async def test_pause_and_graceful_flags_filter(db: DBConnector) -> None:
    a = await db.workers.findWorkerId("a")
    b = await db.workers.findWorkerId("b")
    await db.workers.set_worker_paused(a, True, "maintenance")
    await db.workers.set_worker_graceful(b, True)
    assert await db.workers.getWorkers(paused=True) == [
        WorkerModel(a, "a", {}, paused=True, pause_reason="maintenance")]
    assert await db.workers.getWorkers(graceful=True) == [WorkerModel(b, "b", {}, graceful=True)]
    await db.workers.set_worker_paused(a, False)
    assert [w.id for w in await db.workers.getWorkers(paused=False)] == [a, b]
