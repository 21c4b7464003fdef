"""4.3's real locks are shared services: one per name under a parent, found again by name,
started and stopped with the parent, and knowing the master through it (issue 12)."""

from __future__ import annotations

import pytest_twisted

from buildbot.locks import LockAccess, MasterLock, RealMasterLock, RealWorkerLock, WorkerLock
from buildbot.util.service import MasterService


@pytest_twisted.ensureDeferred
async def test_real_locks_are_one_shared_service_per_name_under_a_parent() -> None:
    master = MasterService()
    await master.startService()
    try:
        first = await RealMasterLock.getService(master, "db")
        again = await RealMasterLock.getService(master, "db")
        other = await RealMasterLock.getService(master, "net")
        worker = await RealWorkerLock.getService(master, "db")
        assert first is again and first is not other and worker is not first
        assert first.name == RealMasterLock.getName("db") and first.running
        assert (first.master, worker.master) == (master, master)
        assert master.services[0] is worker  # the newest first: stopped after its users

        first.updateFromLockId(MasterLock("db", maxCount=2), 0)
        access = LockAccess(MasterLock("db", maxCount=2), "counting", 2)
        assert first.isAvailable("build 1", access)
        first.claim("build 1", access)
        assert not first.isAvailable("build 2", LockAccess(MasterLock("db"), "counting", 1))
        first.release("build 1", access)

        worker.updateFromLockId(WorkerLock("db", maxCountForWorker={"w1": 3}), 0)
        assert worker.getLockForWorker("w1").maxCount == 3
    finally:
        await master.stopService()
    assert not first.running and not worker.running
