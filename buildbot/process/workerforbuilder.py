"""The link between one worker and one builder, with its availability state."""

from __future__ import annotations

import enum
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

log = Logger()


class States(enum.Enum):
    DETACHED = 0
    ATTACHING = 1
    AVAILABLE = 2
    BUILDING = 3


class AbstractWorkerForBuilder:
    """A builder's view of one worker."""

    def __init__(self, builder: Any) -> None:
        self.builder = builder
        self.worker: Any = None
        self.state = States.DETACHED
        self.remoteCommands: dict[str, str] = {}

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} builder={self.builder.name!r} "
                f"worker={self.getWorkerName()!r} state={self.state.name}>")

    def getWorkerName(self) -> str | None:
        return self.worker.workername if self.worker is not None else None

    def isAvailable(self) -> bool:
        """Can a build start on this link now?"""
        return self.state == States.AVAILABLE and self.worker is not None and \
            self.worker.canStartBuild()

    def isBusy(self) -> bool:
        return self.state == States.BUILDING

    def buildStarted(self) -> None:
        self.state = States.BUILDING
        self.worker.buildStarted(self)

    def buildFinished(self) -> None:
        if self.state == States.BUILDING:
            self.state = States.AVAILABLE
        if self.worker is not None:
            self.worker.buildFinished(self)

    async def attached(self, worker: Any, commands: dict[str, str]) -> None:
        """The worker connected and acknowledged this builder."""
        self.state = States.ATTACHING
        self.worker = worker
        self.remoteCommands = commands or {}
        conn = worker.conn
        if conn is not None:
            await conn.remotePrint(message="attached")
        if self.state == States.ATTACHING:
            self.state = States.AVAILABLE

    def detached(self) -> None:
        log.debug("{wfb} detached", wfb=self)
        self.worker = None
        self.state = States.DETACHED

    async def prepare(self, build: Any) -> bool:
        """Get the worker ready for `build` (claims worker-level locks without waiting)."""
        if self.worker is None:
            return False
        return bool(self.worker.acquireLocks(build))

    async def ping(self) -> bool:
        """Check the worker answers (`print("ping")`); a failure drops the connection."""
        conn = self.worker.conn if self.worker is not None else None
        if conn is None:
            return False
        try:
            await conn.remotePrint(message="ping")
            return True
        except Exception as e:
            log.info("ping of worker {name} failed: {e}", name=self.getWorkerName(), e=e)
            conn.loseConnection()
            return False


class WorkerForBuilder(AbstractWorkerForBuilder):
    """Link to a normal (always connected) worker."""


class LatentWorkerForBuilder(AbstractWorkerForBuilder):
    """Link to a latent worker: available while not connected; substantiated on demand."""

    def __init__(self, worker: Any, builder: Any) -> None:
        super().__init__(builder)
        self.worker = worker
        self.state = States.AVAILABLE
        self._substantiating: defer.Deferred[Any] | None = None

    def isAvailable(self) -> bool:
        return self.state == States.AVAILABLE and self.worker.canStartBuild()

    async def prepare(self, build: Any) -> bool:
        if not self.worker.acquireLocks(build):
            return False
        self.state = States.DETACHED
        ok = bool(await self.worker.substantiate(self, build))
        if ok and self.worker.conn is not None:
            self.state = States.BUILDING
        return ok

    def cancel_preparation(self) -> None:
        if hasattr(self.worker, "insubstantiate_for_cancel"):
            self.worker.insubstantiate_for_cancel()

    def detached(self) -> None:
        # A latent link survives disconnection: the worker can be started again.
        self.state = States.AVAILABLE
