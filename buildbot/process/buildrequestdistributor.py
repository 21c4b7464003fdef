"""Hands unclaimed build requests to available workers.

One activity loop runs at a time. Builders asking for attention are merged into a pending
list; a round keeps those that have a free worker and unclaimed requests, orders them
(highest request priority, then oldest request), and, builder by builder, lets a
`BasicBuildChooser` pick request/worker pairs, claims the requests through the database
(so two masters never build one twice) and starts the builds.

What makes a round cheap whatever the number of pending requests and builders:

- `PendingRequests` keeps, per builder, the id, priority and submission time of every
  unclaimed request, from one query when first needed and then from the `buildrequests`
  events; a round reads the database only for the builders it actually starts builds on,
  and that read also corrects the builder's entry.
- A builder without a free worker is skipped before anything is read: a freed worker names
  its builders again (`maybeStartBuildsForWorker`).
- When no user hook needs the request loaded first (`nextBuild`, `nextWorker`, a
  `canStartBuild`, locks, workers whose builds may be incompatible), the chooser claims the
  builder's most urgent request in the transaction that reads it
  (`claim_most_urgent`), before loading its buildset, source stamps and changes: a freed
  worker waits for two transactions (that one and the loading), and a race lost to
  another master costs one more INSERT inside it, not another transaction.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.data.exceptions import StorageError
from buildbot.process.builder import Builder
from buildbot.process.buildrequest import BuildRequest
from buildbot.process.retried_writes import storage_reason
from buildbot.util.deferred import call_user, ensure_deferred
from buildbot.util.internal import internal_class
from buildbot.util.resultspec import Filter
from buildbot.util.service import AsyncService
from buildbot.util.timestamps import to_epoch

log = Logger()

_UNCLAIMED = (Filter("complete", "eq", [False]), Filter("claimed", "eq", [False]))


class PendingRequests:
    """This master's view of the unclaimed requests: builderid -> {brid: (priority,
    submitted_at epoch)}. It only orders builders and skips those with nothing to do; the
    chooser reads the builder's requests from the database before claiming, so an entry
    gone stale costs a query, never a wrong build."""

    def __init__(self) -> None:
        self.by_builder: dict[int, dict[int, tuple[int, int]]] = {}
        self.loaded = False
        # events seen while a load is in flight, applied on top of what it read
        self._during_load: list[tuple[str, dict[str, Any]]] | None = None
        # builderid -> (highest priority, oldest submission), dropped when the entry changes
        self._keys: dict[int, tuple[int, int]] = {}
        # A counter of the request events, and for each request in the view the count when
        # it was added: a read of a builder's requests that started when the counter was
        # N replaces what was added up to N, never what events added after (see `replace`).
        self._seq = 0
        self._added: dict[int, int] = {}

    async def load(self, data: Any) -> None:
        """Read every unclaimed request (one narrow query: ids, priorities and times)."""
        self._during_load = []
        try:
            keys = await data.rtypes.buildrequest.unclaimed_keys()
            self.by_builder = {}
            self._keys = {}
            self._added = {}
            seq = self._seq
            for bid, brid, priority, submitted_at in keys:
                self.by_builder.setdefault(bid, {})[brid] = (priority, submitted_at)
                self._added[brid] = seq
            for event, body in self._during_load:
                self._apply(event, body)
            self.loaded = True
        finally:
            self._during_load = None

    def invalidate(self) -> None:
        """Read everything again at the next use (requests of other masters may be missing
        when the message bus is not shared)."""
        self.loaded = False

    def note(self, event: str, body: dict[str, Any]) -> None:
        """A `buildrequests` event (`new`, `unclaimed`, `claimed`, `complete`)."""
        if self._during_load is not None:
            self._during_load.append((event, body))
        elif self.loaded:
            self._apply(event, body)

    def _apply(self, event: str, body: dict[str, Any]) -> None:
        self._seq += 1
        if event in ("new", "unclaimed") and not body.get("complete") \
                and not body.get("claimed"):
            self._add(body)
        elif event in ("claimed", "complete"):
            self.discard(body.get("builderid"), [body.get("buildrequestid")])

    def _add(self, row: dict[str, Any]) -> None:
        bid, brid = row.get("builderid"), row.get("buildrequestid")
        if bid is None or brid is None:
            return
        self.by_builder.setdefault(bid, {})[brid] = (
            int(row.get("priority") or 0), to_epoch(row.get("submitted_at")) or 0)
        self._added[brid] = self._seq
        self._keys.pop(bid, None)

    def discard(self, builderid: int | None, brids: Iterable[int | None]) -> None:
        entry = self.by_builder.get(builderid) if builderid is not None else None
        if entry is None:
            return
        for brid in brids:
            entry.pop(brid, None)  # type: ignore[arg-type]  # None is never a key
            self._added.pop(brid, None)  # type: ignore[arg-type]  # None is never a key
        if not entry:
            del self.by_builder[builderid]  # type: ignore[arg-type]  # checked above
        self._keys.pop(builderid, None)  # type: ignore[arg-type]  # checked above

    def events_seen(self, builderid: int) -> int:
        """The event counter, to note before reading the builder's requests (see
        `replace`)."""
        return self._seq

    def replace(self, builderid: int, rows: Sequence[dict[str, Any]],
                events_seen: int | None = None) -> None:
        """The builder's unclaimed requests as read from the database by a read that started
        when the event counter was `events_seen` (None: no event since). What the view holds
        from events up to then is replaced; a request added by a later event is kept (the
        read may be older than it)."""
        entry = self.by_builder.get(builderid)
        if entry:
            since = self._seq if events_seen is None else events_seen
            gone = [brid for brid in entry if self._added.get(brid, 0) <= since]
            self.discard(builderid, gone)
        for row in rows:
            self._add(row)

    def has(self, builderid: int) -> bool:
        return builderid in self.by_builder

    def key(self, builderid: int) -> tuple[int, int] | None:
        """(highest priority, oldest submission) of the builder's requests, None if none."""
        found = self._keys.get(builderid)
        if found is None:
            entry = self.by_builder.get(builderid)
            if not entry:
                return None
            found = (max(p for p, _ in entry.values()), min(s for _, s in entry.values()))
            self._keys[builderid] = found
        return found


