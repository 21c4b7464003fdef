"""A configured builder on this master: its workers, running builds and build starts."""

from __future__ import annotations

import datetime
import warnings
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot.data.builders import BuilderInfo
from buildbot.process.properties import Properties
from buildbot.process.results import EXCEPTION, RETRY
from buildbot.process.retried_writes import store_or_retry
from buildbot.process.workerforbuilder import LatentWorkerForBuilder, WorkerForBuilder
from buildbot.util.deferred import call_user, ensure_deferred, maybe_await
from buildbot.util.resultspec import Filter
from buildbot.util.service import AsyncService

log = Logger()


class Builder(AsyncService):
    """One builder (the reference's `buildbot.process.builder.Builder`)."""

    reconfig_priority = 128  # the botmaster reconfigures its builders itself

    @property
    def expectations(self) -> None:
        """Deprecated in 4.3 (progress expectations are gone); always None."""
        warnings.warn("'Builder.expectations' is deprecated.", stacklevel=2)

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self._config: Any = None
        self.builderid: int | None = None
        self.workers: list[Any] = []
        # id(worker) -> its link in `workers` (a lookup per attach/detach, not a scan)
        self._links: dict[int, Any] = {}
        self.building: list[Any] = []
        self.config_version: int | None = None
        self.project_id: int | None = None
        self._info_key: BuilderInfo | None = None

    def __repr__(self) -> str:
        return f"<Builder {self.name!r} at {id(self)}>"

    @property
    def config(self) -> Any:
        """This builder's BuilderConfig (None until the first reconfig)."""
        return self._config

    @config.setter
    def config(self, value: Any) -> None:
        self._config = value
        changed = getattr(self.parent, "builders_changed", None)
        if changed is not None:  # the botmaster's builders-by-worker index
            changed()

    @property
    def master(self) -> Any:
        return self.parent.master if self.parent is not None else None

    @property
    def botmaster(self) -> Any:
        return self.parent

    # -- configuration ------------------------------------------------------------------
    def getBuilderIdForName(self, name: str | bytes) -> defer.Deferred[int]:
        """The id of the builder called `name` (created if needed), via Deferred."""
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        return ensure_deferred(self.master.data.updates.findBuilderId(name))

    def find_project_id(self, project: str | None) -> defer.Deferred[int | None]:
        """The id of project `project` (None for None, or when there is no such project)."""
        async def find() -> int | None:
            if project is None:
                return None
            projectid = await self.master.data.updates.find_project_id(project)
            if projectid is None:
                log.info("{builder} could not find project ID for project name {project}",
                         builder=self, project=project)
            return int(projectid) if projectid is not None else None
        return ensure_deferred(find())

    def get_highest_priority(self) -> defer.Deferred[int | None]:
        """The priority of this builder's most urgent unclaimed request, None if none waits."""
        async def highest() -> int | None:
            found = await self.master.data.get(
                ("builders", await self.getBuilderId(), "buildrequests"),
                filters=[Filter("claimed", "eq", [False])], order=["-priority"], limit=1)
            return found[0]["priority"] if found else None
        return ensure_deferred(highest())

    def getBuild(self, number: int) -> Any:
        """The running build with this number, None if there is none."""
        for build in self.building:
            if build.number == number:
                return build
        return None

    async def getBuilderId(self) -> int:
        if self.builderid is None:
            self.builderid = await self.master.data.updates.findBuilderId(self.name)
        return self.builderid

    async def getOldestRequestTime(self) -> datetime.datetime | None:
        """When this builder's oldest unclaimed request was submitted (an aware UTC
        datetime, as the data API gives it), or None when none waits. For
        `prioritizeBuilders` functions; one data API read."""
        return await self._request_time(Filter("claimed", "eq", [False]), "submitted_at")

    async def getNewestCompleteTime(self) -> datetime.datetime | None:
        """When this builder's most recently completed request completed (an aware UTC
        datetime), or None; one data API read."""
        return await self._request_time(Filter("complete", "eq", [True]), "-complete_at")

    async def _request_time(self, wanted: Filter, order: str) -> datetime.datetime | None:
        found = await self.master.data.get(
            ("builders", await self.getBuilderId(), "buildrequests"), filters=[wanted],
            order=[order], limit=1)
        when: datetime.datetime | None = found[0][order.lstrip("-")] if found else None
        return when

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        """Adopt this builder's BuilderConfig from `new_config` and publish its info.

        (The botmaster reconfigures all its builders at once with `take_config`, batching
        their database writes; this is the same for one builder.)"""
        for bc in new_config.builders:
            if bc.name == self.name:
                break
        else:
            raise AssertionError(f"no config found for builder '{self.name}'")
        builderid = await self.getBuilderId()
        projectid = None
        if getattr(bc, "project", None):
            projectid = await self.master.data.updates.find_project_id(bc.project)
        info = self.take_config(bc, projectid)
        if info is not None:
            await self.master.data.updates.updateBuildersInfo({builderid: info})
            self.info_stored(info)

    def take_config(self, bc: Any, projectid: int | None) -> BuilderInfo | None:
        """Adopt BuilderConfig `bc` (its project's id is `projectid`): unlink the workers it
        no longer names and return the builder's info when it differs from the one last
        stored (to be stored, then passed to `info_stored`), else None."""
        self.config = bc
        self.config_version = self.master.config_version
        self.project_id = projectid
        desc_html = bc.describe_html() if hasattr(bc, "describe_html") else None
        info = BuilderInfo(bc.description, getattr(bc, "description_format", None),
                           desc_html, projectid, tuple(bc.tags or []))
        wanted = set(bc.workernames)
        for wfb in list(self.workers):
            if wfb.worker is not None and wfb.worker.workername not in wanted:
                self._unlink(wfb.worker, wfb)
                wfb.detached()
        return info if info != self._info_key else None

    def info_stored(self, info: BuilderInfo) -> None:
        self._info_key = info

    # -- workers ------------------------------------------------------------------------
    def getWorkerForBuilder(self, worker: Any) -> Any:
        return self._links.get(id(worker))

    def _link(self, worker: Any, wfb: Any) -> None:
        self.workers.append(wfb)
        self._links[id(worker)] = wfb

    def _unlink(self, worker: Any, wfb: Any) -> None:
        self.workers.remove(wfb)
        if self._links.get(id(worker)) is wfb:
            del self._links[id(worker)]

    async def attached(self, worker: Any, commands: dict[str, str] | None) -> Any:
        """`worker` connected and acknowledged this builder: make its link available."""
        wfb = self.getWorkerForBuilder(worker)
        if wfb is None:
            wfb = WorkerForBuilder(self)
            self._link(worker, wfb)
        try:
            await wfb.attached(worker, commands)
        except Exception:
            if not isinstance(wfb, LatentWorkerForBuilder):
                self.detached(worker)
            raise
        return wfb

    def addLatentWorker(self, worker: Any) -> None:
        """Link a latent worker (available without a connection)."""
        if self.getWorkerForBuilder(worker) is None:
            self._link(worker, LatentWorkerForBuilder(worker, self))
            self.botmaster.maybeStartBuildsForBuilder(self.name)

    def detached(self, worker: Any) -> None:
        """Drop the link to `worker` (its running build, if any, goes on to its end)."""
        wfb = self.getWorkerForBuilder(worker)
        if wfb is None:
            return
        self._unlink(worker, wfb)
        wfb.detached()

    def getAvailableWorkers(self) -> list[Any]:
        return [wfb for wfb in self.workers if wfb.isAvailable()]

    # -- properties ---------------------------------------------------------------------
    def setup_properties(self, props: Properties) -> defer.Deferred[None]:
        """Set the builder's properties on `props` (4.3 name; looks the builder id up first)."""
        async def setup() -> None:
            await self.getBuilderId()
            self.setupProperties(props)
        return ensure_deferred(setup())

    def setupProperties(self, props: Properties) -> None:
        props.setProperty("buildername", self.name, "Builder")
        props.setProperty("builderid", self.builderid, "Builder")
        if getattr(self.config, "project", None):
            props.setProperty("projectname", self.config.project, "Builder")
            props.setProperty("projectid", self.project_id, "Builder")
        for name, value in (self.config.properties or {}).items():
            props.setProperty(name, value, "Builder")
        for name, value in (getattr(self.config, "defaultProperties", None) or {}).items():
            if not props.hasProperty(name):
                props.setProperty(name, value, "Builder")

    # -- distribution -------------------------------------------------------------------
    async def canStartBuild(self, workerforbuilder: Any, buildrequest: Any) -> bool:
        """Build-level locks free now, and the user's `canStartBuild` agrees."""
        wfb, breq = workerforbuilder, buildrequest
        locks = self.config.locks
        worker = wfb.worker
        props: Properties | None = None
        if locks or worker.builds_may_be_incompatible:
            props = Properties()
            props.master = self.master
            from buildbot.process.build import build_properties_from_request
            build_properties_from_request(self.master, [breq], self, worker, props)
        if worker.builds_may_be_incompatible:
            if not await maybe_await(worker.isCompatibleWithBuild(props)):
                return False
        if locks:
            from buildbot.process.properties import render
            assert props is not None
            locks = await render(locks, props)
            pairs = self.botmaster.lock_registry.resolve(
                locks or [], self.master.config_version, wfb.worker.workername)
            if not all(real.isAvailable(None, access) for real, access in pairs):
                return False
        user = getattr(self.config, "canStartBuild", None)
        if user is not None:
            return bool(await call_user(user, self, wfb, breq))
        return True

    async def maybeStartBuild(self, workerforbuilder: Any, breqs: list[Any]) -> bool:
        """Start a build of `breqs` on `wfb` in the background; False if we cannot."""
        wfb = workerforbuilder
        if not self.running or self.config is None:
            return False
        factory = self.config.factory
        build = factory.newBuild(breqs, self)
        build.setLocks(self.config.locks)
        if self.config.env:
            build.setWorkerEnvironment(self.config.env)
        self.building.append(build)
        wfb.buildStarted()
        self.tasks.spawn(f"build of request(s) {[r.id for r in breqs]}", build.startBuild(wfb))
        return True

    async def buildFinished(self, build: Any, wfb: Any) -> None:
        """Hand the link back and complete (or release, for RETRY) the build's requests."""
        if build in self.building:
            self.building.remove(build)
        worker = wfb.worker if wfb is not None else None
        if worker is not None:
            # EXCEPTION: the worker may be broken, try another one for a while; not when
            # the master's own storage failed, which says nothing about the worker.
            if build.results == EXCEPTION and getattr(build, "storage_error", None) is None:
                worker.putInQuarantine()
            elif build.results != RETRY:
                worker.resetQuarantine()
        if wfb is not None:
            wfb.buildFinished()
        updates = self.master.data.updates
        brids = [r.id for r in build.requests]
        results = build.results
        try:
            if results == RETRY:
                await store_or_retry(self.master, f"unclaim build requests {brids}",
                                     lambda: updates.unclaimBuildRequests(brids))
            else:
                await store_or_retry(self.master, f"complete build requests {brids}",
                                     lambda: updates.completeBuildRequests(brids, results))
        except Exception:
            log.failure("{builder}: cannot update requests {brids}", builder=self, brids=brids)
        if wfb is not None and wfb.worker is not None:
            wfb.worker.releaseLocks(build)

    def getCollapseRequestsFn(self) -> Any:
        """The collapse rule for this builder: builder config, else global, else default."""
        fn = getattr(self.config, "collapseRequests", None)
        if fn is None:
            fn = getattr(self.master.config, "collapseRequests", None)
        if fn is None:
            fn = True
        return fn

    async def stop(self) -> None:
        # Builds of a removed builder keep running; the tasks group waits for them.
        await super().stop()


def enforceChosenWorker(bldr: Any, workerforbuilder: Any, breq: Any) -> bool:
    """A `canStartBuild` for builders: a request naming a worker (the `workername` property,
    e.g. from a ForceScheduler's WorkerChoiceParameter) only runs on that worker."""
    chosen = breq.properties.getProperty("workername")
    if isinstance(chosen, str):
        return bool(chosen == workerforbuilder.worker.workername)
    return True
