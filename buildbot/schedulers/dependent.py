"""Dependent: builds the source stamps of an upstream scheduler's buildsets once they
succeed (state `upstream_bsids` on the service's object, as in the reference)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from buildbot import config
from buildbot.interfaces import IScheduler
from buildbot.schedulers.base import ReconfigurableBaseScheduler
from buildbot.util.results import SUCCESS, WARNINGS


class Dependent(ReconfigurableBaseScheduler):
    """Watches the buildsets of `upstream` (another scheduler); each that completes with
    SUCCESS or WARNINGS gets a buildset on the same stamps, reason "downstream"."""

    upstream_name: str | None = None

    def __init__(self, name: str, upstream: Any, builderNames: Any, **kwargs: Any) -> None:
        self._buildset_new_consumer: Any = None
        self._buildset_complete_consumer: Any = None
        self._cached_upstream_bsids: list[int] | None = None
        self._subscription_lock = defer.DeferredLock()
        super().__init__(name=name, upstream=upstream, builderNames=builderNames, **kwargs)

    def checkConfig(self, upstream: Any = None, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    **kwargs: Any) -> None:
        if not IScheduler.providedBy(upstream):
            config.error("upstream must be another Scheduler instance")
        super().checkConfig(builderNames=builderNames, **kwargs)

    def reconfigService(self, upstream: Any = None, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        **kwargs: Any) -> Any:
        super().reconfigService(builderNames=builderNames, **kwargs)
        self.upstream_name = upstream.name
        return None

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        self._buildset_new_consumer = await self.master.mq.startConsuming(
            self._buildset_new_cb, ("buildsets", None, "new"))
        self._buildset_complete_consumer = await self.master.mq.startConsuming(
            self._buildset_complete_cb, ("buildsets", None, "complete"))
        # Upstream buildsets that completed while no master watched them.
        await self._locked(self._checkCompletedBuildsets, None)

    async def deactivate(self) -> None:
        await super().deactivate()
        if not self.enabled:
            return
        for consumer in (self._buildset_new_consumer, self._buildset_complete_consumer):
            if consumer is not None:
                consumer.stopConsuming()
        self._buildset_new_consumer = self._buildset_complete_consumer = None
        self._cached_upstream_bsids = None

    async def _locked(self, fn: Any, *args: Any) -> Any:
        return await self._subscription_lock.run(
            lambda: defer.ensureDeferred(fn(*args)))

    def _buildset_new_cb(self, key: Any, msg: dict[str, Any]) -> None:
        if msg["scheduler"] != self.upstream_name:
            return
        self.tasks.spawn("upstream buildset", self._locked(self._addUpstreamBuildset,
                                                           msg["bsid"]))

    def _buildset_complete_cb(self, key: Any, msg: dict[str, Any]) -> None:
        self.tasks.spawn("upstream completion", self._locked(self._checkCompletedBuildsets,
                                                             msg["bsid"]))

    async def _checkCompletedBuildsets(self, bsid: int | None) -> None:
        done = []
        for sub_bsid, ssids, complete, results in await self._getUpstreamBuildsets():
            if not complete and sub_bsid != bsid:
                continue
            if results in (SUCCESS, WARNINGS):
                await self.addBuildsetForSourceStamps(sourcestamps=list(ssids),
                                                      reason="downstream",
                                                      priority=self.priority)
            done.append(sub_bsid)
        if done:
            await self._removeUpstreamBuildsets(done)

    async def _state_objectid_for_service(self) -> int:
        # The service's own object (name, "module.Class"), set by the scheduler manager.
        if self.objectid is None:
            cls = type(self)
            self.objectid = int(await self.master.data.updates.getObjectId(
                self.name, f"{cls.__module__}.{cls.__name__}"))
        return self.objectid

    async def _updateCachedUpstreamBuilds(self) -> list[int]:
        if self._cached_upstream_bsids is None:
            oid = await self._state_objectid_for_service()
            self._cached_upstream_bsids = list(
                await self.master.data.updates.getState(oid, "upstream_bsids", []))
        return self._cached_upstream_bsids

    async def _store(self) -> None:
        oid = await self._state_objectid_for_service()
        await self.master.data.updates.setState(oid, "upstream_bsids",
                                                self._cached_upstream_bsids)

    async def _getUpstreamBuildsets(self) -> list[tuple[int, list[int], bool, Any]]:
        bsids = await self._updateCachedUpstreamBuilds()
        out = []
        changed = False
        for bsid in list(bsids):
            buildset = await self.master.data.get(("buildsets", bsid))
            if not buildset:
                bsids.remove(bsid)
                changed = True
                continue
            out.append((bsid, [ss["ssid"] for ss in buildset["sourcestamps"]],
                        buildset["complete"], buildset["results"]))
        if changed:
            await self._store()
        return out

    async def _addUpstreamBuildset(self, bsid: int) -> None:
        bsids = await self._updateCachedUpstreamBuilds()
        if bsid not in bsids:
            bsids.append(bsid)
            await self._store()

    async def _removeUpstreamBuildsets(self, bsids: list[int]) -> None:
        current = await self._updateCachedUpstreamBuilds()
        self._cached_upstream_bsids = [b for b in current if b not in set(bsids)]
        await self._store()
