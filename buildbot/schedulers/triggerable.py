"""Triggerable: buildsets on demand from `steps.Trigger`, with their completion reported."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from zope.interface import implementer

from buildbot.interfaces import ITriggerableScheduler
from buildbot.process.properties import Properties
from buildbot.schedulers.base import ReconfigurableBaseScheduler


@implementer(ITriggerableScheduler)
class Triggerable(ReconfigurableBaseScheduler):
    """`trigger()` creates a buildset at once, on whichever master the Trigger step runs
    (ownership does not matter), and reports its results when it completes."""

    def __init__(self, name: str, builderNames: Any, *args: Any, **kwargs: Any) -> None:
        self._waiters: dict[int, tuple[defer.Deferred[Any], dict[int, int]]] = {}
        self._early: dict[int, int] = {}
        self._buildset_complete_consumer: Any = None
        self._pending_triggers = 0
        self.reason: str | None = None
        super().__init__(*args, name=name, builderNames=builderNames, **kwargs)

    def checkConfig(self, builderNames: Any = None, reason: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    **kwargs: Any) -> None:
        super().checkConfig(builderNames=builderNames, **kwargs)

    def reconfigService(self, builderNames: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        reason: str | None = None, **kwargs: Any) -> Any:
        super().reconfigService(builderNames=builderNames, **kwargs)
        self.reason = reason
        return None

    def trigger(self, waited_for: bool, sourcestamps: list[Any] | None = None,
                set_props: Properties | None = None, parent_buildid: int | None = None,
                parent_relationship: str | None = None
                ) -> tuple[defer.Deferred[tuple[int, dict[int, int]]],
                           defer.Deferred[tuple[int, dict[int, int]]]]:
        """Start a buildset for `sourcestamps` (stamp dicts or ids; the codebase defaults
        fill the rest) with the scheduler's properties overridden by `set_props`.

        Returns two Deferreds: (bsid, {builderid: brid}) once the buildset exists, and
        (results, {builderid: brid}) once it is complete. The reason is `set_props`'s
        `reason` property if given, else the scheduler's `reason`, else the default text.
        """
        props = Properties()
        for layer in (self.properties, set_props):  # the triggering step's win
            if layer:
                props.updateFromProperties(layer)
        chosen = set_props.getProperty("reason") if set_props else self.reason
        reason = chosen if chosen is not None else \
            f"The Triggerable scheduler named '{self.name}' triggered this build"
        results: defer.Deferred[Any] = defer.Deferred()
        ids = defer.ensureDeferred(self._trigger(reason, sourcestamps, waited_for, props,
                                                 parent_buildid, parent_relationship,
                                                 results))
        return ids, results

    async def _trigger(self, reason: str, sourcestamps: list[Any] | None, waited_for: bool,
                       props: Properties, parent_buildid: int | None,
                       parent_relationship: str | None,
                       results: defer.Deferred[Any]) -> tuple[int, dict[int, int]]:
        # Listen before creating the buildset: one without builders (or whose builds end
        # very fast) completes before addBuildset returns.
        self._pending_triggers += 1
        try:
            await self._update_consumer()
            bsid, brids = await self.addBuildsetForSourceStampsWithDefaults(
                reason, sourcestamps, waited_for, priority=self.priority, properties=props,
                parent_buildid=parent_buildid, parent_relationship=parent_relationship)
        except BaseException:
            self._pending_triggers -= 1
            await self._update_consumer()
            raise
        self._pending_triggers -= 1
        if bsid in self._early:
            results.callback((self._early.pop(bsid), brids))
        else:
            self._waiters[bsid] = (results, brids)
        if not self._pending_triggers:
            self._early.clear()
        await self._update_consumer()
        return bsid, brids

    async def _update_consumer(self) -> None:
        wanted = bool(self._waiters) or self._pending_triggers > 0
        if wanted and self._buildset_complete_consumer is None:
            self._buildset_complete_consumer = await self.master.mq.startConsuming(
                self._buildset_complete_cb, ("buildsets", None, "complete"))
        elif not wanted and self._buildset_complete_consumer is not None:
            self._buildset_complete_consumer.stopConsuming()
            self._buildset_complete_consumer = None

    def _buildset_complete_cb(self, key: Any, msg: dict[str, Any]) -> None:
        bsid = msg["bsid"]
        waiter = self._waiters.pop(bsid, None)
        if waiter is None:
            if self._pending_triggers:
                self._early[bsid] = msg["results"]
            return
        d, brids = waiter
        self.tasks.spawn("trigger waiters", self._update_consumer())
        d.callback((msg["results"], brids))

    async def stop(self) -> None:
        if self._buildset_complete_consumer is not None:
            self._buildset_complete_consumer.stopConsuming()
            self._buildset_complete_consumer = None
        waiters, self._waiters = self._waiters, {}
        for d, _ in waiters.values():
            d.errback(RuntimeError("Triggerable scheduler stopped before build was complete"))
        await super().stop()
