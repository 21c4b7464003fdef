"""One build: properties, worker preparation, locks, the sequence of steps and its result."""

from __future__ import annotations

import functools
import ntpath
import posixpath
from functools import partial
from collections.abc import Iterator
from typing import Any

from twisted.internet import defer, error
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.config.builder import _always_build
from buildbot.data.exceptions import StorageError
from buildbot.interfaces import LatentWorkerCannotSubstantiate
from buildbot.process.locks import LockSet
from buildbot.process.factory import step_factory_of
from buildbot.process.properties import (
    Properties,
    PropertiesMixin,
    properties_to_store,
    render,
)
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    computeResultAndTermination,
    worst_status,
)
from buildbot.process.retried_writes import storage_reason, store_or_retry
from buildbot.process.workerforbuilder import AbstractWorkerForBuilder
from buildbot.util.deferred import call_user, ensure_deferred
from buildbot.util.internal import internal_method

log = Logger()

_RESULT_TEXT = {SUCCESS: "build successful", SKIPPED: "build successful", WARNINGS: "warnings",
                FAILURE: "failed", EXCEPTION: "exception", RETRY: "retry",
                CANCELLED: "cancelled"}


def _snapshot(props: Properties) -> Properties:
    """A copy of `props`' entries as they are now (later changes to `props` not seen)."""
    snap = Properties()
    snap.properties = dict(props.properties)
    return snap


