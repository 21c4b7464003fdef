"""The link between one worker and one builder, with its availability state.

A normal worker's link exists while the worker is connected and has acknowledged the
builder (DETACHED → ATTACHING → AVAILABLE ⇄ BUILDING). A latent worker's link exists from
configuration on, AVAILABLE without a connection; a build on it goes BUILDING → DETACHED
(while the worker is substantiated) → BUILDING (attached) → AVAILABLE (finished).
"""

from __future__ import annotations

import enum
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.interfaces import LatentWorkerCannotSubstantiate
from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.internal import internal_class

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
        self.builder_name: str = builder.name
        self.worker: Any = None
        self.state = States.DETACHED
        self.remoteCommands: dict[str, str] | None = None
        # the answer awaited by a running ping (abortPingIfAny cancels it)
        self._ping_answer: defer.Deferred[Any] | None = None

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} builder={self.builder_name!r} "
                f"worker={self.getWorkerName()!r} state={self.state.name}>")

    def getWorkerName(self) -> str | None:
        return self.worker.workername if self.worker is not None else None

    def getWorkerCommandVersion(self, command: str, oldversion: str | None = None
                                ) -> str | None:
        """The worker's version of `command` (None if it does not have it)."""
        if self.remoteCommands is None:
            return oldversion
        return self.remoteCommands.get(command)

    def isAvailable(self) -> bool:
        """Can a build start on this link now?"""
        if self.isBusy() or self.worker is None:
            return False
        return bool(self.worker.canStartBuild())

    def isBusy(self) -> bool:
        """Running or preparing a build, or not usable (the reference's meaning)."""
        return self.state != States.AVAILABLE

    def buildStarted(self) -> None:
        self.state = States.BUILDING
        self.worker.buildStarted(self)

    def buildFinished(self) -> None:
        self.state = States.AVAILABLE if self._usable() else States.DETACHED
        if self.worker is not None:
            self.worker.buildFinished(self)

    def _usable(self) -> bool:
        return self.worker is not None

    async def attached(self, worker: Any, commands: dict[str, str] | None) -> None:
        """The worker connected and acknowledged this builder."""
        self.remoteCommands = commands
        self.worker = worker
        log.info("Worker {w} attached to {b}", w=worker.workername, b=self.builder_name)
        await worker.conn.remotePrint(message="attached")
        worker.addWorkerForBuilder(self)

    def detached(self) -> None:
        """The link is dropped (connection lost, builder or worker removed)."""
        if self.worker is not None:
            self.worker.removeWorkerForBuilder(self)
        self.worker = None
        self.remoteCommands = None
        self.state = States.DETACHED

    async def prepare(self, build: Any) -> bool:
        """Get the worker ready for `build`: claim its worker-level locks without waiting,
        then (latent workers) substantiate it. A failure that the build's stop did not
        cause puts the worker in quarantine.

        Raises `LatentWorkerCannotSubstantiate` when the worker can never run the build.
        """
        worker = self.worker
        if worker is None:
            return False
        if not worker.acquireLocks(build):
            self._preparation_failed(build, "its worker locks are taken")
            return False
        try:
            ready = await self.substantiate_if_needed(build)
        except LatentWorkerCannotSubstantiate:
            self._preparation_failed(build, "it cannot substantiate")
            raise
        if not ready:
            self._preparation_failed(build, "it did not get ready")
        return ready

    def _preparation_failed(self, build: Any, why: str) -> None:
        if getattr(build, "stopped", False) or self.worker is None:
            return
        log.info("worker {w} failed to prepare for {build}: {why}", w=self.getWorkerName(),
                 build=build, why=why)
        self.worker.putInQuarantine()

    async def substantiate_if_needed(self, build: Any) -> bool:
        return True

    def cancel_preparation(self) -> None:
        """The build was stopped while preparing (latent workers stop substantiating)."""

    async def ping(self) -> bool:
        """Check the worker answers (`print("ping")`); a failure drops the connection."""
        conn = self.worker.conn if self.worker is not None else None
        if conn is None:
            return False
        answer = self._ping_answer = ensure_deferred(conn.remotePrint(message="ping"))
        try:
            await answer
            return True
        except defer.CancelledError:
            log.info("ping of worker {name} aborted", name=self.getWorkerName())
            return False
        except Exception as e:
            # An answering-but-broken worker would get the retried build right away, over
            # and over: drop it.
            log.info("ping of worker {name} failed: {e}", name=self.getWorkerName(), e=e)
            conn.loseConnection()
            return False
        finally:
            if self._ping_answer is answer:
                self._ping_answer = None

    def abortPingIfAny(self) -> None:
        """End a running ping at once: it answers False (the connection is kept)."""
        answer, self._ping_answer = self._ping_answer, None
        if answer is not None and not answer.called:
            answer.cancel()

    def insubstantiate_if_needed(self) -> None:
        """Nothing to do for a connected worker (latent workers stop theirs)."""


class WorkerForBuilder(AbstractWorkerForBuilder):
    """Link to a normal (connected) worker."""

    async def attached(self, worker: Any, commands: dict[str, str] | None) -> None:
        self.state = States.ATTACHING
        await super().attached(worker, commands)
        if self.state == States.ATTACHING:
            self.state = States.AVAILABLE

    def _usable(self) -> bool:
        return self.worker is not None and self.worker.conn is not None


class LatentWorkerForBuilder(AbstractWorkerForBuilder):
    """Link to a latent worker: available while not connected; substantiated on demand."""

    def __init__(self, worker: Any, builder: Any) -> None:
        super().__init__(builder)
        self.worker = worker
        self.state = States.AVAILABLE
        self._preparing = False
        worker.addWorkerForBuilder(self)
        log.info("Latent worker {w} attached to {b}", w=worker.workername,
                 b=self.builder_name)

    async def attached(self, worker: Any, commands: dict[str, str] | None) -> None:
        # A latent worker attaches because a build of ours (or another builder's) asked
        # for it: ours then builds; other links stay as they are.
        if self.state == States.DETACHED:
            self.state = States.BUILDING
        await super().attached(worker, commands)

    async def substantiate_if_needed(self, build: Any) -> bool:
        self.state = States.DETACHED
        self._preparing = True
        try:
            worker = self.worker
            if worker is None:
                return False
            return bool(await maybe_await(worker.substantiate(self, build)))
        except LatentWorkerCannotSubstantiate:
            raise
        except Exception as e:
            log.info("worker {w} did not substantiate for {build}: {why}",
                     w=self.getWorkerName(), build=build, why=e)
            return False
        finally:
            self._preparing = False

    def substantiate(self, build: Any) -> defer.Deferred[bool]:
        """Start the latent worker for `build`: True once it is connected."""
        if self.worker is None:
            return defer.succeed(False)
        return ensure_deferred(self.worker.substantiate(self, build))

    def insubstantiate_if_needed(self) -> None:
        """Stop the latent worker (in the background; its service waits for it)."""
        if self.worker is not None:
            self.worker.tasks.spawn("insubstantiation", self.worker.insubstantiate())

    def cancel_preparation(self) -> None:
        if self._preparing and self.worker is not None:
            self.worker.tasks.spawn("insubstantiation after a stopped build",
                                    self.worker.insubstantiate())

    async def ping(self) -> bool:
        if self.worker is None or not self.worker.substantiated:
            return False
        return await super().ping()


class PingException(Exception):
    """A worker did not answer a ping."""


Ping = internal_class(__name__, "Ping", "workers are pinged by their connection (ping())")
