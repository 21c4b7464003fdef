"""`master.botmaster`: the configured builders, request distribution, collapsing, shutdown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from buildbot.data.builders import BuilderInfo
from buildbot.process.builder import Builder
from buildbot.process.buildrequestdistributor import BuildRequestDistributor
from buildbot.process.locks import LockRegistry, as_access
from buildbot.process.results import CANCELLED, RETRY, SKIPPED
from buildbot.process.retried_writes import RetriedWrites
from buildbot.util.deferred import call_user, ensure_deferred
from buildbot.util.internal import internal_class
from buildbot.util.resultspec import Filter
from buildbot.util.service import AsyncService

log = Logger()


class BotMaster(AsyncService):
    """Owns the builders of this master and the distributor (`brd`)."""

    reconfig_priority = 1001
    debug = 0  # 4.3's debugging switch; nothing reads it
    # With several masters and the in-process mq, a request created by another master
    # produces no event here; the distributor then also looks for work this often.
    MULTI_MASTER_POLL_INTERVAL = 10.0

    def __init__(self) -> None:
        super().__init__(name="botmaster")
        self.builders: dict[str, Builder] = {}
        self.builderNames: list[str] = []
        self._by_worker: dict[str, list[Builder]] | None = None  # see getBuildersForWorker
        self._by_id: dict[int, Builder] | None = None  # see getBuilderById
        self.lock_registry = LockRegistry()
        self.brd = BuildRequestDistributor(self)
        self.brd.setServiceParent(self)
        self.shuttingDown = False
        self._consumers: list[Any] = []
        self._waiting_builderids: set[int] = set()
        self._brd_scheduled: Any = None
        # Requests cancelled while claimed: a build starting for one is stopped at once.
        self.cancelled_brids: set[int] = set()
        # Requests claimed here whose build is being handed over: False, or the reason of a
        # cancel that came meanwhile.
        self._starting_brids: dict[int, bool | str] = {}
        self._poll: Any = None
        # The end records of builds (logs, steps, builds, requests) the database refused,
        # e.g. on a full disk; written once it takes writes again (created at start: the
        # clock is the master's reactor).
        self.retried_writes: RetriedWrites | None = None

    @property
    def master(self) -> Any:
        return self.parent

    async def start(self) -> None:
        self.retried_writes = RetriedWrites(self.master.reactor,
                                            on_recovered=self.maybeStartBuildsForAllBuilders)
        await super().start()
        mq = self.master.mq
        # claimed/complete keep the distributor's view of unclaimed requests current
        for event in ("new", "unclaimed", "claimed", "complete"):
            self._consumers.append(await mq.startConsuming(
                self._request_event, ("buildrequests", None, event)))
        self._consumers.append(await mq.startConsuming(
            self._cancel_request, ("control", "buildrequests", None, "cancel")))
        self.master.data.buildrequest_collapser = self.collapse_requests

    async def stop(self) -> None:
        self._set_polling(False)
        for c in self._consumers:
            c.stopConsuming()
        self._consumers = []
        if self._brd_scheduled is not None and self._brd_scheduled.active():
            self._brd_scheduled.cancel()
        self._brd_scheduled = None
        if getattr(self.master.data, "buildrequest_collapser", None) == self.collapse_requests:
            self.master.data.buildrequest_collapser = None
        await super().stop()
        if self.retried_writes is not None:
            await self.retried_writes.stop()

    # -- reconfiguration ---------------------------------------------------------------
    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        """Store projects and codebases, then add, remove and reconfigure builders to match
        `new_config`."""
        project_ids = await self._reconfig_projects(new_config)
        await self._reconfig_codebases(new_config)
        await self._reconfig_builders(new_config, project_ids)
        self._set_polling(bool(getattr(new_config, "multiMaster", False)))
        self.maybeStartBuildsForAllBuilders()

    def reconfigProjects(self, new_config: Any) -> defer.Deferred[None]:
        """Store the info of `new_config`'s projects (the first part of a reconfig)."""
        async def run() -> None:
            await self._reconfig_projects(new_config)
        return ensure_deferred(run())

    def reconfig_codebases(self, new_config: Any) -> defer.Deferred[None]:
        """Store `new_config`'s codebases (project and slug); RuntimeError when a codebase
        names a project that does not exist."""
        return ensure_deferred(self._reconfig_codebases(new_config))

    def reconfigServiceBuilders(self, new_config: Any) -> defer.Deferred[None]:
        """Add, remove and reconfigure the builders to match `new_config` (projects are
        looked up, not stored)."""
        return ensure_deferred(self._reconfig_builders(new_config, {}))

    async def _reconfig_projects(self, new_config: Any) -> dict[str, int | None]:
        project_ids: dict[str, int | None] = {}
        for project in getattr(new_config, "projects", None) or []:
            project_ids[project.name] = await self._configure_project(project)
        return project_ids

    async def _reconfig_codebases(self, new_config: Any) -> None:
        updates = self.master.data.updates
        for codebase in getattr(new_config, "codebases", None) or []:
            projectid = await updates.find_project_id(codebase.project, auto_create=False)
            if projectid is None:
                raise RuntimeError(f"Could not find project {codebase.project} for codebase "
                                   f"{codebase.name}")
            codebaseid = await updates.find_codebase_id(projectid=projectid,
                                                        name=codebase.name)
            await updates.update_codebase_info(codebaseid=codebaseid, projectid=projectid,
                                               slug=codebase.slug)

    async def _reconfig_builders(self, new_config: Any,
                                 project_ids: dict[str, int | None]) -> None:
        updates = self.master.data.updates
        configs = {bc.name: bc for bc in new_config.builders}
        wanted = list(configs)
        for name in [n for n in self.builders if n not in configs]:
            builder = self.builders.pop(name)
            self.builders_changed()
            # Running builds of a removed builder finish in the background.
            self.tasks.spawn(f"removal of builder {name}", defer.maybeDeferred(
                builder.disownServiceParent))
        for name in wanted:
            if name not in self.builders:
                builder = Builder(name)
                self.builders[name] = builder
                builder.setServiceParent(self)
                self.builders_changed()
        self.builderNames = wanted
        # A constant number of database transactions however many builders there are: the
        # new builders' ids in one, the changed builders' info in another.
        unknown = [n for n in wanted if self.builders[n].builderid is None]
        if unknown:
            ids = await updates.findBuilderIds(unknown)
            for name in unknown:
                self.builders[name].builderid = ids[name]
        changed: dict[int, BuilderInfo] = {}
        taken: list[tuple[Builder, BuilderInfo]] = []
        for name in wanted:
            builder, bc = self.builders[name], configs[name]
            project = getattr(bc, "project", None)
            if project and project not in project_ids:
                project_ids[project] = await updates.find_project_id(project)
            info = builder.take_config(bc, project_ids[project] if project else None)
            if info is not None:
                assert builder.builderid is not None
                changed[builder.builderid] = info
                taken.append((builder, info))
        await updates.updateBuildersInfo(changed)
        for builder, info in taken:
            builder.info_stored(info)
        await updates.updateBuilderList(self.master.masterid, wanted)
        self._by_id = None  # new builders have their ids now

    def _set_polling(self, enabled: bool) -> None:
        if enabled and self._poll is None:
            self._poll = LoopingCall(self._look_for_requests_of_other_masters)
            self._poll.clock = self.master.reactor
            self._poll.start(self.MULTI_MASTER_POLL_INTERVAL, now=False)
        elif not enabled and self._poll is not None:
            self._poll.stop()
            self._poll = None

    def _look_for_requests_of_other_masters(self) -> None:
        # The in-process bus carries only this master's events, and a router or broker
        # does not replay what it sent while disconnected: read the requests again (one
        # query, at the next round that has a free worker).
        self.brd.pending_requests.invalidate()
        self.maybeStartBuildsForAllBuilders()

    async def _configure_project(self, project: Any) -> int | None:
        updates = self.master.data.updates
        projectid = await updates.find_project_id(project.name)
        describe = getattr(project, "describe_html", None)
        await updates.update_project_info(
            projectid, project.slug, project.description,
            getattr(project, "description_format", None), describe() if describe else None)
        return int(projectid) if projectid is not None else None

    # -- lookups -----------------------------------------------------------------------
    def getBuildersForWorker(self, workername: str) -> list[Builder]:
        if self._by_worker is None:
            # Every worker asks at start-up and reconfig: one pass over the builders for
            # them all, not one per worker (rebuilt when a builder or its config changes).
            index: dict[str, list[Builder]] = {}
            for b in self.builders.values():
                if b.config is not None:
                    for name in dict.fromkeys(b.config.workernames):
                        index.setdefault(name, []).append(b)
            self._by_worker = index
        return list(self._by_worker.get(workername, ()))

    def builders_changed(self) -> None:
        """A builder was added or removed, or took another config."""
        self._by_worker = None
        self._by_id = None

    def getBuildernames(self) -> list[str]:
        """The names of the configured builders, in configuration order."""
        return self.builderNames

    def getBuilders(self) -> list[Builder]:
        return list(self.builders.values())

    def workerLost(self, bot: Any) -> None:
        """Unlink worker `bot` from every builder configured to use it."""
        for builder in self.getBuildersForWorker(bot.workername):
            builder.detached(bot)

    def getBuilderById(self, builderid: int) -> Builder | None:
        if self._by_id is None:
            self._by_id = {b.builderid: b for b in self.builders.values()
                           if b.builderid is not None}
        return self._by_id.get(builderid)

    # -- distribution triggers ---------------------------------------------------------
    def _request_event(self, key: tuple[str, ...], body: Any) -> None:
        builderid = (body or {}).get("builderid")
        if builderid is None:
            return
        self.brd.pending_requests.note(key[-1], body)
        if key[-1] not in ("new", "unclaimed"):
            return
        self._waiting_builderids.add(builderid)
        if self._brd_scheduled is None:
            # Coalesce bursts of request events into one distribution round.
            self._brd_scheduled = self.master.reactor.callLater(0, self._flush_request_events)

    def _flush_request_events(self) -> None:
        self._brd_scheduled = None
        ids, self._waiting_builderids = self._waiting_builderids, set()
        names = [str(b.name) for b in self.builders.values() if b.builderid in ids]
        if names:
            self.brd.maybeStartBuildsOn(names)

    def maybeStartBuildsForBuilder(self, buildername: str) -> None:
        self.brd.maybeStartBuildsOn([buildername])

    def maybeStartBuildsForWorker(self, worker_name: str) -> None:
        self.brd.maybeStartBuildsOn(
            [str(b.name) for b in self.getBuildersForWorker(worker_name)])

    def maybeStartBuildsForAllBuilders(self) -> None:
        self.brd.maybeStartBuildsOn(list(self.builderNames))

    # -- cancelling requests ------------------------------------------------------------
    async def _cancel_request(self, key: tuple[str, ...], body: Any) -> None:
        """`control/buildrequests/<id>/cancel`: cancel it if nobody claimed it yet, else stop
        the builds of it running here (every master receives the message; the database
        decides which one cancels an unclaimed request)."""
        brid = int(key[2])
        reason = (body or {}).get("reason") or "cancelled"
        if await self.master.data.updates.cancelUnclaimedBuildRequest(brid):
            return
        # Claimed: its build may not exist yet (between claim and start); remember it.
        self.maybe_cancel_in_progress_buildrequest(brid, reason)
        self.cancelled_brids.add(brid)
        for builder in self.builders.values():
            for build in list(builder.building):
                if any(r.id == brid for r in build.requests):
                    await build.stopBuild(reason, CANCELLED)

    # -- requests between claim and build -----------------------------------------------
    def add_in_progress_buildrequest(self, brid: int) -> None:
        """Request `brid` was claimed here and its build is being started."""
        self._starting_brids[brid] = False

    def remove_in_progress_buildrequest(self, brid: int) -> bool | str | None:
        """Its build exists now: the reason of a cancel that came meanwhile, False if none
        came, None if the request was not in progress."""
        return self._starting_brids.pop(brid, None)

    def maybe_cancel_in_progress_buildrequest(self, brid: int, reason: str) -> None:
        """Cancel `brid` if its build is being started here (the build stops as soon as it
        exists)."""
        if brid in self._starting_brids:
            self._starting_brids[brid] = reason

    # -- locks (4.3 names) --------------------------------------------------------------
    def getLockByID(self, lockid: Any, config_version: int) -> defer.Deferred[Any]:
        """The real lock (RealMasterLock or RealWorkerLock) of a lock declaration, its
        capacity updated from `lockid` when `config_version` is newer."""
        assert isinstance(config_version, int)
        return defer.succeed(self.lock_registry.get_real_lock(lockid, config_version))

    def getLockFromLockAccess(self, access: Any, config_version: int) -> defer.Deferred[Any]:
        """The real lock of an access (or of a bare lock declaration)."""
        return self.getLockByID(as_access(access).lockid, config_version)

    def getLockFromLockAccesses(self, accesses: Iterable[Any],
                                config_version: int) -> defer.Deferred[list[tuple[Any, Any]]]:
        """(real lock, access) for each access (bare declarations get their default)."""
        pairs = [(self.lock_registry.get_real_lock(a, config_version), a)
                 for a in map(as_access, accesses)]
        return defer.succeed(pairs)

    # -- collapsing (installed as the data layer's hook) --------------------------------
    async def collapse_requests(self, brids: Iterable[int]) -> None:
        """Complete older unclaimed duplicates of each new request with SKIPPED."""
        data = self.master.data
        wanted = list(brids)
        if not wanted:
            return
        # one read for all the new requests (a buildset may name hundreds of builders)
        rows = await data.get(("buildrequests",),
                              filters=[Filter("buildrequestid", "in", wanted)])
        by_id = {r["buildrequestid"]: r for r in rows}
        for brid in wanted:
            new = by_id.get(brid)
            if new is None:
                continue
            builder = self.getBuilderById(new["builderid"])
            if builder is None or builder.config is None:
                continue
            rule = builder.getCollapseRequestsFn()
            if rule is False:
                continue
            pending = await data.get(("buildrequests",), filters=[
                Filter("builderid", "eq", [new["builderid"]]),
                Filter("complete", "eq", [False]), Filter("claimed", "eq", [False])])
            pending.sort(key=lambda r: (r.get("submitted_at") or 0, r["buildrequestid"]))
            for other in pending:
                if other["buildrequestid"] == brid:
                    continue
                if rule is True:
                    collapse = await self._default_collapse(new, other)
                else:
                    try:
                        collapse = (await call_user(rule, self.master, builder, new, other)) is True
                    except Exception:
                        log.failure("collapseRequests of builder {b} failed", b=builder.name)
                        collapse = False
                if not collapse:
                    continue
                updates = data.updates
                if await updates.claimBuildRequests([other["buildrequestid"]]):
                    await updates.completeBuildRequests([other["buildrequestid"]], SKIPPED)

    async def _default_collapse(self, new: dict[str, Any], other: dict[str, Any]) -> bool:
        if new["buildsetid"] == other["buildsetid"]:
            return True
        if new["buildrequestid"] < other["buildrequestid"]:
            return False
        data = self.master.data
        bs_new = await data.get(("buildsets", new["buildsetid"]))
        bs_old = await data.get(("buildsets", other["buildsetid"]))
        if bs_new is None or bs_old is None:
            return False
        ss_new = {s["codebase"]: s for s in bs_new["sourcestamps"]}
        ss_old = {s["codebase"]: s for s in bs_old["sourcestamps"]}
        if set(ss_new) != set(ss_old):
            return False
        for cb, a in ss_new.items():
            b = ss_old[cb]
            if (a["repository"], a["branch"], a["project"]) != \
                    (b["repository"], b["branch"], b["project"]):
                return False
            if a.get("patch") or b.get("patch"):
                return False
            ch_a = await data.get(("sourcestamps", a["ssid"], "changes"))
            ch_b = await data.get(("sourcestamps", b["ssid"], "changes"))
            if bool(ch_a) != bool(ch_b):
                return False
            if not ch_a and a["revision"] != b["revision"]:
                return False
        props_new = await data.get(("buildsets", new["buildsetid"], "properties"))
        props_old = await data.get(("buildsets", other["buildsetid"], "properties"))

        def sched_props(p: Any) -> dict[str, Any]:
            p = (p[0] if isinstance(p, list) and p else p) or {}
            return {k: v[0] for k, v in p.items() if v[1] == "Scheduler" and k != "scheduler"}

        return sched_props(props_new) == sched_props(props_old)

    # -- shutdown ----------------------------------------------------------------------
    async def cleanShutdown(self, quickMode: bool = False, stopReactor: bool = True) -> None:
        """Stop starting builds; stop (quick) or wait for (clean) running ones."""
        if self.shuttingDown:
            return
        self.shuttingDown = True
        if quickMode:
            self.brd.active = False
        else:
            self.brd.only_waited_for = True
        while True:
            running = [b for bldr in self.builders.values() for b in bldr.building]
            if not running:
                break
            if quickMode:
                for build in running:
                    waited = any(r.waitedFor for r in build.requests)
                    await build.stopBuild("Master Shutdown", CANCELLED if waited else RETRY)
            waits = [bldr.tasks.wait() for bldr in self.builders.values()]
            for w in waits:
                await w
        if stopReactor:
            self.master.reactor.stop()

    def cancelCleanShutdown(self) -> None:
        self.shuttingDown = False
        self.brd.only_waited_for = False
        self.brd.active = True
        self.maybeStartBuildsForAllBuilders()


LockRetrieverMixin = internal_class(
    __name__, "LockRetrieverMixin", "locks are looked up by buildbot.process.locks")
