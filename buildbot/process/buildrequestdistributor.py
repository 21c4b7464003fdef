"""Hands unclaimed build requests to available workers.

One activity loop runs at a time. Builders asking for attention are merged into a pending
list sorted by priority; each round fetches the unclaimed requests of every pending builder
in a single data API query, then, builder by builder, picks request/worker pairs, claims the
request through the database (so two masters never build it twice) and starts the build.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from twisted.logger import Logger

from buildbot.data.exceptions import StorageError
from buildbot.process.buildrequest import BuildRequest
from buildbot.process.retried_writes import storage_reason
from buildbot.util.deferred import call_user
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.resultspec import Filter
from buildbot.util.service import AsyncService

log = Logger()


class BasicBuildChooser:
    """Chooses (worker link, [request]) pairs for one builder, as the reference does."""

    def __init__(self, bldr: Any, master: Any, brdicts: list[dict[str, Any]]) -> None:
        self.bldr = bldr
        self.master = master
        self.brdicts = sorted(brdicts, key=lambda b: b["buildrequestid"])
        self.breqs: dict[int, BuildRequest] = {}
        self.workerpool = list(bldr.getAvailableWorkers())
        self.preferredWorkers: list[Any] = []
        self.rejected: set[int] = set()
        self.nextWorker = getattr(bldr.config, "nextWorker", None) or getattr(
            master.config, "select_next_worker", None)
        self.nextBuild = getattr(bldr.config, "nextBuild", None)

    async def _request(self, brdict: dict[str, Any]) -> BuildRequest:
        brid = brdict["buildrequestid"]
        if brid not in self.breqs:
            self.breqs[brid] = await BuildRequest.fromBrdict(self.master, brdict)
        return self.breqs[brid]

    async def _next_request(self) -> BuildRequest | None:
        candidates = [b for b in self.brdicts if b["buildrequestid"] not in self.rejected]
        if not candidates:
            return None
        if self.nextBuild is not None:
            reqs = [await self._request(b) for b in candidates]
            try:
                chosen = await call_user(self.nextBuild, self.bldr, reqs)
            except Exception:
                log.failure("nextBuild of builder {name} failed", name=self.bldr.name)
                return None
            return chosen if chosen in reqs else None
        best = max(candidates, key=lambda b: (b.get("priority") or 0, -b["buildrequestid"]))
        return await self._request(best)

    async def _pop_worker(self, breq: BuildRequest) -> Any:
        if self.preferredWorkers:
            return self.preferredWorkers.pop(0)
        pool = [w for w in self.workerpool if w.isAvailable()]
        if not pool:
            return None
        if self.nextWorker is not None:
            try:
                wfb = await call_user(self.nextWorker, self.bldr, pool, breq)
            except Exception:
                log.failure("nextWorker of builder {name} failed", name=self.bldr.name)
                return None
        else:
            wfb = random.choice(pool)
        if wfb not in pool:
            return None
        self.workerpool.remove(wfb)
        return wfb

    async def chooseNextBuild(self) -> tuple[Any, list[BuildRequest] | None]:
        while True:
            breq = await self._next_request()
            if breq is None:
                return None, None
            recycled: list[Any] = []
            wfb = await self._pop_worker(breq)
            while wfb is not None:
                if await self.bldr.canStartBuild(wfb, breq):
                    self.preferredWorkers[0:0] = recycled
                    self.brdicts = [b for b in self.brdicts
                                    if b["buildrequestid"] != breq.id]
                    return wfb, [breq]
                recycled.append(wfb)
                wfb = await self._pop_worker(breq)
            self.preferredWorkers[0:0] = recycled
            self.rejected.add(breq.id)


class BuildRequestDistributor(AsyncService):
    """`master.botmaster.brd`."""

    BuildChooser = BasicBuildChooser
    # After the database refused a claim (disk full, ...), the builder is looked at again
    # this much later, even if nothing else happens meanwhile.
    STORAGE_RETRY_DELAY = 10.0

    def __init__(self, botmaster: Any) -> None:
        super().__init__(name="brd")
        self.botmaster = botmaster
        self._pending: list[str] = []
        self._activity: Any = None
        self.active = True
        # In graceful shutdown only requests a parent build waits for may start.
        self.only_waited_for = False
        self._storage_retry: Any = None
        self._storage_retry_names: list[str] = []

    @property
    def master(self) -> Any:
        return self.botmaster.master

    def maybeStartBuildsOn(self, new_builders: Iterable[str]) -> None:
        """Ask for distribution on these builders (by name); returns at once."""
        if not self.running:
            return
        changed = False
        for name in new_builders:
            if name not in self._pending:
                self._pending.append(name)
                changed = True
        if changed and self._activity is None:
            self._activity = self.tasks.spawn("build request distribution", self._loop())

    async def _loop(self) -> None:
        try:
            while self._pending and self.running and self.active:
                names = self._pending
                self._pending = []
                brdicts = await self._unclaimed_requests(names)
                for name in await self._sort_builders(names, brdicts):
                    if not self.running:
                        return
                    bldr = self.botmaster.builders.get(name)
                    if bldr is None or bldr.builderid is None:
                        continue
                    reqs = brdicts.get(bldr.builderid, [])
                    if not reqs:
                        continue
                    try:
                        await self._start_builds_on(bldr, reqs)
                    except StorageError as e:
                        self._retry_after_storage_error(name, e)
                    except Exception:
                        log.failure("distribution on builder {name} failed", name=name)
        finally:
            self._activity = None
            if self._pending and self.running and self.active:
                self._activity = self.tasks.spawn("build request distribution", self._loop())

    def _retry_after_storage_error(self, name: str, err: StorageError) -> None:
        log.warn("builder {name}: cannot claim build requests now ({reason}); trying again "
                 "in {delay:.0f} s", name=name, reason=storage_reason(err),
                 delay=self.STORAGE_RETRY_DELAY)
        if name not in self._storage_retry_names:
            self._storage_retry_names.append(name)
        if self._storage_retry is None:
            self._storage_retry = self.master.reactor.callLater(self.STORAGE_RETRY_DELAY,
                                                                self._retry_now)

    def _retry_now(self) -> None:
        names, self._storage_retry_names = self._storage_retry_names, []
        self._storage_retry = None
        self.maybeStartBuildsOn(names)

    async def stop(self) -> None:
        if self._storage_retry is not None and self._storage_retry.active():
            self._storage_retry.cancel()
        self._storage_retry = None
        self._storage_retry_names = []
        await super().stop()

    async def _unclaimed_requests(self, names: list[str]) -> dict[int, list[dict[str, Any]]]:
        ids = [b.builderid for b in (self.botmaster.builders.get(n) for n in names)
               if b is not None and b.builderid is not None]
        if not ids:
            return {}
        filters = [Filter("complete", "eq", [False]), Filter("claimed", "eq", [False])]
        if len(ids) < 50:
            filters.append(Filter("builderid", "eq", ids))
        rows = await self.master.data.get(("buildrequests",), filters=filters)
        out: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            out.setdefault(row["builderid"], []).append(row)
        return out

    async def _sort_builders(self, names: list[str],
                             brdicts: dict[int, list[dict[str, Any]]]) -> list[str]:
        builders = [self.botmaster.builders[n] for n in names if n in self.botmaster.builders]
        custom = getattr(self.master.config, "prioritizeBuilders", None)
        if custom is not None:
            try:
                ordered = await call_user(custom, self.master, builders)
                return [b.name for b in ordered]
            except Exception:
                log.failure("prioritizeBuilders failed; keeping the default order")

        def key(b: Any) -> tuple[Any, ...]:
            reqs = brdicts.get(b.builderid, [])
            if not reqs:
                return (1, 0, 0, b.name)
            prio = max(r.get("priority") or 0 for r in reqs)
            oldest = min(r.get("submitted_at") or 0 for r in reqs)
            return (0, -prio, oldest, b.name)

        return [b.name for b in sorted(builders, key=key)]

    async def _start_builds_on(self, bldr: Any, brdicts: list[dict[str, Any]]) -> None:
        updates = self.master.data.updates
        chooser = self.BuildChooser(bldr, self.master, brdicts)
        while True:
            wfb, breqs = await chooser.chooseNextBuild()
            if wfb is None or not breqs:
                return
            if self.only_waited_for and not all(
                    r.waitedFor and self._has_parent(r) for r in breqs):
                continue
            brids = [r.id for r in breqs]
            claimed = await updates.claimBuildRequests(
                brids, claimed_at=int(self.master.reactor.seconds()))
            if not claimed:
                # Someone else (another master) took it: start over with fresh data.
                brdicts = [b for b in chooser.brdicts if b["buildrequestid"] not in brids]
                chooser = self.BuildChooser(bldr, self.master, brdicts)
                continue
            started = await bldr.maybeStartBuild(wfb, breqs)
            if not started:
                await updates.unclaimBuildRequests(brids)
                self.maybeStartBuildsOn([bldr.name])

    @staticmethod
    def _has_parent(breq: BuildRequest) -> bool:
        return breq.parent_buildid is not None


_BRD_WHY = "the distributor chooses builds itself (BasicBuildChooser is built by it)"
BuildChooserBase = internal_class(__name__, "BuildChooserBase", _BRD_WHY)
differs_internally(_BRD_WHY)(BasicBuildChooser)
