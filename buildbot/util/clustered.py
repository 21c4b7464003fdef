"""Services that must be active on exactly one master of a cluster (schedulers, pollers).

Each instance claims an ownership row through the data API; while another master holds it,
the instance retries every `POLL_INTERVAL_SEC`. Only the owner calls `activate()`.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.util.deferred import maybe_await
from buildbot.util.service import BuildbotService

log = Logger()


class ClusteredBuildbotService(BuildbotService):
    """A BuildbotService active on one master at a time (the reference's class)."""

    POLL_INTERVAL_SEC = 300

    serviceid: int | None = None
    active = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._poll_call: Any = None

    # Subclasses provide these three (schedulers and change sources differ).
    async def _getServiceId(self) -> int:
        raise NotImplementedError

    async def _claimService(self) -> bool:
        raise NotImplementedError

    async def _unclaimService(self) -> None:
        raise NotImplementedError

    def activate(self) -> Any:
        """Start doing the work (subclasses)."""
        return None

    def deactivate(self) -> Any:
        """Stop doing the work (subclasses)."""
        return None

    def isActive(self) -> bool:
        return self.active

    async def start(self) -> None:
        await super().start()
        await self._try_claim()

    async def _try_claim(self) -> None:
        self._poll_call = None
        if not self.running:
            return
        try:
            if self.serviceid is None:
                self.serviceid = await self._getServiceId()
            claimed = await self._claimService()
        except Exception:
            log.failure("{svc}: cannot claim the service; retrying later", svc=self)
            claimed = False
        if claimed and self.running:
            self.active = True
            try:
                await maybe_await(self.activate())
            except Exception:
                log.failure("{svc}: activation failed", svc=self)
            return
        if self.running:
            clock = self.master.reactor
            self._poll_call = clock.callLater(self.POLL_INTERVAL_SEC, self._poll)

    def _poll(self) -> None:
        self.tasks.spawn("claim retry", self._try_claim())

    def claim_now(self) -> None:
        """Retry the claim at once if waiting for it (the master calls this when another
        master stops or is expired, so a takeover does not wait for the next poll)."""
        if self._poll_call is not None and self._poll_call.active():
            self._poll_call.cancel()
            self._poll()

    async def stop(self) -> None:
        if self._poll_call is not None and self._poll_call.active():
            self._poll_call.cancel()
        self._poll_call = None
        if self.active:
            self.active = False
            try:
                await maybe_await(self.deactivate())
            except Exception:
                log.failure("{svc}: deactivation failed", svc=self)
            try:
                await self._unclaimService()
            except Exception:
                log.failure("{svc}: cannot release the service", svc=self)
        await super().stop()
