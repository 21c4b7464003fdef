"""`DebugServices`: runs `c['manhole']` (see buildbot.manhole) and swaps it on reconfig."""

from __future__ import annotations

from typing import Any

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.util.service import AsyncMultiService, ReconfigurableServiceMixin


class DebugServices(ReconfigurableServiceMixin, AsyncMultiService):
    """Parent of the configured manhole; a changed manhole replaces the running one."""

    def __init__(self) -> None:
        super().__init__(name="debug_services")
        self.manhole: Any = None

    @property
    def master(self) -> Any:
        return self.parent

    async def _reconfig(self, new_config: Any) -> None:
        new = getattr(new_config, "manhole", None)
        if new == self.manhole:  # manholes compare by their arguments
            return
        old, self.manhole = self.manhole, None
        if old is not None:
            await maybe_await(old.disownServiceParent())
        if new is not None:
            self.manhole = new
            await self.add_child(new)

    def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> Any:
        return ensure_deferred(self._reconfig(new_config))

    async def stop(self) -> None:
        await super().stop()
        self.manhole = None
