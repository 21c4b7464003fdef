"""The build step base class and the shell mixin.

A step object written in master.cfg is a template: the factory records its constructor
arguments and every build constructs fresh instances from them (`get_step_factory()`).
The instance living in a build renders its renderable attributes, runs `run()` and reports
through the data API.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from twisted.internet import defer, error
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb
from zope.interface import implementer

from buildbot import config
from buildbot.data.exceptions import StorageError
from buildbot.interfaces import IBuildStep, IBuildStepFactory, IRenderable
from buildbot.process import log as logmod
from buildbot.process.locks import LockSet
from buildbot.process.properties import Properties, properties_to_store, render
from buildbot.process.remotecommand import RemoteCommand, RemoteException, RemoteShellCommand
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    FAILURE,
    RETRY,
    SKIPPED,
    SUCCESS,
    WARNINGS,
    ResultComputingConfigMixin,
    statusToString,
)
from buildbot.process.retried_writes import storage_reason, store_or_retry
from buildbot.util.comparable import config_dict, is_equivalent
from buildbot.util.deferred import as_deferred, call_user, ensure_deferred
from buildbot.util.internal import internal_class
from buildbot.util.misc import flatten
from buildbot.util.redact import SecretRedactor
from buildbot.util.test_result_submitter import TestResultSubmitter

log = Logger()


# Logs written in fewer chunks than this are not merged by compressLog when they finish.
COMPRESS_MIN_CHUNKS = 4


class BuildStepFailed(Exception):
    """Raised inside `run()` to end the step with FAILURE."""


class BuildStepCancelled(Exception):
    """Raised inside `run()` to end the step with CANCELLED."""


class CallableAttributeError(Exception):
    """An attribute callable raised."""


@implementer(IBuildStepFactory)
class BuildStepFactory:
    """Recorded constructor call of a step; `buildStep()` makes a fresh instance."""

    def __init__(self, step_class: type, *args: Any, **kwargs: Any) -> None:
        self.step_class = step_class
        self.args = args
        self.kwargs = kwargs

    def buildStep(self) -> BuildStep:
        step: BuildStep = self.step_class(*self.args, **self.kwargs)
        object.__setattr__(step, "_is_template", False)
        return step

    def __repr__(self) -> str:
        return f"BuildStepFactory({self.step_class.__name__}, {self.args!r}, {self.kwargs!r})"


_COMMON_PARMS = (
    "name", "description", "descriptionDone", "descriptionSuffix", "locks", "haltOnFailure",
    "flunkOnWarnings", "flunkOnFailure", "warnOnWarnings", "warnOnFailure", "alwaysRun",
    "progressMetrics", "useProgress", "doStepIf", "hideStepIf", "workdir", "logEncoding",
    "updateBuildSummaryPolicy",
)
_BOOL_PARMS = ("haltOnFailure", "flunkOnWarnings", "flunkOnFailure", "warnOnWarnings",
               "warnOnFailure", "alwaysRun")


def _describe_command(command: Any) -> str | None:
    if isinstance(command, str):
        words = command.split()
    elif isinstance(command, (list, tuple)):
        words = [w[2] if isinstance(w, tuple) and len(w) == 3 and w[0] == "obfuscated" else w
                 for w in flatten(list(command))]
        words = [w if isinstance(w, str) else repr(w) for w in words]
    else:
        return None
    if not words:
        return None
    if len(words) > 2:
        words = words[:2] + ["..."]
    return "'" + " ".join(words) + "'"


def _result_suffix(step: Any, max_lines_text: str) -> str:
    """" (<result>)" and why the command was killed, for a finished step that did not succeed
    (the reference adds nothing to a successful step's summary)."""
    if step.results is None or step.results == SUCCESS:
        return ""
    text = f" ({statusToString(step.results)})"
    if step.timed_out:
        text += " (timed out)"
    elif step.max_lines_reached:
        text += max_lines_text
    return text


class _StepType(type):
    """Marks a step initialized once its whole constructor chain has run, so that subclass
    constructors may still set attributes after calling `super().__init__()`."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        step = super().__call__(*args, **kwargs)
        object.__setattr__(step, "_initialized", True)
        return step


@implementer(IBuildStep)
class BuildStep(ResultComputingConfigMixin, metaclass=_StepType):
    """Base of every build step (the reference's plugin surface)."""

    name = "generic"
    description: Any = None
    descriptionDone: Any = None
    descriptionSuffix: Any = None
    locks: Any = None
    alwaysRun = False
    doStepIf: Any = True
    hideStepIf: Any = False
    workdir: Any = None
    logEncoding: str | None = None
    progressMetrics: tuple[str, ...] = ()
    useProgress = True
    updateBuildSummaryPolicy: Any = None
    renderables: Sequence[str] = (
        "haltOnFailure", "flunkOnWarnings", "flunkOnFailure", "warnOnWarnings", "warnOnFailure",
        "alwaysRun", "description", "descriptionDone", "descriptionSuffix", "doStepIf",
        "hideStepIf", "workdir",
    )
    # 4.3 names read by plugins: steps compare by the factory that built them (the web UI's
    # config view and reconfiguration), properties set by a step are runtime ones, and the
    # attributes below exist on every step (None until the step runs).
    compare_attrs: Sequence[str] = ("_factory",)
    set_runtime_properties = True
    step_status: Any = None
    progress: Any = None
    build: Any = None  # set by setBuild
    cmd: RemoteCommand | None = None  # the command running (ShellMixin, CommandMixin)
    rendered = False  # True once the renderables are rendered
    _is_template = True
    _initialized = False
    _summary_closed = False
    # The first write of this step the database refused (see `storage_failed`).
    storage_error: BaseException | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> BuildStep:
        self = object.__new__(cls)
        object.__setattr__(self, "_factory", BuildStepFactory(cls, *args, **kwargs))
        return self

    def __init__(self, **kwargs: Any) -> None:
        for p in _COMMON_PARMS:
            if p in kwargs:
                value = kwargs.pop(p)
                if p in _BOOL_PARMS and not isinstance(value, bool) and \
                        not IRenderable.providedBy(value):
                    config.error(f"{type(self).__name__} argument {p} must be an instance "
                                 f"of bool")
                object.__setattr__(self, p, value)
        if kwargs:
            config.error(f"{type(self)}.__init__ got unexpected keyword argument(s) "
                         f"{list(kwargs)}")
        if isinstance(self.name, str) and len(self.name) > 50:
            config.error(f"step name '{self.name}' is longer than 50 characters")
        if not isinstance(self.name, str) and not IRenderable.providedBy(self.name):
            config.error(f"BuildStep name must be a string or a renderable object: {self.name!r}")
        for attr in ("description", "descriptionDone", "descriptionSuffix"):
            value = getattr(self, attr)
            if isinstance(value, str):
                object.__setattr__(self, attr, [value])
        self._acquiringLocks: list[Any] = []
        self._lockset: LockSet | None = None
        self.build = None
        self.worker: Any = None
        self.remote: Any = None
        self.stepid: int | None = None
        self.number: int | None = None
        self.results: int | None = None
        self.stopped = False
        self.logs: dict[str, Any] = {}
        self._log_observers: list[tuple[str, Any]] = []
        self._running = False
        self.cmd = None
        self.timed_out = False
        self.max_lines_reached = False
        self._summary_task: defer.Deferred[None] | None = None
        self._summary_timer: Any = None
        self._interrupting = 0
        self._interrupt_waiters: list[defer.Deferred[None]] = []
        self._summary_dirty = False
        self._statistics: dict[str, Any] = {}
        self._test_result_submitters: dict[int, TestResultSubmitter] = {}
        # While the step ends: ids of its logs whose completion waits for the step's own
        # (stored in one transaction), and the logs to compress after it.
        self._held_log_finishes: list[int] | None = None
        self._held_compress: list[Any] = []
        # Set by the step's end: the build's properties were stored with it.
        self.build_properties_stored = False

    def __setattr__(self, name: str, value: Any) -> None:
        if self._is_template and self._initialized and name in _COMMON_PARMS:
            config.error("Changes to attributes of a BuildStep instance are ignored, this is "
                         "a bug. Use set_step_arg(name, value) for that.")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- configuration-time API -------------------------------------------------------
    def get_step_factory(self) -> BuildStepFactory:
        factory: BuildStepFactory = self._factory  # type: ignore[attr-defined]  # set by the step factory that created the step
        return factory

    def set_step_arg(self, name: str, value: Any) -> None:
        factory = self._factory  # type: ignore[attr-defined]  # set by the step factory that created the step
        factory.kwargs[name] = value
        object.__setattr__(self, name, value)

    def _getStepFactory(self) -> BuildStepFactory:
        return self.get_step_factory()

    # -- wiring into a build ------------------------------------------------------------
    def setBuild(self, build: Any) -> None:
        self.build = build

    def setWorker(self, worker: Any) -> None:
        self.worker = worker

    def setDefaultWorkdir(self, workdir: Any) -> None:
        if self.workdir is None:
            self.workdir = workdir

    def setupProgress(self) -> None:
        pass

    @property
    def master(self) -> Any:
        return self.build.master if self.build is not None else None

    def getProperties(self) -> Properties:
        props: Properties = self.build.getProperties()
        return props

    def getProperty(self, propname: str, default: Any = None) -> Any:
        return self.build.getProperties().getProperty(propname, default)

    def hasProperty(self, propname: str) -> bool:
        return bool(self.build.getProperties().hasProperty(propname))

    has_key = hasProperty

    def getConfigDict(self) -> dict[str, Any]:
        return config_dict(self)

    isEquivalent = staticmethod(is_equivalent)

    def setProperty(self, propname: str, value: Any, source: str = "Step",
                    runtime: bool = True) -> None:
        self.build.getProperties().setProperty(propname, value, source, runtime=runtime)

    def render(self, value: Any) -> defer.Deferred[Any]:
        return ensure_deferred(render(value, self.build.getProperties()))

    def getWorkerName(self) -> str:
        return str(self.build.getWorkerName())

    def workerVersion(self, command: str, oldversion: str | None = None) -> str | None:
        commands = getattr(self.worker, "worker_commands", None) or {}
        if command not in commands:
            return oldversion
        version: str | None = commands[command]
        return version

    def workerVersionIsOlderThan(self, command: str, minversion: str) -> bool:
        sv = self.workerVersion(command)
        if sv is None:
            return True
        return [int(s) for s in sv.split(".")] < [int(m) for m in minversion.split(".")]

    def checkWorkerHasCommand(self, command: str) -> None:
        if not self.workerVersion(command):
            from buildbot.interfaces import WorkerTooOldError
            raise WorkerTooOldError(f"worker is too old, does not know about {command}")

    def getWorkerCommandVersion(self, command: str, oldversion: str | None = None) -> str | None:
        return self.workerVersion(command, oldversion)

    @property
    def worker_system(self) -> str | None:
        return getattr(self.worker, "worker_system", None)

    def is_exact_step_class(self, klass: type) -> bool:
        """True if this step is an instance of `klass` itself, not of a subclass."""
        return type(self) is klass

    # -- statistics (numbers a step shares with later steps of the build) ----------------
    def hasStatistic(self, name: str) -> bool:
        return name in self._statistics

    def getStatistic(self, name: str, default: Any = None) -> Any:
        return self._statistics.get(name, default)

    def getStatistics(self) -> dict[str, Any]:
        return dict(self._statistics)

    def setStatistic(self, name: str, value: Any) -> None:
        self._statistics[name] = value

    def setProgress(self, metric: str, value: int) -> None:
        """Report progress on one of `progressMetrics`; kept for plugins that call it (no
        ETA is computed from it here)."""

    # -- summaries ----------------------------------------------------------------------
    def _describe(self, done: bool = False) -> str | None:
        words = (self.descriptionDone or self.description) if done else self.description
        if words is None:
            return None
        if isinstance(words, (list, tuple)):
            text = " ".join(str(w) for w in words)
        else:
            text = str(words)
        if self.descriptionSuffix:
            suffix = self.descriptionSuffix
            text += " " + (" ".join(str(s) for s in suffix)
                           if isinstance(suffix, (list, tuple)) else str(suffix))
        return text

    def getCurrentSummary(self) -> dict[str, str]:
        desc = self._describe(False)
        return {"step": desc if desc is not None else "running"}

    def getResultSummary(self) -> dict[str, str]:
        desc = self._describe(True)
        text = desc if desc is not None else "finished"
        return {"step": text + _result_suffix(self, " (max lines reached)")}

    @property
    def _redactor(self) -> SecretRedactor | None:
        """The build's secrets registry (None outside a build)."""
        props = self.build.getProperties() if self.build is not None else None
        return getattr(props, "redactor", None)

    def hide_secrets(self, text: str) -> str:
        """`text` with the secrets rendered so far in this build replaced by `<name>`
        (for whatever a step writes outside its logs, the master's log included)."""
        redactor = self._redactor
        return redactor.redact(text) if redactor else text

    # As in 4.3, a running step's summary is written at most once a second, the first
    # write a second after the first change: a step done sooner shows only its final
    # summary (written with its completion), and live updates stay cheap.
    SUMMARY_DELAY_S = 1.0

    def updateSummary(self) -> None:
        """Publish the current (or, once finished, the final) summary; writes coalesce."""
        if self.stepid is None or self._summary_closed:
            return
        if self._summary_task is not None:
            self._summary_dirty = True  # the running write loop picks the change up
            return
        if self._summary_timer is None:
            self._summary_timer = self.master.reactor.callLater(self.SUMMARY_DELAY_S,
                                                                self._summary_due)

    def _summary_due(self) -> None:
        self._summary_timer = None
        if self._summary_closed:
            return
        d = ensure_deferred(self._write_summary())
        if not d.called:
            self._summary_task = d

    def _summary_text(self) -> str:
        summary = (self.getResultSummary() if self.results is not None
                   else self.getCurrentSummary())
        return self.hide_secrets(str(summary.get("step", "")))

    async def _write_summary(self) -> None:
        try:
            while True:
                self._summary_dirty = False
                text = self._summary_text()
                try:
                    await self.master.data.updates.setStepStateString(self.stepid, text)
                except StorageError as e:
                    self.storage_failed(e, "its summary")
                except Exception:
                    log.failure("{step}: cannot update its summary", step=self)
                if not self._summary_dirty:
                    break
        finally:
            self._summary_task = None

    async def _wait_summary(self) -> None:
        while self._summary_task is not None:
            task = self._summary_task
            waiter: defer.Deferred[None] = defer.Deferred()

            def wake(result: Any, waiter: defer.Deferred[None] = waiter) -> Any:
                waiter.callback(None)
                return result

            task.addBoth(wake)
            await waiter

    def getBuildResultSummary(self) -> dict[str, str]:
        summary = self.getResultSummary()
        policy = self.updateBuildSummaryPolicy
        if policy is None:
            wanted = {EXCEPTION, RETRY, CANCELLED}
            if self.flunkOnFailure or self.haltOnFailure or self.warnOnFailure:
                wanted.add(FAILURE)
            if self.warnOnWarnings or self.flunkOnWarnings:
                wanted.add(WARNINGS)
        elif policy is True:
            wanted = set(range(7))
        elif policy is False:
            wanted = set()
        else:
            wanted = set(policy)
        if self.results in wanted and "build" not in summary and "step" in summary:
            summary["build"] = summary["step"]
        return summary

    # -- logs ---------------------------------------------------------------------------
    def _decoder(self, encoding: str | None) -> Any:
        enc = encoding or self.logEncoding or getattr(self.master.config, "logEncoding",
                                                      "utf-8") or "utf-8"
        if callable(enc):
            return enc
        return lambda b: b.decode(enc, "replace")

    @as_deferred
    async def addLog(self, name: str, type: str = "s", logEncoding: str | None = None) -> Any:
        """Create a log of this step (`type` 's', 't' or 'h')."""
        if self.stepid is None:
            raise BuildStepCancelled("step has no database id")
        updates = self.master.data.updates
        logid = await updates.addLog(self.stepid, self.hide_secrets(name), type)
        loog = logmod.new_log(_LogUpdates(updates, self), name, type, logid,
                              self._decoder(logEncoding), self._redactor)
        loog.on_finished = self._log_finished
        loog.on_write_failed = self._log_write_failed
        self.logs[name] = loog
        for logname, observer in self._log_observers:
            if logname == name:
                observer.setLog(loog)
        return loog

    def _log_finished(self, loog: Any) -> None:
        # Compression merges the log's chunks (each already compressed when written); for a
        # log written in a few chunks it would cost three transactions to save a row or two,
        # so only logs with enough chunks are merged. It runs in the background and the
        # master waits for it at shutdown.
        if getattr(loog, "chunks_written", COMPRESS_MIN_CHUNKS) < COMPRESS_MIN_CHUNKS:
            return
        if self._held_log_finishes is not None and loog.logid in self._held_log_finishes:
            self._held_compress.append(loog)  # once its completion is stored
            return
        self.master.tasks.spawn(f"compress log {loog.logid}",
                                self.master.data.updates.compressLog(loog.logid))

    def _log_write_failed(self, loog: Any, err: BaseException) -> None:
        if isinstance(err, StorageError):
            self.storage_failed(err, f"log {loog.name!r}")
        else:
            log.failure("{step}: writing log {name} failed", failure=Failure(err), step=self,
                        name=loog.name)

    async def _flush_held_log_finishes(self) -> None:
        """Store the held log completions now (another write of the step comes first)."""
        held = self._held_log_finishes
        while held:
            await self.master.data.updates.finishLog(held[0])
            held.pop(0)

    def storage_failed(self, err: BaseException, what: str) -> None:
        """The database refused a write of this step (`what`, for the message): the step
        ends EXCEPTION, its running command is interrupted (its output could not be kept)
        and the build ends after it. Later failures of the step are not reported again."""
        if self.storage_error is not None:
            return
        self.storage_error = err
        if self.build is not None and hasattr(self.build, "storage_failed"):
            self.build.storage_failed(err, f"{what} of step {self.name!r}")
        else:
            log.error("{step}: cannot store {what} ({reason})", step=self, what=what,
                      reason=self.hide_secrets(storage_reason(err)))
        cmd = self.cmd
        if cmd is not None:
            self.master.tasks.spawn(f"interrupt {self} (storage failed)", cmd.interrupt(
                f"the master cannot store the output: {storage_reason(err)}"))

    def getLog(self, name: str) -> Any:
        return self.logs[name]

    @as_deferred
    async def addCompleteLog(self, name: str, text: str) -> None:
        loog = await self.addLog(name, "t")
        await loog.addContent(text if text.endswith("\n") or not text else text + "\n")
        await loog.finish()

    @as_deferred
    async def addHTMLLog(self, name: str, html: str) -> None:
        loog = await self.addLog(name, "h")
        await loog.addContent(html if html.endswith("\n") or not html else html + "\n")
        await loog.finish()

    def addLogObserver(self, logname: str, observer: Any) -> None:
        observer.setStep(self)
        self._log_observers.append((logname, observer))
        if logname in self.logs:
            observer.setLog(self.logs[logname])

    def addLogWithFailure(self, why: Failure, logprefix: str = "") -> defer.Deferred[None]:
        return ensure_deferred(self._add_failure_logs(why, logprefix))

    def _log_exception(self, f: Failure) -> None:
        """Report an exception of the step in the master's log, secrets hidden."""
        redactor = self._redactor
        if redactor:
            traceback = f.getTraceback()
            redacted = redactor.redact(traceback)
            if redacted != traceback:
                log.error("{step} raised an exception:\n{traceback}", step=self,
                          traceback=redacted)
                return
        log.failure("{step} raised an exception", failure=f, step=self)

    async def _add_failure_logs(self, why: Failure, logprefix: str = "") -> None:
        try:
            await self.addCompleteLog(logprefix + "err.text", why.getTraceback())
            await self.addHTMLLog(logprefix + "err.html", "<pre>" + why.getTraceback() + "</pre>")
        except Exception:
            log.failure("{step}: cannot record the failure logs", step=self)

    def addLogWithException(self, why: BaseException, logprefix: str = "") -> Any:
        return self.addLogWithFailure(Failure(why), logprefix)

    @as_deferred
    async def addURL(self, name: str, url: str) -> None:
        await self.master.data.updates.addStepURL(self.stepid, self.hide_secrets(str(name)),
                                                  self.hide_secrets(str(url)))

    @as_deferred
    async def setBuildData(self, name: str, value: bytes, source: str) -> None:
        redactor = self._redactor
        if redactor:
            value = redactor.redact_bytes(value)
        await self.master.data.updates.setBuildData(self.build.buildid, name, value, source)

    # -- test results -------------------------------------------------------------------
    async def addTestResultSets(self) -> None:
        """Hook run just before `run()`: create the step's test result sets (with
        `addTestResultSet`); the default creates none."""

    @as_deferred
    async def addTestResultSet(self, description: str, category: str, value_unit: str) -> int:
        """Open a test result set of this step; the id goes to `addTestResult`. Sets are
        completed (with their pass/fail counts) when the step finishes."""
        submitter = TestResultSubmitter()
        await submitter.setup(self, description, category, value_unit)
        setid = submitter.get_test_result_set_id()
        assert setid is not None
        self._test_result_submitters[setid] = submitter
        return setid

    def addTestResult(self, setid: int, value: str, test_name: str | None = None,
                      test_code_path: str | None = None, line: int | None = None,
                      duration_ns: int | None = None) -> None:
        """Add one result (`value` a string) to a set; written in batches."""
        self._test_result_submitters[setid].add_test_result(
            value, test_name=test_name, test_code_path=test_code_path, line=line,
            duration_ns=duration_ns)

    # -- running ------------------------------------------------------------------------
    def isNewStyle(self) -> bool:
        return True

    async def run(self) -> int:
        """Do the step's work and return a result code (subclasses override)."""
        raise NotImplementedError(f"{type(self).__name__} must implement run()")

    @as_deferred
    async def runCommand(self, command: RemoteCommand) -> Any:
        """Run a remote command on this step's worker; an interrupt ends it CANCELLED."""
        if self.stopped:
            raise BuildStepCancelled("step was stopped")
        self.cmd = command
        try:
            await command.run(self, self.remote, self.build.builder.name)
        finally:
            self.cmd = None
        if command.failure_reason in ("timeout", "timeout_without_output"):
            self.timed_out = True
        elif command.failure_reason == "max_lines_failure":
            self.max_lines_reached = True
        if self.stopped:
            raise BuildStepCancelled("step was interrupted")
        return command

    def interrupt(self, reason: Any) -> defer.Deferred[None]:
        """Stop the step: cancel lock waits, interrupt the running command."""
        d = ensure_deferred(self._interrupt(reason))
        if not d.called:
            # The step closes its logs only after this (its "cancelled" log comes first).
            self._interrupting += 1
            d.addBoth(self._interrupt_done)
        return d

    def _interrupt_done(self, result: Any) -> Any:
        self._interrupting -= 1
        if not self._interrupting:
            waiters, self._interrupt_waiters = self._interrupt_waiters, []
            for waiter in waiters:
                waiter.callback(None)
        return result

    async def _wait_interrupts(self) -> None:
        if self._interrupting:
            waiter: defer.Deferred[None] = defer.Deferred()
            self._interrupt_waiters.append(waiter)
            await waiter

    async def _interrupt(self, reason: Any) -> None:
        if self.stopped:
            return
        self.stopped = True
        for waiter in self._acquiringLocks:
            waiter.cancel()
        text = reason if isinstance(reason, str) else str(
            reason.getErrorMessage() if isinstance(reason, Failure) else reason)
        if self.stepid is not None and self._running:
            try:
                await self.addCompleteLog("cancelled", text)
            except StorageError as e:
                self.storage_failed(e, "the reason it was cancelled")
            except Exception:
                log.failure("{step}: cannot record the cancel reason", step=self)
        # A lost worker connection ends the running command by itself (it watches its
        # connection); there is no worker left to tell.
        lost = isinstance(reason, Failure) and reason.check(error.ConnectionLost) is not None
        if self.cmd is not None and not lost:
            await self.cmd.interrupt(text)

    def _all_renderables(self) -> list[str]:
        """`renderables` of every class in the hierarchy (plugins list only their own
        attributes, as the reference merges the lists along the MRO)."""
        names: list[str] = []
        for klass in type(self).__mro__:
            for attr in klass.__dict__.get("renderables", ()):
                if attr not in names:
                    names.append(attr)
        return names

    async def _render_renderables(self) -> None:
        props = self.build.getProperties()
        for attr in self._all_renderables():
            value = getattr(self, attr, None)
            if value is None:
                continue
            rendered = await render(value, props)
            object.__setattr__(self, attr, rendered)
        for attr in ("description", "descriptionDone", "descriptionSuffix"):
            value = getattr(self, attr)
            if isinstance(value, str):
                object.__setattr__(self, attr, [value])
        object.__setattr__(self, "rendered", True)

    async def _should_run(self) -> bool:
        cond = self.doStepIf
        if isinstance(cond, bool):
            return cond
        if callable(cond):
            return bool(await call_user(cond, self))
        return bool(cond)

    async def _hidden(self, results: int) -> bool:
        cond = self.hideStepIf
        if isinstance(cond, bool):
            return cond
        if callable(cond):
            return bool(await call_user(cond, results, self))
        return bool(cond)

    def startStep(self, remote: Any) -> defer.Deferred[int]:
        """Run the whole step lifecycle inside its build; fires with the result."""
        return ensure_deferred(self._start_step(remote))

    async def _start_step(self, remote: Any) -> int:
        self.remote = remote
        updates = self.master.data.updates
        # As in 4.3: the step is created and starts, then (unless doStepIf skips it) says
        # when it got its locks, at once when it has none. Creation and start are one
        # transaction (announced as two events).
        started_at = int(self.master.reactor.seconds())
        await self._create_step_row(started_at, ahead=True)
        self._running = True
        results = SUCCESS
        lock_list: list[Any] = []
        try:
            await self._render_renderables()
            self.updateSummary()
            if self.stopped:
                results = CANCELLED
            elif not await self._should_run():
                results = SKIPPED
            else:
                locks_acquired_at = started_at
                if self.locks:
                    lock_list = await self._resolve_locks()
                    acquired = await self._acquire_locks(lock_list)
                    if not acquired:
                        raise BuildStepCancelled("cancelled while waiting for locks")
                    locks_acquired_at = int(self.master.reactor.seconds())
                await updates.set_step_locks_acquired_at(self.stepid, locks_acquired_at)
                if self.locks:  # the wait counts in the build's, announced even when 0
                    await updates.add_build_locks_duration(self.build.buildid,
                                                           locks_acquired_at - started_at)
                if self.stopped:
                    raise BuildStepCancelled("step was interrupted")
                await call_user(self.addTestResultSets)
                results = await call_user(self.run)
                if results is None:
                    results = SUCCESS
        except BuildStepCancelled:
            results = CANCELLED
        except BuildStepFailed:
            results = FAILURE
        except (error.ConnectionLost, pb.PBConnectionLost, pb.DeadReferenceError):
            results = RETRY
        except Exception as e:
            f = Failure()
            if isinstance(e, StorageError) or self.storage_error is not None:
                # Reported once already (or now): no traceback logs, they could not be
                # stored either.
                self.storage_failed(e, "its progress")
                results = CANCELLED if self.stopped else EXCEPTION  # a stop asked wins
            elif isinstance(e, RemoteException) and self.stopped:
                results = CANCELLED
            else:
                self._log_exception(f)
                results = EXCEPTION
                await self._add_failure_logs(f)
        if self.stopped and results not in (RETRY, CANCELLED):
            results = EXCEPTION
        if self.storage_error is not None and results != CANCELLED:
            results = EXCEPTION
        self.results = results
        hidden = False
        try:
            hidden = await self._hidden(results)
        except Exception:
            log.failure("{step}: hideStepIf raised", step=self)
            self.results = results = EXCEPTION
        await self._wait_interrupts()
        # The logs still open are finished with the step: their completion is stored in the
        # step's end transaction and announced just before it (as when stored apart), unless
        # another write of the step comes between (it then stores them first).
        self._held_log_finishes = []
        for loog in list(self.logs.values()):
            if not loog.isFinished():
                try:
                    await loog.finish()
                except StorageError as e:
                    self.storage_failed(e, f"log {loog.name!r}")
                    if results != CANCELLED:
                        self.results = results = EXCEPTION
                    logid: int = loog.logid
                    await store_or_retry(self.master, f"finish log {logid}",
                                         partial(updates.finishLog, logid))
                except Exception:
                    log.failure("{step}: finishing log {name} failed", step=self, name=loog.name)
                    self.results = results = EXCEPTION
        self._release_locks(lock_list)
        # As in the reference, the summary is final once the step finished (a Trigger not
        # waiting for its builds does not update it later). The final text is stored with
        # the step's completion, in one transaction; a delayed write is not needed any more.
        self._summary_closed = True
        if self._summary_timer is not None:
            self._summary_timer.cancel()
            self._summary_timer = None
        await self._wait_summary()
        try:
            final_text = self._summary_text()
        except Exception:
            log.failure("{step}: cannot compute its final summary", step=self)
            final_text = None
        for submitter in self._test_result_submitters.values():
            try:
                await self._flush_held_log_finishes()
                await submitter.finish()
            except StorageError as e:
                self.storage_failed(e, "its test results")
                if results != CANCELLED:
                    self.results = results = EXCEPTION
        stepid = self.stepid
        held, self._held_log_finishes = self._held_log_finishes, None
        # The build stores its properties after each step: they go with the step's end.
        build_props = await self._build_properties_to_store()

        async def finish() -> None:
            self.build_properties_stored = bool(await updates.finish_step_and_logs(
                stepid, results, hidden, state_string=final_text, logids=held,
                build_properties=build_props))

        await store_or_retry(self.master, f"finish step {stepid}", finish)
        for loog in self._held_compress:
            self._log_finished(loog)
        self._held_compress = []
        self._running = False
        return results

    async def _build_properties_to_store(self) -> tuple[int, Properties] | None:
        build = self.build
        buildid = getattr(build, "buildid", None)
        props = getattr(build, "properties", None)
        if buildid is None or not isinstance(props, Properties):
            return None
        try:
            return buildid, await properties_to_store(props)
        except Exception:
            return None  # the build's own store after the step reports it

    def addStep(self) -> defer.Deferred[None]:
        """Create the step's row (number, unique name) in its build; done by startStep."""
        return ensure_deferred(self._create_step_row())

    def _first_log_ahead(self) -> tuple[str, str] | None:
        """The log a step is sure to ask for first, when it runs its command: a plain
        ShellCommand's stdio (its row is then stored with the step's start)."""
        from buildbot.steps.shell import ShellCommand  # noqa: PLC0415 - steps import this module
        cls = type(self)
        if (cls.run is ShellCommand.run
                and getattr(cls, "makeRemoteShellCommand", None)
                is ShellMixin.makeRemoteShellCommand
                and getattr(cls, "_attach_logs", None) is ShellMixin._attach_logs
                and cls.addLog is BuildStep.addLog
                and cls.addTestResultSets is BuildStep.addTestResultSets):
            return ("stdio", "s")
        return None

    async def _create_step_row(self, started_at: int | None = None,
                               ahead: bool = False) -> None:
        name = self.name
        if not isinstance(name, str):
            name = await render(name, self.build.getProperties())
            object.__setattr__(self, "name", name)
        updates = self.master.data.updates
        try:
            if started_at is None:
                self.stepid, self.number, name = await updates.addStep(
                    self.build.buildid, self.hide_secrets(str(name)))
            elif ahead:
                # What the step stores next when all goes as usual (no locks to wait for,
                # no doStepIf, its command's stdio) goes with its start; announced when
                # the step gets there, undone by its end if it never does.
                self.stepid, self.number, name = await updates.add_started_step_ahead(
                    self.build.buildid, self.hide_secrets(str(name)), started_at=started_at,
                    locks_ahead=not self.locks and self.doStepIf is True,
                    first_log=self._first_log_ahead())
            else:
                self.stepid, self.number, name = await updates.add_started_step(
                    self.build.buildid, self.hide_secrets(str(name)), started_at=started_at)
        except StorageError as e:
            self.storage_failed(e, "the new step")
            raise
        object.__setattr__(self, "name", name)

    # -- locks --------------------------------------------------------------------------
    def acquireLocks(self, res: Any = None) -> defer.Deferred[None]:
        """Wait until the step holds all its locks (startStep does this before `run`)."""
        async def acquire() -> None:
            if self.locks and not self.stopped and self._lockset is None:
                await self._acquire_locks(await self._resolve_locks())
        return ensure_deferred(acquire())

    def releaseLocks(self) -> None:
        """Release the locks the step holds (startStep does this when the step ends)."""
        self._release_locks([])

    async def _resolve_locks(self) -> list[Any]:
        locks = await render(self.locks, self.build.getProperties())
        return list(self.build.resolve_locks(locks or []))

    async def _acquire_locks(self, lock_list: list[Any]) -> bool:
        build_locks = {id(real) for real, _ in self.build.build_lock_list}
        for real, _ in lock_list:
            if id(real) in build_locks:
                raise RuntimeError(f"lock {real} is used both by the build and by step "
                                   f"'{self.name}'")
        lockset = LockSet(self, lock_list)
        self._lockset = lockset
        self._acquiringLocks.append(lockset)
        try:
            acquired = await lockset.acquire()
        finally:
            self._acquiringLocks.remove(lockset)
        return acquired

    def _release_locks(self, lock_list: list[Any]) -> None:
        if self._lockset is not None:
            self._lockset.release_all()
            self._lockset = None


class _LogUpdates:
    """The update methods a step's logs write through: while the step ends, a log's
    completion is held for the step's end transaction (`_held_log_finishes`); any other
    write of a log of the step stores the held ones first, keeping the messages' order."""

    __slots__ = ("_step", "_updates")

    def __init__(self, updates: Any, step: BuildStep) -> None:
        self._updates = updates
        self._step = step

    def __getattr__(self, name: str) -> Any:
        return getattr(self._updates, name)

    async def appendLog(self, logid: int, content: str) -> Any:
        if self._step._held_log_finishes:
            await self._step._flush_held_log_finishes()
        return await self._updates.appendLog(logid, content)

    async def finishLog(self, logid: int) -> None:
        held = self._step._held_log_finishes
        if held is None:
            await self._updates.finishLog(logid)
        else:
            held.append(logid)


class ShellMixin:
    """Shell-command arguments and `makeRemoteShellCommand` for steps that run commands."""

    command: Any = None
    env: Any = None
    want_stdout = True
    want_stderr = True
    usePTY: Any = None
    logfiles: Any = None
    lazylogfiles = False
    timeout: Any = 1200
    maxTime: Any = None
    max_lines: Any = None
    logEnviron = True
    interruptSignal: Any = "KILL"
    sigtermTime: Any = None
    initialStdin: Any = None
    decodeRC: Any = None

    _shellMixinArgs = ("command", "workdir", "env", "want_stdout", "want_stderr", "usePTY",
                       "logfiles", "lazylogfiles", "timeout", "maxTime", "max_lines",
                       "logEnviron", "interruptSignal", "sigtermTime", "initialStdin",
                       "decodeRC")
    renderables: Sequence[str] = _shellMixinArgs

    def setupShellMixin(self, constructorArgs: dict[str, Any],
                        prohibitArgs: Sequence[str] = ()) -> dict[str, Any]:
        """Take the shell arguments out of `constructorArgs` onto self; return the rest."""
        constructorArgs = dict(constructorArgs)
        bad = [a for a in prohibitArgs if a in constructorArgs]
        for arg in bad:
            config.error(f"invalid {type(self).__name__} argument {arg}")
            del constructorArgs[arg]
        for arg in self._shellMixinArgs:
            if arg in constructorArgs and arg != "workdir":
                object.__setattr__(self, arg, constructorArgs.pop(arg))
        for arg in [a for a in constructorArgs if a not in _COMMON_PARMS]:
            config.error(f"invalid {type(self).__name__} argument {arg}")
            del constructorArgs[arg]
        if self.decodeRC is None:
            object.__setattr__(self, "decodeRC", {0: SUCCESS})
        if not isinstance(self.decodeRC, dict) and not IRenderable.providedBy(self.decodeRC):
            config.error("decodeRC must be a dictionary")
        if self.env is None:
            object.__setattr__(self, "env", {})
        if self.logfiles is None:
            object.__setattr__(self, "logfiles", {})
        return constructorArgs

    @as_deferred
    async def makeRemoteShellCommand(self, collectStdout: bool = False,
                                     collectStderr: bool = False,
                                     stdioLogName: str | None = "stdio",
                                     **overrides: Any) -> RemoteShellCommand:
        step: Any = self
        kwargs = {a: getattr(step, a) for a in self._shellMixinArgs}
        kwargs.update(overrides)
        builder_env = getattr(step.build.builder.config, "env", None) or {}
        if builder_env:  # may hold renderables (secrets), as in the reference
            builder_env = await render(dict(builder_env), step.build.getProperties())
        env = dict(builder_env)
        env.update(kwargs.pop("env") or {})
        command = kwargs.pop("command")
        if isinstance(command, (list, tuple)):
            command = flatten(list(command))
        # Kept for the summary (ShellSequence shows the last command it ran).
        object.__setattr__(self, "command", command)
        if command is None or command == [] or command == "":
            raise ValueError(f"{type(self).__name__}: no command given")
        kwargs.pop("lazylogfiles")
        workdir = kwargs.pop("workdir") or step.build.workdir
        cmd = RemoteShellCommand(
            workdir, command, env=env or None, collectStdout=collectStdout,
            collectStderr=collectStderr, stdioLogName=stdioLogName, **kwargs)
        await self._attach_logs(cmd, stdioLogName)
        return cmd

    async def _attach_logs(self, cmd: RemoteCommand, stdioLogName: str | None) -> None:
        step: Any = self
        # stdioLogName None: the command's output is dropped (ShellArg without a logname).
        if stdioLogName is not None:
            stdio = step.logs.get(stdioLogName)
            if stdio is None:
                stdio = await step.addLog(stdioLogName)
            cmd.useLog(stdio, closeWhenFinished=False)
        for logname in (self.logfiles or {}):
            if self.lazylogfiles:
                async def activate(_cmd: Any, logname: str = logname) -> Any:
                    return await step.addLog(logname)
                cmd.useLogDelayed(logname, lambda c, n=logname: ensure_deferred(activate(c, n)),
                                  closeWhenFinished=True)
            else:
                newlog = step.logs.get(logname) or await step.addLog(logname)
                cmd.useLog(newlog, closeWhenFinished=True)

    def getCurrentSummary(self) -> dict[str, str]:
        step: Any = self
        if step.description is not None:
            return BuildStep.getCurrentSummary(step)
        return {"step": "running"}

    def getResultSummary(self) -> dict[str, str]:
        # As in the reference: only descriptionDone (not description) beats the command text,
        # and a command killed for its output length says " (max lines)".
        step: Any = self
        if step.descriptionDone is not None:
            return BuildStep.getResultSummary(step)
        # Secrets hidden before the command is cut into words: one holding a space would
        # show in part.
        redactor = step._redactor
        desc = _describe_command(redactor.redact_value(self.command) if redactor
                                 else self.command)
        if desc is None:
            return BuildStep.getResultSummary(step)
        return {"step": desc + _result_suffix(step, " (max lines)")}


class CommandMixin:
    """Helpers for steps that run file-system commands on the worker."""

    async def _simple_command(self, cmd: str, args: dict[str, Any]) -> RemoteCommand:
        step: Any = self
        command = RemoteCommand(cmd, args)
        stdio = step.logs.get("stdio")
        if stdio is not None:
            command.useLog(stdio, closeWhenFinished=False)
        await step.runCommand(command)
        return command

    @as_deferred
    async def runRmdir(self, dir: str, log: Any = None, abandonOnFailure: bool = True) -> bool:
        cmd = await self._simple_command("rmdir", {"dir": dir, "logEnviron": False})
        if abandonOnFailure and cmd.didFail():
            raise BuildStepFailed()
        return not cmd.didFail()

    @as_deferred
    async def runMkdir(self, dir: str, log: Any = None, abandonOnFailure: bool = True) -> bool:
        cmd = await self._simple_command("mkdir", {"dir": dir, "logEnviron": False})
        if abandonOnFailure and cmd.didFail():
            raise BuildStepFailed()
        return not cmd.didFail()

    @as_deferred
    async def runRmFile(self, path: str, log: Any = None, abandonOnFailure: bool = True) -> bool:
        cmd = await self._simple_command("rmfile", {"path": path, "logEnviron": False})
        if abandonOnFailure and cmd.didFail():
            raise BuildStepFailed()
        return not cmd.didFail()

    @as_deferred
    async def pathExists(self, path: str, log: Any = None) -> bool:
        cmd = await self._simple_command("stat", {"file": path, "logEnviron": False})
        return not cmd.didFail()

    @as_deferred
    async def runGlob(self, path: str) -> list[str]:
        cmd = await self._simple_command("glob", {"path": path, "logEnviron": False})
        if cmd.didFail():
            raise BuildStepFailed()
        return list(cmd.updates.get("files", [[]])[-1])


__all__ = [
    "BuildStep", "BuildStepCancelled", "BuildStepFactory", "BuildStepFailed", "CommandMixin",
    "ShellMixin", "SUCCESS", "WARNINGS", "FAILURE", "SKIPPED", "EXCEPTION", "RETRY",
    "CANCELLED",
]


class BuildStepStatus:
    """Empty class kept for plugins written for old Buildbot versions that import it."""


BuildStepWrapperMixin = internal_class(
    __name__, "BuildStepWrapperMixin", "steps are built from BuildStepFactory directly")


def get_factory_from_step_or_factory(step_or_factory: Any) -> Any:
    """The factory of a configured step (a step's `get_step_factory()`), or the factory."""
    get = getattr(step_or_factory, "get_step_factory", None)
    return get() if get is not None else step_or_factory


def create_step_from_step_or_factory(step_or_factory: Any) -> Any:
    """A fresh step instance from a configured step or a step factory."""
    return get_factory_from_step_or_factory(step_or_factory).buildStep()