class Build(PropertiesMixin):
    """A build of one build request on one worker (the reference's `Build`)."""

    workdir: Any = "build"
    reason = "changes"
    finished = False
    results: int | None = None
    stopped = False
    set_runtime_properties = True

    def __init__(self, requests: list[Any], builder: Any = None) -> None:
        self.requests = requests
        self.builder = builder
        self.master: Any = builder.master if builder is not None else None
        self.reason = requests[0].reason if requests else ""
        self.sources = list(requests[0].sources.values()) if requests else []
        self.properties = Properties()
        self.properties.build = self
        self.stepFactories: list[Any] = []
        self.steps: list[Any] = []
        self.executedSteps: list[Any] = []
        self.currentStep: Any = None
        self.buildid: int | None = None
        self.number: int | None = None
        self.workerforbuilder: Any = None
        self.workername: str | None = None
        self.worker: Any = None
        self.conn: Any = None
        self.terminate = False
        self.stopped_reason: str | None = None
        self._stop_results: int | None = None
        self.results = SUCCESS
        self.text: list[str] = []
        self.build_lock_list: list[Any] = []
        self._build_lockset: LockSet | None = None
        self._lock_accesses: list[Any] = []
        self._stop_consumer: Any = None
        self._disconnect_sub: Any = None
        self._deferred: defer.Deferred[int] = defer.Deferred()
        self.env: dict[str, Any] = {}
        self.path_module: Any = posixpath
        # The first write of this build the database refused (disk full, ...): the build
        # then ends EXCEPTION after the running step, saying why.
        self.storage_error: BaseException | None = None
        # The build's own steps (worker_preparation, locks_acquire) not finished yet: closed
        # as EXCEPTION if the build ends early on a storage failure.
        self._open_steps: set[int] = set()

    # 4.3 attributes: the disconnect subscription (ours: `_disconnect_sub`), progress always
    # on, and the type of the "no initial value" marker.
    subs: Any = None
    useProgress = True

    class Sentinel:
        """Type of the marker for "no initial value given"."""

    _sentinel = Sentinel()

    def __repr__(self) -> str:
        return f"<Build {getattr(self.builder, 'name', '?')} number:{self.number!r}>"

    # -- configuration (from the factory and the builder) -----------------------------
    def setStepFactories(self, step_factories: list[Any]) -> None:
        self.stepFactories = list(step_factories)

    def setLocks(self, lockList: list[Any]) -> None:
        self._lock_accesses = list(lockList or [])

    def setWorkerEnvironment(self, env: dict[str, Any]) -> None:
        self.env = dict(env)

    # -- properties and sources --------------------------------------------------------
    def getProperties(self) -> Properties:
        return self.properties

    def getSourceStamp(self, codebase: str = "") -> Any:
        for ss in self.sources:
            if ss.codebase == codebase:
                return ss
        return None

    def getAllSourceStamps(self) -> list[Any]:
        return list(self.sources)

    def getChanges(self) -> list[Any]:
        out: list[Any] = []
        for ss in self.sources:
            out.extend(ss.changes)
        return out

    @staticmethod
    def allChangesFromSources(sources: list[Any]) -> Iterator[Any]:
        """The changes of `sources` (source stamps), in order."""
        for source in sources:
            yield from source.changes

    def getWorkerCommandVersion(self, command: str, oldversion: str | None = None
                                ) -> str | None:
        """The version of `command` the build's worker has (`oldversion` for an old
        worker that does not say)."""
        version: str | None = self.workerforbuilder.getWorkerCommandVersion(command, oldversion)
        return version

    def setUniqueStepName(self, name: str) -> str:
        """`name`, or `name_N` when this build already has a step called `name` (N counts
        the repeats)."""
        seen: dict[str, int] = self.__dict__.setdefault("stepnames", {})
        if name in seen:
            seen[name] += 1
            return f"{name}_{seen[name]}"
        seen[name] = 0
        return name

    def get_buildid(self) -> defer.Deferred[int]:
        """The build's id, once the build has one (it is created when the build starts)."""
        if self.buildid is not None:
            return defer.succeed(self.buildid)
        waiter: defer.Deferred[int] = defer.Deferred()
        self.__dict__.setdefault("_buildid_waiters", []).append(waiter)
        return waiter

    def _buildid_known(self) -> None:
        for waiter in self.__dict__.pop("_buildid_waiters", []):
            waiter.callback(self.buildid)

    @staticmethod
    def setupBuildProperties(props: Properties, requests: list[Any], sources: Any = None,
                             number: int | None = None) -> None:
        """Set `buildnumber`, and with a single source stamp its `branch`, `revision`,
        `repository`, `codebase` and `project`, on `props`."""
        props.setProperty("buildnumber", number, "Build")
        if sources is None:
            sources = requests[0].mergeSourceStampsWith(requests[1:])
        if sources and len(sources) == 1:
            for name in ("branch", "revision", "repository", "codebase", "project"):
                props.setProperty(name, getattr(sources[0], name), "Build")

    @staticmethod
    def setup_properties_known_before_build_starts(
            props: Properties, requests: list[Any], builder: Any,
            workerforbuilder: Any = None) -> defer.Deferred[None]:
        """Fill `props` with the global, change, request, builder and worker properties (the
        worker's `builddir` is only known once it is attached)."""
        async def setup() -> None:
            await builder.getBuilderId()
            worker = workerforbuilder.worker if workerforbuilder is not None else None
            build_properties_from_request(builder.master, requests, builder, worker, props)
        return ensure_deferred(setup())

    def setupWorkerForBuilder(self, workerforbuilder: Any) -> None:
        """Note the worker's name, information and path conventions."""
        worker = workerforbuilder.worker
        self.workername = worker.workername
        self.worker_info = getattr(worker, "info", None)
        self.path_module = ntpath if getattr(worker, "worker_system", "posix") == "nt" \
            else posixpath

    def setupWorkerProperties(self, workerforbuilder: Any) -> None:
        """Set `basedir` and `builddir` from the worker's base directory, if it gave one."""
        worker = workerforbuilder.worker
        basedir = getattr(worker, "worker_basedir", None)
        if basedir:
            if isinstance(basedir, bytes):
                basedir = basedir.decode("utf-8")
            self.setProperty("basedir", basedir, "Worker")
            self.setProperty("builddir", self.path_module.join(
                basedir, self.builder.config.workerbuilddir), "Worker")

    # Steps of 4.3's own build loop: here `startBuild` runs the whole build itself.
    _LOOP = "the build runs its steps, locks and end itself inside startBuild"
    acquireLocks = internal_method("buildbot.process.build.Build.acquireLocks", _LOOP)
    releaseLocks = internal_method("buildbot.process.build.Build.releaseLocks", _LOOP)
    startNextStep = internal_method("buildbot.process.build.Build.startNextStep", _LOOP)
    stepDone = internal_method("buildbot.process.build.Build.stepDone", _LOOP)
    allStepsDone = internal_method("buildbot.process.build.Build.allStepsDone", _LOOP)
    buildFinished = internal_method("buildbot.process.build.Build.buildFinished", _LOOP)
    buildPreparationFailure = internal_method(
        "buildbot.process.build.Build.buildPreparationFailure", _LOOP)
    setupBuildSteps = internal_method("buildbot.process.build.Build.setupBuildSteps", _LOOP)

    def controlStopBuild(self, key: Any, params: Any) -> defer.Deferred[None]:
        """Stop the build as asked by a `control/builds/<id>/stop` message."""
        params = params or {}
        return ensure_deferred(self.stopBuild(params.get("reason", "no reason"),
                                              params.get("results", CANCELLED)))

    def allChanges(self) -> Any:
        """An iterator over the changes of every source stamp (a method, as in 4.3)."""
        return iter(self.getChanges())

    def blamelist(self) -> list[str]:
        """The sorted authors of the build's changes, plus the authors of its patches."""
        who = list(dict.fromkeys(ch.who for ch in self.getChanges()))
        who += [ss.patch_info[0] for ss in self.sources
                if getattr(ss, "patch", None) and getattr(ss, "patch_info", None)]
        return sorted(who)

    def changesText(self) -> str:
        """Every change as text, each after a line of dashes (as 4.3 puts it in emails)."""
        return "".join(f"{'-' * 60}\n\n{ch.asText()}\n" for ch in self.getChanges())

    _NO_INITIAL: Any = object()

    def getSummaryStatistic(self, name: str, summary_fn: Any,
                            initial_value: Any = _NO_INITIAL) -> Any:
        """`functools.reduce(summary_fn, ...)` over statistic `name` of the executed steps
        that have it (starting from `initial_value` when given)."""
        values = [st.getStatistic(name) for st in self.executedSteps if st.hasStatistic(name)]
        if initial_value is self._NO_INITIAL:
            return functools.reduce(summary_fn, values)
        return functools.reduce(summary_fn, values, initial_value)

    def allFiles(self) -> list[str]:
        """The files of every change of the build (repeats kept), as Trial/HLint use them."""
        return [f for ch in self.getChanges() for f in (getattr(ch, "files", None) or [])]

    def getWorkerInfo(self) -> Any:
        """The worker's info (a Properties, as in the reference; {} without a worker)."""
        info = getattr(self.worker, "info", None)
        return info if info is not None else {}

    def getWorkerName(self) -> str | None:
        return self.workername

    def getBuilder(self) -> Any:
        return self.builder

    def getUrl(self) -> str:
        base = getattr(self.master.config, "buildbotURL", "http://localhost:8080/")
        builderid = self._builderid or self.builder.builderid
        return f"{base}#/builders/{builderid}/builds/{self.number}"

    # -- virtual builders: a build recorded under a builder named by its properties ------
    VIRTUAL_BUILDERNAME_PROP = "virtual_builder_name"
    VIRTUAL_BUILDERDESCRIPTION_PROP = "virtual_builder_description"
    VIRTUAL_BUILDER_PROJECT_PROP = "virtual_builder_project"
    VIRTUAL_BUILDERTAGS_PROP = "virtual_builder_tags"
    _builderid: int | None = None

    def getBuilderId(self) -> defer.Deferred[int]:
        """The id of the builder this build is recorded under (see `_builder_id`)."""
        return ensure_deferred(self._builder_id())

    async def _builder_id(self) -> int:
        """The builder named by the property `virtual_builder_name` (created on first use,
        its description, project and tags from the other `virtual_builder_*` properties or
        the real builder's) or, without it, the build's builder."""
        if self._builderid is None:
            virtual = None
            if self.hasProperty(self.VIRTUAL_BUILDERNAME_PROP):
                virtual = await self._virtual_builder_id(
                    str(self.getProperty(self.VIRTUAL_BUILDERNAME_PROP)))
            self._builderid = virtual if virtual is not None else self.builder.builderid
        assert self._builderid is not None
        return self._builderid

    async def _virtual_builder_id(self, name: str) -> int:
        updates = self.master.data.updates
        builderid = int(await updates.findBuilderId(name))
        cfg = self.builder.config
        tags = self.getProperty(self.VIRTUAL_BUILDERTAGS_PROP, cfg.tags)
        if isinstance(tags, list) and "_virtual_" not in tags:
            # in place, as in the reference: the stored property shows the marker too
            tags.append("_virtual_")
        project = self.getProperty(self.VIRTUAL_BUILDER_PROJECT_PROP,
                                   getattr(cfg, "project", None))
        projectid = await updates.find_project_id(project) if project else None
        await updates.updateBuilderInfo(
            builderid, self.getProperty(self.VIRTUAL_BUILDERDESCRIPTION_PROP, cfg.description),
            None, None, projectid, list(tags or []))
        return builderid

    def setupOwnProperties(self) -> None:
        props = self.properties
        props.setProperty("buildnumber", self.number, "Build")
        if len(self.sources) == 1:
            ss = self.sources[0]
            for name in ("branch", "revision", "repository", "codebase", "project"):
                props.setProperty(name, getattr(ss, name), "Build")

    def _set_owners(self) -> None:
        """`owners`: the authors of the changes and patches and the requests' owners; set
        with the steps (after the build's `new` event, as in 4.3), and only when any."""
        owners = set()
        for ss in self.sources:
            for ch in ss.changes:
                if ch.who:
                    owners.add(ch.who)
            if ss.patch_author:
                owners.add(ss.patch_author)
        for req in self.requests:
            owner = req.properties.getProperty("owner")
            if owner is not None:  # an empty owner is listed, as in the reference
                owners.add(owner)
        if owners:
            self.properties.setProperty("owners", sorted(owners), "Build")

    def setupPropertiesKnownBeforeBuildStarts(self, props: Properties) -> None:
        """Properties from config, changes, requests, builder and worker (§10.2, 1-5)."""
        build_properties_from_request(self.master, self.requests, self.builder, self.worker,
                                      props)

    # -- locks --------------------------------------------------------------------------
    def resolve_locks(self, locks: list[Any]) -> list[Any]:
        return list(self.master.botmaster.lock_registry.resolve(
            locks, self.master.config_version, self.workername))

    # -- the build ----------------------------------------------------------------------
    def startBuild(self, workerforbuilder: Any) -> defer.Deferred[int]:
        """Run the build on `workerforbuilder`; fires with the result."""
        return ensure_deferred(self._start_build(workerforbuilder))

    async def _start_build(self, workerforbuilder: Any) -> int:
        updates = self.master.data.updates
        self.workerforbuilder = workerforbuilder
        self.worker = workerforbuilder.worker
        self.workername = self.worker.workername
        self.conn = None
        self.path_module = ntpath if getattr(self.worker, "worker_system", "posix") == "nt" \
            else posixpath
        self.setupPropertiesKnownBeforeBuildStarts(self.properties)
        try:
            if getattr(self.builder.config, "do_build_if", None) in (None, _always_build):
                # The build always starts by preparing its worker: that step is stored
                # with the build, announced when the build gets to it.
                self.buildid, self.number = await updates.add_build_with_started_step(
                    builderid=await self._builder_id(), buildrequestid=self.requests[0].id,
                    workerid=self.worker.workerid, step_name="worker_preparation")
            else:
                self.buildid, self.number = await updates.addBuild(
                    builderid=await self._builder_id(), buildrequestid=self.requests[0].id,
                    workerid=self.worker.workerid)
        except StorageError as e:
            # No build row: the requests end EXCEPTION (once the database takes writes)
            # rather than being claimed again and again while the disk is full.
            self.storage_failed(e, "the new build")
            return await self._finish(None, EXCEPTION)
        self._buildid_known()
        self._stop_consumer = await self.master.mq.startConsuming(
            self._control_stop, ("control", "builds", str(self.buildid), "stop"))
        cancelled = self.master.botmaster.cancelled_brids
        if any(r.id in cancelled for r in self.requests):
            for r in self.requests:
                cancelled.discard(r.id)
            await self.stopBuild("build request cancelled", CANCELLED)
        try:
            return await self._run_build(workerforbuilder)
        except StorageError as e:
            if self.finished:
                raise
            self.storage_failed(e, "the build's progress")
            await self._close_open_steps()
            return await self._finish(None, EXCEPTION)
        finally:
            if self._stop_consumer is not None:
                self._stop_consumer.stopConsuming()
                self._stop_consumer = None

    async def _store_properties(self, state_string: str | None = None,
                                state_ahead: str | None = None) -> None:
        """Write the build's properties (secrets hidden, see `properties_to_store`), with
        the build's new `state_string` in the same transaction when given (and, instead,
        `state_ahead`: see `set_build_properties_and_state`)."""
        updates = self.master.data.updates
        props = await properties_to_store(self.properties)
        if state_string is None:
            await updates.setBuildProperties(self.buildid, props)
        elif state_ahead is None:
            await updates.set_build_properties_and_state(self.buildid, props, state_string)
        else:
            await updates.set_build_properties_and_state(self.buildid, props, state_string,
                                                         state_ahead=state_ahead)

    def _control_stop(self, key: Any, body: Any) -> None:
        reason = (body or {}).get("reason", "no reason")
        results = (body or {}).get("results", CANCELLED)
        ensure_deferred(self.stopBuild(reason, results))

    async def _run_build(self, workerforbuilder: Any) -> int:
        updates = self.master.data.updates
        self.setupOwnProperties()
        if not await self._do_build_if():
            # As in 4.3: no `new` event; the state string, then the end.
            await self._store_properties()
            self.results = SKIPPED
            await updates.setBuildStateString(self.buildid, _RESULT_TEXT[SKIPPED])
            return await self._finish(None, SKIPPED, state_stored=True)
        prep_id, _, _ = await updates.add_started_step(self.buildid, "worker_preparation",
                                                       locks_acquired=True)
        self._open_steps.add(prep_id)
        self._lock_accesses = list(await render(self._lock_accesses, self.properties) or [])
        locks_step = None
        if self._lock_accesses:
            locks_step, _, _ = await updates.addStep(self.buildid, "locks_acquire")
            self._open_steps.add(locks_step)
        # A worker that is ready at once (not latent) is pinged after its preparation:
        # that state is stored with the one before, announced when it comes.
        prepared_at_once = (getattr(type(workerforbuilder), "substantiate_if_needed", None)
                            is AbstractWorkerForBuilder.substantiate_if_needed)
        next_state = "pinging worker" if prepared_at_once else "preparing worker"
        # The steps are set up (and `owners` set) before the `starting` write, so that it
        # stores the build's properties and state of after the setup too, announced when
        # the build gets there (4.3's order: `starting`, `new`, setup, `preparing worker`).
        starting_props = _snapshot(await properties_to_store(self.properties))
        try:
            self.setupBuild()
            setup_failed = False
        except Exception:
            log.failure("{build}: setupBuild failed", build=self)
            setup_failed = True
        if setup_failed:
            await self._store_properties(state_string="starting")
        else:
            await self.master.data.updates.set_build_properties_and_state(
                self.buildid, starting_props, "starting", state_ahead=next_state,
                properties_ahead=await properties_to_store(self.properties))
        await updates.generateNewBuildEvent(self.buildid)
        if setup_failed:
            await self._finish_own_step(prep_id, EXCEPTION, False,
                                      state_string="setup failed")
            return await self._finish("Build.setupBuild failed", EXCEPTION)

        # `owners`, announced before the worker is prepared (stored already, see above).
        await self._store_properties(
            state_string="preparing worker",
            state_ahead="pinging worker" if prepared_at_once else None)
        cannot_substantiate = False
        try:
            ready = await workerforbuilder.prepare(self)
        except LatentWorkerCannotSubstantiate as e:
            log.info("{build}: worker cannot substantiate: {e}", build=self, e=e)
            ready, cannot_substantiate = False, True
        except Exception:
            log.failure("{build}: worker preparation failed", build=self)
            ready = False
        if not ready or self.stopped:
            if self.stopped:
                step_results, results, text = CANCELLED, self.results, "worker cancelled"
            elif cannot_substantiate:
                step_results, results, text = (EXCEPTION, EXCEPTION,
                                               "worker cannot substantiate")
            else:
                step_results, results, text = EXCEPTION, RETRY, "worker not available"
            await self._finish_own_step(prep_id, step_results, False,
                                      state_string=text)
            return await self._finish(text, results)

        await updates.setBuildStateString(self.buildid, "pinging worker")
        try:
            pinged = await workerforbuilder.ping()
        except Exception as e:  # a worker that cannot answer is retried elsewhere, below
            log.warn("build {buildid}: pinging the worker failed: {err!r}", buildid=self.buildid,
                     err=e)
            pinged = False
        if not pinged:
            await self._finish_own_step(prep_id, RETRY, False,
                                      state_string="worker not pinged")
            return await self._finish("worker not pinged", RETRY)

        self.conn = workerforbuilder.worker.conn
        if self.conn is None:
            await self._finish_own_step(prep_id, RETRY, False)
            return await self._finish("lost connection", RETRY)
        # Without build locks, `building` comes next: stored with this step's end.
        await self._finish_own_step(prep_id, SUCCESS, False,
                                  state_string=f"worker {self.workername} ready",
                                  build_state_ahead="building" if locks_step is None else None)
        self._disconnect_sub = self.conn.notifyOnDisconnect(self._lost_remote)
        basedir = self.worker.path_expand_user(self.worker.worker_basedir) \
            if getattr(self.worker, "worker_basedir", None) else None
        if basedir:
            self.properties.setProperty("basedir", basedir, "Worker")
            self.properties.setProperty(
                "builddir", self.path_module.join(basedir, self.builder.config.workerbuilddir),
                "Worker")
        try:
            await self.conn.remoteStartBuild(self.builder.name)
        except Exception:
            log.failure("{build}: remote startBuild failed", build=self)
            return await self._finish("worker not building", RETRY)

        if locks_step is not None:
            if not await self._acquire_build_locks(locks_step):
                return await self._finish("cancelled while waiting for locks",
                                          self.results or CANCELLED)

        await updates.setBuildStateString(self.buildid, "building")
        await self._run_steps()
        return await self._finish(None, self.results)

    async def _finish_own_step(self, stepid: int, results: int, hidden: bool,
                               state_string: str | None = None,
                               build_state_ahead: str | None = None) -> None:
        updates = self.master.data.updates
        if build_state_ahead is None:
            await updates.finishStep(stepid, results, hidden, state_string=state_string)
        else:
            await updates.finish_step_and_logs(
                stepid, results, hidden, state_string=state_string,
                build_state_ahead=(self.buildid, build_state_ahead))
        self._open_steps.discard(stepid)

    async def _close_open_steps(self) -> None:
        """After a storage failure: finish the build's own steps left open (when the
        database takes writes again)."""
        updates = self.master.data.updates
        for stepid in sorted(self._open_steps):
            await store_or_retry(self.master, f"finish step {stepid}", partial(
                updates.finishStep, stepid, EXCEPTION, False, state_string="exception"))
        self._open_steps.clear()

    async def _do_build_if(self) -> bool:
        cond = getattr(self.builder.config, "do_build_if", None)
        if cond is None:
            return True
        return bool(await call_user(cond, self))

    def setupBuild(self) -> None:
        """Instantiate this build's steps from the factory's step factories; set `owners`."""
        self.steps = [self._new_step(f) for f in self.stepFactories]
        self._set_owners()

    def _new_step(self, factory: Any) -> Any:
        # a step instance is accepted too (as in the reference), e.g. from plugins adding steps
        step = step_factory_of(factory).buildStep()
        step.setBuild(self)
        step.setWorker(self.worker)
        workdir = self.workdir
        step.setDefaultWorkdir(workdir)
        return step

    def addStepsAfterCurrentStep(self, step_factories: list[Any]) -> None:
        self.steps[0:0] = [self._new_step(f) for f in step_factories]

    def addStepsAfterLastStep(self, step_factories: list[Any]) -> None:
        self.steps.extend(self._new_step(f) for f in step_factories)

    def getNextStep(self) -> Any:
        while self.steps and self.conn is not None:
            step = self.steps.pop(0)
            if not (self.terminate or self.stopped) or step.alwaysRun:
                return step
        return None

    async def _run_steps(self) -> None:
        while True:
            step = self.getNextStep()
            if step is None:
                break
            self.currentStep = step
            self.executedSteps.append(step)
            try:
                result = await step.startStep(self.conn)
            except StorageError as e:
                self.storage_failed(e, f"step {step.name!r}")
                result = EXCEPTION
            except Exception:
                log.failure("{build}: step {step} failed unexpectedly", build=self, step=step)
                result = EXCEPTION
            self.currentStep = None
            try:
                if not getattr(step, "build_properties_stored", False):
                    await self._store_properties()
            except StorageError as e:
                self.storage_failed(e, "the build's properties")
            except Exception:
                log.failure("{build}: cannot store properties", build=self)
            await self._step_done(step, result)
            if self.conn is None:
                self.results = RETRY
                self.terminate = True
        # A worker lost between steps leaves the build's result forced to RETRY.

    async def _step_done(self, step: Any, result: int) -> None:
        summary = step.getBuildResultSummary()
        if "build" in summary:
            # As in 4.3, a step that has something to say to the build (a failure, by
            # default) shows in the build's state string at once, while the build runs on.
            self.text.append(summary["build"])
            try:
                await self.master.data.updates.setBuildStateString(
                    self.buildid, self.properties.redactor.redact(" ".join(self.text)))
            except StorageError as e:
                self.storage_failed(e, "the build's state string")
        previous = self.results if self.results is not None else SUCCESS
        self.results, terminate = computeResultAndTermination(step, result, previous)
        if terminate:
            self.terminate = True

    async def _acquire_build_locks(self, locks_step: int) -> bool:
        updates = self.master.data.updates
        await updates.setBuildStateString(self.buildid, "acquiring locks")
        await updates.startStep(locks_step)
        start = self.master.reactor.seconds()
        pairs = self.resolve_locks(self._lock_accesses)
        self._build_lockset = LockSet(self, pairs)
        self.build_lock_list = pairs
        acquired = await self._build_lockset.acquire()
        waited = int(self.master.reactor.seconds() - start)
        await updates.set_step_locks_acquired_at(locks_step)
        await updates.add_build_locks_duration(self.buildid, waited)  # announced even when 0
        if not acquired or self.stopped:
            await self._finish_own_step(locks_step, CANCELLED, False)
            return False
        await self._finish_own_step(locks_step, SUCCESS, False,
                                  state_string="locks acquired")
        return True

    def _lost_remote(self) -> None:
        log.info("{build}: worker connection lost", build=self)
        self.conn = None
        self.results = RETRY
        # As in 4.3, what earlier steps said is replaced: the build is to be retried.
        self.text = ["lost connection"]
        self.terminate = True
        step = self.currentStep
        if step is not None and step.results is None:
            # the step records why it ends (its "cancelled" log), as in 4.3
            d = step.interrupt(Failure(error.ConnectionLost()))
            d.addErrback(lambda f: log.failure("{build}: interrupting {step} failed", f,
                                               build=self, step=step))

    async def stopBuild(self, reason: str = "<no reason given>",
                        results: int = CANCELLED) -> None:
        """Stop the build: interrupt the running step, cancel lock waits."""
        if self.finished:
            return
        self.stopped = True
        self.stopped_reason = reason
        # The stop decides the outcome (RETRY for a master shutdown, so the request is
        # built again; CANCELLED for a user stop), whatever the interrupted step reports.
        self._stop_results = results
        self.results = worst_status(self.results, results) or results
        if self._build_lockset is not None:
            self._build_lockset.cancel()
        step = self.currentStep
        if step is not None:
            try:
                await step.interrupt(reason)
            except Exception:
                log.failure("{build}: interrupting {step} failed", build=self, step=step)
        if self.workerforbuilder is not None:
            self.workerforbuilder.cancel_preparation()

    def lostRemote(self, conn: Any = None) -> None:
        self._lost_remote()

    def storage_failed(self, err: BaseException, what: str) -> None:
        """The database refused a write of this build (`what`, for the message): the build
        ends EXCEPTION after the running step; the first reason goes to its state string
        and to the master's log."""
        self.results = worst_status(self.results, EXCEPTION) if self.results is not None \
            else EXCEPTION
        self.terminate = True
        if self.storage_error is not None:
            return
        self.storage_error = err
        reason = self.properties.redactor.redact(storage_reason(err))
        log.error("{build}: cannot store {what} ({reason}); ending the build", build=self,
                  what=what, reason=reason)
        self.text.append(f"(cannot store {what}: {reason})")

    async def _finish(self, text: str | None, results: int | None,
                      state_stored: bool = False) -> int:
        """Record the end of the build and hand it back to its builder (`state_stored`: the
        final state string is stored already)."""
        updates = self.master.data.updates
        self.finished = True
        if results is None:
            results = self.results if self.results is not None else SUCCESS
        results = worst_status(self.results, results) if self.results is not None else results
        if self.stopped and self._stop_results is not None:
            results = self._stop_results
        assert results is not None
        self.results = results
        if self._disconnect_sub is not None:
            self._disconnect_sub.unsubscribe()
            self._disconnect_sub = None
        parts = [_RESULT_TEXT.get(results, "build finished")]
        if self.stopped and self.stopped_reason:
            parts.append(f"({self.stopped_reason})")
        if text:
            parts.append(text)
        parts.extend(self.text)
        state_string = self.properties.redactor.redact(" ".join(parts))
        buildid = self.buildid
        try:
            if buildid is not None:
                await store_or_retry(
                    self.master, f"finish build {buildid}",
                    lambda: updates.finishBuild(
                        buildid, results, state_string=None if state_stored else state_string))
        except Exception:
            log.failure("{build}: cannot record the end of the build", build=self)
        if self._build_lockset is not None:
            self._build_lockset.release_all()
            self.master.botmaster.maybeStartBuildsForAllBuilders()
        await self.builder.buildFinished(self, self.workerforbuilder)
        if not self._deferred.called:
            self._deferred.callback(results)
        return results

    # Kept for plugins that wait on a build.
    def waitUntilFinished(self) -> defer.Deferred[int]:
        return self._deferred


def build_properties_from_request(master: Any, requests: list[Any], builder: Any, worker: Any,
                                  props: Properties) -> None:
    """Fill `props` with the properties known before a build starts (global, changes,
    requests, builder, worker), in the reference's precedence order."""
    cfg = master.config
    props.updateFromProperties(cfg.properties) if hasattr(cfg.properties, "asDict") else \
        props.update(dict(cfg.properties or {}), "MasterConfig")
    for req in requests:
        for ss in req.sources.values():
            for ch in ss.changes:
                props.updateFromProperties(ch.properties)
    for req in requests:
        props.updateFromProperties(req.properties)
    if builder is not None:
        builder.setupProperties(props)
    if worker is not None:
        worker.setupProperties(props)


# Exceptions some plugins catch around builds.
BuildRetry = (error.ConnectionLost, pb.PBConnectionLost)
__all__ = ["Build", "build_properties_from_request", "BuildRetry", "Failure"]
