"""Lock declarations for master.cfg (`MasterLock`, `WorkerLock`, `LockAccess`) and the real
locks, at the path the reference uses; everything lives in `buildbot.process.locks`."""

from buildbot.process.locks import (
    BaseLock,
    BaseLockId,
    LockAccess,
    MasterLock,
    RealMasterLock,
    RealWorkerLock,
    WorkerLock,
)

__all__ = ["BaseLock", "BaseLockId", "LockAccess", "MasterLock", "RealMasterLock",
           "RealWorkerLock", "WorkerLock"]