class BasicBuildChooser:
    """Chooses (worker link, [request]) pairs for one builder, reading the builder's
    unclaimed requests from the data API at first use (when claiming first: claiming the
    most urgent one as it reads them)."""

    # requests read beyond the free workers: a builder with fewer is then known whole,
    # and the distributor's view of it corrected
    SPARE_REQUESTS = 4

    def __init__(self, bldr: Any, master: Any) -> None:
        self.bldr = bldr
        self.master = master
        self.brdicts: list[dict[str, Any]] | None = None
        self.breqs: dict[int, BuildRequest] = {}
        self.workerpool = list(bldr.getAvailableWorkers())
        self.preferredWorkers: list[Any] = []
        self.rejected: set[int] = set()
        self.nextWorker = getattr(bldr.config, "nextWorker", None) or getattr(
            master.config, "select_next_worker", None)
        self.nextBuild = getattr(bldr.config, "nextBuild", None)
        # Requests this chooser claimed itself (claim first, see the module docstring).
        self.claimed: set[int] = set()
        # Did the last read (`fetch`, or a claim) see all the builder's unclaimed requests?
        self.complete = False
        # requests claimed first and then refused by canStartBuild (released again)
        self._rejected_rows: dict[int, dict[str, Any]] = {}
        # requests claimed (first) for the free workers and not handed out yet
        self._ahead: list[dict[str, Any]] = []
        self.claim_first = (
            type(bldr).canStartBuild is Builder.canStartBuild
            and self.nextBuild is None and self.nextWorker is None
            and getattr(bldr.config, "canStartBuild", None) is None
            and not getattr(bldr.config, "locks", None)
            and not any(w.worker.builds_may_be_incompatible for w in self.workerpool))

    async def fetch(self) -> list[dict[str, Any]]:
        """The builder's unclaimed requests (read once), oldest first. When claiming first,
        only the most urgent few: as many as there are free workers, plus some for lost
        races (`complete` tells whether that was all of them)."""
        if self.brdicts is None:
            path = ("builders", self.bldr.builderid, "buildrequests")
            if self.claim_first:
                limit = len(self.workerpool) + self.SPARE_REQUESTS
                rows = await self.master.data.get(path, filters=list(_UNCLAIMED),
                                                  order=["-priority", "buildrequestid"],
                                                  limit=limit)
                self.complete = len(rows) < limit
            else:
                rows = await self.master.data.get(path, filters=list(_UNCLAIMED))
                self.complete = True
            self.brdicts = sorted(rows, key=lambda b: b["buildrequestid"])
        return self.brdicts

    def _forget(self, brid: int) -> None:
        self.brdicts = [b for b in self.brdicts or [] if b["buildrequestid"] != brid]

    async def _request(self, brdict: dict[str, Any]) -> BuildRequest:
        brid = brdict["buildrequestid"]
        if brid not in self.breqs:
            self.breqs[brid] = await BuildRequest.fromBrdict(self.master, brdict)
        return self.breqs[brid]

    def _best(self) -> dict[str, Any] | None:
        candidates = [b for b in self.brdicts or [] if b["buildrequestid"] not in self.rejected]
        if not candidates:
            return None
        return max(candidates, key=lambda b: (b.get("priority") or 0, -b["buildrequestid"]))

    async def _next_request(self) -> BuildRequest | None:
        if self.nextBuild is not None:
            reqs = [await self._request(b) for b in self.brdicts or []
                    if b["buildrequestid"] not in self.rejected]
            if not reqs:
                return None
            try:
                chosen = await call_user(self.nextBuild, self.bldr, reqs)
            except Exception:
                log.failure("nextBuild of builder {name} failed", name=self.bldr.name)
                return None
            return chosen if chosen in reqs else None
        best = self._best()
        return None if best is None else await self._request(best)

    async def _pop_worker(self, breq: BuildRequest | None) -> Any:
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
        """The next (worker link, [request]) to build, or (None, None)."""
        if self.claim_first:
            return await self._claim_next()
        await self.fetch()
        wfb, breq = await self._pop_next()
        return (None, None) if breq is None else (wfb, [breq])

    def popNextBuild(self) -> defer.Deferred[tuple[Any, BuildRequest | None]]:
        """The next (worker link, request) pair that can start, (None, None) if none; the
        request is not claimed."""
        async def pop() -> tuple[Any, BuildRequest | None]:
            await self.fetch()
            return await self._pop_next()
        return ensure_deferred(pop())

    def canStartBuild(self, worker: Any, breq: BuildRequest) -> defer.Deferred[bool]:
        """Can `breq` start on worker link `worker` now (the builder decides)?"""
        return ensure_deferred(self.bldr.canStartBuild(worker, breq))

    async def _pop_next(self) -> tuple[Any, BuildRequest | None]:
        while True:
            breq = await self._next_request()
            if breq is None:
                return None, None
            recycled: list[Any] = []
            wfb = await self._pop_worker(breq)
            while wfb is not None:
                if await self.bldr.canStartBuild(wfb, breq):
                    self.preferredWorkers[0:0] = recycled
                    self._forget(breq.id)
                    return wfb, breq
                recycled.append(wfb)
                wfb = await self._pop_worker(breq)
            self.preferredWorkers[0:0] = recycled
            self.rejected.add(breq.id)

    async def _claim_next(self) -> tuple[Any, list[BuildRequest] | None]:
        # One transaction claims the most urgent requests, as many as there are free
        # workers, and reads the next few (for the distributor's view); a request another
        # master claims meanwhile is skipped inside it. `brdicts` is then what is left
        # unclaimed (with the requests rejected here). The requests claimed for workers
        # that do not take them are released by `release_unused`.
        updates = self.master.data.updates
        while True:
            wfb = await self._pop_worker(None)
            if wfb is None:
                await self.release_unused()
                return None, None
            if not self._ahead:
                # (a refused write raises here)
                claimed, rest, self.complete = await updates.claim_most_urgent(
                    self.bldr.builderid,
                    count=1 + sum(1 for w in self.workerpool if w.isAvailable()),
                    lookahead=self.SPARE_REQUESTS,
                    claimed_at=int(self.master.reactor.seconds()), skip=sorted(self.rejected))
                self.brdicts = sorted([*rest, *self._rejected_rows.values()],
                                      key=lambda b: b["buildrequestid"])
                if not claimed:
                    self.preferredWorkers.insert(0, wfb)
                    return None, None
                self._ahead = list(claimed)
                self.claimed.update(b["buildrequestid"] for b in claimed)
            best = self._ahead.pop(0)
            brid = best["buildrequestid"]
            try:
                breq = await self._request(best)
                startable = await self.bldr.canStartBuild(wfb, breq)
            except BaseException:
                await self._release(brid)
                raise
            if startable:
                return wfb, [breq]
            # Not expected: nothing configured could say no (see claim_first).
            self.preferredWorkers.insert(0, wfb)
            self.rejected.add(brid)
            self._rejected_rows[brid] = {**best, "claimed": False, "claimed_at": None,
                                         "claimed_by_masterid": None}
            await self._release(brid)

    async def release_unused(self) -> None:
        """Release the requests claimed for workers that did not take them."""
        brids = [b["buildrequestid"] for b in self._ahead]
        self._ahead = []
        if brids:
            self.claimed.difference_update(brids)
            await self.master.data.updates.unclaimBuildRequests(brids)

    async def _release(self, brid: int) -> None:
        self.claimed.discard(brid)
        await self.master.data.updates.unclaimBuildRequests([brid])


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
        self._activity: bool | None = None  # None when no loop runs (tests wait on it)
        self.active = True
        # In graceful shutdown only requests a parent build waits for may start.
        self.only_waited_for = False
        self._storage_retry: Any = None
        self._storage_retry_names: list[str] = []
        self.pending_requests = PendingRequests()

    @property
    def master(self) -> Any:
        return self.botmaster.master

    @property
    def can_distribute(self) -> bool:
        """Does this distributor start builds now (also: only waited-for ones)?"""
        return bool(self.running and self.active)

    def createBuildChooser(self, bldr: Any, master: Any) -> BasicBuildChooser:
        """A chooser for one builder (the class in `BuildChooser`)."""
        return self.BuildChooser(bldr, master)

    def maybeStartBuildsOn(self, new_builders: Iterable[str]) -> None:
        """Ask for distribution on these builders (by name); returns at once."""
        if not self.running:
            return
        pending = self._pending
        known = set(pending)
        for name in new_builders:
            if name not in known:
                pending.append(name)
                known.add(name)
        if pending and self._activity is None:
            self._start_loop()

    def _start_loop(self) -> None:
        # Set before spawning: a round with nothing to read ends before spawn() returns.
        self._activity = True
        self.tasks.spawn("build request distribution", self._loop())

    async def _loop(self) -> None:
        try:
            while self._pending and self.can_distribute:
                names = self._pending
                self._pending = []
                free = _FreeWorkers()
                for bldr in await self._builders_to_serve(names, free):
                    if not self.running:
                        return
                    if not free.serves(bldr):
                        continue  # taken by a builder served before
                    try:
                        await self._start_builds_on(bldr, free)
                    except StorageError as e:
                        self._retry_after_storage_error(bldr.name, e)
                    except Exception:
                        log.failure("distribution on builder {name} failed", name=bldr.name)
        finally:
            self._activity = None
            if self._pending and self.can_distribute:
                self._start_loop()

    async def _builders_to_serve(self, names: list[str], free: _FreeWorkers) -> list[Any]:
        """The builders of `names` with a free worker and unclaimed requests, in order."""
        builders = self.botmaster.builders
        ready = [b for b in (builders.get(n) for n in names)
                 if b is not None and b.builderid is not None and b.config is not None
                 and free.serves(b)]
        if not ready:
            return []
        index = self.pending_requests
        if not index.loaded:
            await index.load(self.master.data)
        ready = [b for b in ready if index.has(b.builderid)]
        return await self._sort_builders(ready)

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

    async def _sort_builders(self, builders: list[Any]) -> list[Any]:
        custom = getattr(self.master.config, "prioritizeBuilders", None)
        if custom is not None:
            try:
                return list(await call_user(custom, self.master, builders))
            except Exception:
                log.failure("prioritizeBuilders failed; keeping the default order")
        index = self.pending_requests

        def key(b: Any) -> tuple[Any, ...]:
            found = index.key(b.builderid)
            if found is None:
                return (1, 0, 0, b.name)
            return (0, -found[0], found[1], b.name)

        return sorted(builders, key=key)

    async def _start_builds_on(self, bldr: Any, free: _FreeWorkers | None = None) -> None:
        updates = self.master.data.updates
        index = self.pending_requests
        chooser = self.createBuildChooser(bldr, self.master)
        if self.only_waited_for:
            chooser.claim_first = False  # the request must be seen before it is claimed
        events_seen = index.events_seen(bldr.builderid)
        try:
            while True:
                wfb, breqs = await chooser.chooseNextBuild()
                if wfb is None or not breqs:
                    return
                brids = [r.id for r in breqs]
                ours = set(brids) <= chooser.claimed
                if not ours:
                    if self.only_waited_for and not all(
                            r.waitedFor and self._has_parent(r) for r in breqs):
                        # passed over, not gone: the chooser's list no longer shows all
                        chooser.complete = False
                        continue
                    if not await updates.claimBuildRequests(
                            brids, claimed_at=int(self.master.reactor.seconds())):
                        # Another master took one: start over with fresh data.
                        index.discard(bldr.builderid, brids)
                        chooser = self.createBuildChooser(bldr, self.master)
                        events_seen = index.events_seen(bldr.builderid)
                        continue
                chooser.claimed.difference_update(brids)
                index.discard(bldr.builderid, brids)
                if free is not None:
                    free.forget(wfb.worker)
                for brid in brids:
                    self.botmaster.add_in_progress_buildrequest(brid)
                try:
                    started = await bldr.maybeStartBuild(wfb, breqs)
                finally:
                    for brid in brids:
                        self.botmaster.remove_in_progress_buildrequest(brid)
                if not started:
                    await updates.unclaimBuildRequests(brids)
                    self.maybeStartBuildsOn([bldr.name])
        finally:
            release = getattr(chooser, "release_unused", None)
            if release is not None:
                try:
                    await release()
                except Exception:
                    log.failure("builder {name}: cannot release build requests claimed "
                                "ahead", name=bldr.name)
            if chooser.brdicts is not None and chooser.complete:
                index.replace(bldr.builderid, chooser.brdicts, events_seen)

    @staticmethod
    def _has_parent(breq: BuildRequest) -> bool:
        return breq.parent_buildid is not None


class _FreeWorkers:
    """Which builders have a free worker link, asking each worker whether it can start a
    build once per round (a worker's answer looks at all its links: with hundreds of
    builders, asking per link made a round quadratic)."""

    def __init__(self) -> None:
        self._verdicts: dict[int, bool] = {}

    def _free(self, wfb: Any) -> bool:
        worker = wfb.worker
        if worker is None or wfb.isBusy():
            return False
        found = self._verdicts.get(id(worker))
        if found is None:
            found = self._verdicts[id(worker)] = bool(worker.canStartBuild())
        return found

    def serves(self, bldr: Any) -> bool:
        return any(self._free(w) for w in bldr.workers)

    def forget(self, worker: Any) -> None:
        """`worker` was given a build: ask it again."""
        self._verdicts.pop(id(worker), None)


_BRD_WHY = "the distributor chooses builds itself (BasicBuildChooser is built by it)"
BuildChooserBase = internal_class(__name__, "BuildChooserBase", _BRD_WHY)
