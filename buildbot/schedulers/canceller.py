"""`OldBuildCanceller`: when a new commit lands on a branch, the build requests (queued or
building) started for older commits of that branch on the same builder are cancelled.

Configured as a service: `c['services'] = [util.OldBuildCanceller(name, filters)]`, where
`filters` is a list of `(builders, SourceStampFilter)` pairs choosing which builders and
branches are watched.

A request is obsolete only if a change arrived for its branch after the request was seen and
a newer request for that branch was then created on the same builder: a change alone cancels
nothing, because the schedulers may decide not to build it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.util.deferred import as_deferred
from buildbot.util.resultspec import Filter
from buildbot.util.service import BuildbotService
from buildbot.util.ssfilter import SourceStampFilter, extract_filter_values

log = Logger()

CANCEL_REASON = "Build request has been obsoleted by a newer commit"
# Change times are pruned to this window every PRUNE_EVERY changes (keeps memory bounded).
CHANGE_MEMORY_S = 600
PRUNE_EVERY = 1000

BranchId = tuple[Any, Any, Any, Any]  # project, codebase, repository, branch key
BranchKeyFn = Callable[[dict[str, Any]], Any]


def default_branch_key(ss_or_change: dict[str, Any]) -> Any:
    """The branch, with Gerrit's `refs/changes/NN/CHANGE/PATCHSET` reduced to the change, so
    that a new patchset makes the builds of the previous ones obsolete."""
    branch = ss_or_change["branch"]
    if branch is None:
        return None
    m = re.match(r"(refs/changes/\d+/\d+)/\d+", branch)
    return m.group(1) if m else branch


def check_builder_filters(owner: str, filters: Any, arity: int, shape: str) -> None:
    """Report with config.error unless `filters` is a list of `arity`-tuples whose last item
    is a SourceStampFilter and whose builder items are names (shared with
    FailingBuildsetCanceller)."""
    if not isinstance(filters, list):
        config.error(f"{owner}: The filters argument must be a list of tuples")
        return
    for item in filters:
        if not isinstance(item, tuple) or len(item) != arity \
                or not isinstance(item[-1], SourceStampFilter):
            config.error(f"{owner}: The filters argument must be a list of tuples each of "
                         f"which contains {shape}")
            continue
        try:
            extract_filter_values(item[0], "builders")
            if arity == 3 and item[1] is not None:
                extract_filter_values(item[1], "builders_to_cancel")
        except ValueError as e:
            config.error(f"{owner}: When processing filter builders: {e}")


@dataclass
class _Request:
    brid: int
    builder: str
    seen_at: float
    branches: list[BranchId]


class _BranchTracker:
    """Which watched build requests are still open, by branch, and when each branch last
    received a change."""

    def __init__(self, now: Callable[[], float], filters: dict[str, list[SourceStampFilter]],
                 branch_key: BranchKeyFn) -> None:
        self.now = now
        self.filters = filters
        self.branch_key = branch_key
        self.requests: dict[int, _Request] = {}
        self.by_branch: dict[BranchId, set[int]] = {}
        self.last_change: dict[BranchId, float] = {}
        self._changes_since_prune = 0

    def _branch_id(self, d: dict[str, Any]) -> BranchId:
        return (d["project"], d["codebase"], d["repository"], self.branch_key(d))

    def change(self, change: dict[str, Any]) -> None:
        now = self.now()
        self.last_change[self._branch_id(change)] = now
        self._changes_since_prune += 1
        if self._changes_since_prune >= PRUNE_EVERY:
            self._changes_since_prune = 0
            self.last_change = {b: t for b, t in self.last_change.items()
                                if now - t < CHANGE_MEMORY_S}

    def new_request(self, brid: int, builder: str,
                    sourcestamps: Iterable[dict[str, Any]]) -> list[int]:
        """Track a new request; return the ids of the requests it makes obsolete."""
        sourcestamps = list(sourcestamps)
        obsolete: list[int] = []
        for ss in sourcestamps:
            branch = self._branch_id(ss)
            changed_at = self.last_change.get(branch)
            if changed_at is None:
                continue  # the new request does not follow a change: it obsoletes nothing
            for old in sorted(self.by_branch.get(branch, ())):
                req = self.requests[old]
                if req.builder == builder and req.seen_at < changed_at:
                    self.forget(old)
                    obsolete.append(old)
        self._track(brid, builder, sourcestamps)
        return obsolete

    def _track(self, brid: int, builder: str, sourcestamps: list[dict[str, Any]]) -> None:
        if any(ss["branch"] is None for ss in sourcestamps):
            return
        # one watched codebase is enough to watch the request
        watched = [ss for ss in sourcestamps
                   if any(f.is_matched(ss) for f in self.filters.get(builder, ()))]
        if not watched:
            return
        req = _Request(brid, builder, self.now(), [self._branch_id(ss) for ss in watched])
        self.requests[brid] = req
        for branch in req.branches:
            self.by_branch.setdefault(branch, set()).add(brid)

    def forget(self, brid: int) -> None:
        req = self.requests.pop(brid, None)
        if req is None:
            return
        for branch in req.branches:
            ids = self.by_branch.get(branch)
            if ids is not None:
                ids.discard(brid)
                if not ids:
                    del self.by_branch[branch]


class OldBuildCanceller(BuildbotService):
    """Cancels build requests made obsolete by newer commits on the same branch."""

    compare_attrs = (*BuildbotService.compare_attrs, "filters")

    def checkConfig(self, name: str, filters: Any, branch_key: BranchKeyFn | None = None
                    ) -> None:
        self.check_filters(filters)
        self.name = name
        self.filters = filters
        self._tracker: _BranchTracker | None = None
        self._consumers: list[Any] = []
        # mq events are handled one at a time, in arrival order (handlers read the data API)
        self._serial = defer.DeferredLock()

    @classmethod
    def check_filters(cls, filters: Any) -> None:
        """Report malformed `filters` with config.error."""
        check_builder_filters(cls.__name__, filters, 2,
                              "builders as the first item and SourceStampFilter as the second")

    @classmethod
    def filter_tuples_to_filter_set_object(cls, filters: Any
                                           ) -> dict[str, list[SourceStampFilter]]:
        """The source stamp filters of each builder named in `filters`."""
        by_builder: dict[str, list[SourceStampFilter]] = {}
        for builders, ss_filter in filters:
            for builder in extract_filter_values(builders, "builders"):
                by_builder.setdefault(builder, []).append(ss_filter)
        return by_builder

    async def reconfigService(self, name: str, filters: Any,
                              branch_key: BranchKeyFn | None = None) -> None:
        self.filters = filters
        by_builder = self.filter_tuples_to_filter_set_object(filters)
        key = branch_key or default_branch_key
        if self._tracker is None:
            self._tracker = _BranchTracker(self.master.reactor.seconds, by_builder, key)
        else:
            # requests already tracked keep the verdict of the configuration they started under
            self._tracker.filters, self._tracker.branch_key = by_builder, key
        await self._serial.run(as_deferred(self._seed))

    async def _seed(self) -> None:
        """Track the requests that were open before this configuration."""
        assert self._tracker is not None
        open_requests = await self.master.data.get(
            ("buildrequests",), filters=[Filter("complete", "eq", [False])])
        for breq in open_requests:
            if breq["buildrequestid"] not in self._tracker.requests:
                await self._request_new(breq)

    async def start(self) -> None:
        await super().start()
        mq = self.master.mq
        self._consumers = [
            await mq.startConsuming(self._in_order(self._change), ("changes", None, "new")),
            await mq.startConsuming(self._in_order(self._request_new),
                                    ("buildrequests", None, "new")),
            await mq.startConsuming(self._in_order(self._request_complete),
                                    ("buildrequests", None, "complete")),
        ]

    async def stop(self) -> None:
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.stopConsuming()
        await super().stop()

    def _in_order(self, handler: Callable[[dict[str, Any]], Any]) -> Callable[[Any, Any], None]:
        def on_message(key: Any, msg: dict[str, Any]) -> None:
            self.tasks.spawn(f"{handler.__name__} {key}",
                             self._serial.run(as_deferred(handler), msg))
        return on_message

    async def _change(self, change: dict[str, Any]) -> None:
        if self._tracker is not None:
            self._tracker.change(change)

    async def _request_new(self, breq: dict[str, Any]) -> None:
        builder = await self.master.data.get(("builders", breq["builderid"]))
        buildset = await self.master.data.get(("buildsets", breq["buildsetid"]))
        if self._tracker is None or builder is None or buildset is None:
            return
        obsolete = self._tracker.new_request(breq["buildrequestid"], builder["name"],
                                             buildset["sourcestamps"])
        for brid in obsolete:
            log.info("{name}: cancelling build request {brid}: obsoleted by a newer commit",
                     name=self.name, brid=brid)
            await self.master.data.control("cancel", {"reason": CANCEL_REASON},
                                           ("buildrequests", str(brid)))

    async def _request_complete(self, breq: dict[str, Any]) -> None:
        if self._tracker is not None:
            self._tracker.forget(breq["buildrequestid"])
