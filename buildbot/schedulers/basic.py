"""SingleBranchScheduler and AnyBranchScheduler: build on changes, optionally once the tree
has been stable for `treeStableTimer` seconds."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.changes.changes import Change
from buildbot.changes.filter import ChangeFilter
from buildbot.schedulers.base import AbsoluteSourceStampsMixin, ReconfigurableBaseScheduler
from buildbot.util.resultspec import Filter
from buildbot.util.ssfilter import NotABranch
from buildbot.warnings import warn_deprecated

log = Logger()

DEFAULT_REASON = "The %(classname)s scheduler named '%(name)s' triggered this build"


class _NotSet:
    """Marker: no positional argument after the name."""


NotSet: Any = _NotSet


class BaseBasicScheduler(ReconfigurableBaseScheduler):
    """Common part: filtering, classification and tree-stable timers (one per timer name)."""

    fileIsImportant: Any = None
    reason = ""
    treeStableTimer: Any = None
    onlyImportant = False
    change_filter: Any = None
    NotSet = _NotSet

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self._stable_timers: dict[Any, Any] = {}
        self._stable_timers_lock = defer.DeferredLock()
        super().__init__(*args, name=name, **kwargs)

    def checkConfig(self, shouldntBeSet: Any = NotSet, treeStableTimer: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    builderNames: Any = None, branch: Any = NotABranch,
                    branches: Any = NotABranch, fileIsImportant: Any = None,
                    categories: Any = None, reason: str = DEFAULT_REASON,
                    change_filter: Any = None, onlyImportant: bool = False,
                    **kwargs: Any) -> None:
        if shouldntBeSet is not NotSet:
            config.error("pass arguments to schedulers using keyword arguments")
        if fileIsImportant and not callable(fileIsImportant):
            config.error("fileIsImportant must be a callable")
        super().checkConfig(builderNames=builderNames, **kwargs)
        # The reference only finds these at start-up; we report them with the config.
        self.check_branch_args(branch, branches, change_filter, categories)

    def check_branch_args(self, branch: Any, branches: Any, change_filter: Any,
                          categories: Any) -> None:
        """Config errors for the branch arguments (subclasses)."""

    def reconfigService(self, shouldntBeSet: Any = NotSet,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                        treeStableTimer: Any = None, builderNames: Any = None,
                        branch: Any = NotABranch, branches: Any = NotABranch,
                        fileIsImportant: Any = None, categories: Any = None,
                        reason: str = DEFAULT_REASON, change_filter: Any = None,
                        onlyImportant: bool = False, **kwargs: Any) -> Any:
        return defer.ensureDeferred(self._reconfigure(
            treeStableTimer, builderNames, branch, branches, fileIsImportant, categories,
            reason, change_filter, onlyImportant, kwargs))

    async def _reconfigure(self, treeStableTimer: Any, builderNames: Any, branch: Any,
                           branches: Any, fileIsImportant: Any, categories: Any, reason: str,
                           change_filter: Any, onlyImportant: bool,
                           kwargs: dict[str, Any]) -> None:
        ReconfigurableBaseScheduler.reconfigService(self, builderNames=builderNames, **kwargs)
        self.treeStableTimer = treeStableTimer
        self.fileIsImportant = fileIsImportant
        self.onlyImportant = onlyImportant
        self.change_filter = self.getChangeFilter(branch=branch, branches=branches,
                                                  change_filter=change_filter,
                                                  categories=categories)
        self.reason = reason % {"name": self.name, "classname": type(self).__name__}
        if self.active and self.enabled:
            await self._stopConsumingChanges()
            await self.startConsumingChanges(fileIsImportant=self.fileIsImportant,
                                             change_filter=self.change_filter,
                                             onlyImportant=self.onlyImportant)

    def getChangeFilter(self, branch: Any, branches: Any, change_filter: Any,
                        categories: Any) -> Any:
        raise NotImplementedError

    async def activate(self) -> None:
        await super().activate()
        if not self.enabled:
            return
        await self.startConsumingChanges(fileIsImportant=self.fileIsImportant,
                                         change_filter=self.change_filter,
                                         onlyImportant=self.onlyImportant)
        if self.treeStableTimer:
            await self.scanExistingClassifiedChanges()
        else:
            await self.master.data.updates.flushChangeClassifications(self.serviceid)

    async def deactivate(self) -> None:
        await super().deactivate()
        if not self.enabled:
            return

        def cancel_timers() -> None:
            for timer in self._stable_timers.values():
                if timer is not None and timer.active():
                    timer.cancel()
            self._stable_timers.clear()

        await self._stable_timers_lock.run(cancel_timers)

    def gotChange(self, change: Change, important: Any) -> defer.Deferred[Any]:
        return self._stable_timers_lock.run(
            lambda: defer.ensureDeferred(self._got_change_locked(change, important)))

    async def _got_change_locked(self, change: Change, important: Any) -> None:
        assert change.number is not None and self.serviceid is not None
        if not self.treeStableTimer:
            if important:
                await self.addBuildsetForChanges(reason=self.reason, changeids=[change.number],
                                                 priority=self.priority)
            return
        self._restart_timer(self.getTimerNameForChange(change), important)
        await self.master.data.updates.classifyChanges(self.serviceid,
                                                       {change.number: important})

    def _restart_timer(self, timer_name: Any, important: Any) -> None:
        """(Re)start the timer of `timer_name` if the change is important or the timer is
        already running (an unimportant change only delays a pending build)."""
        current = self._stable_timers.get(timer_name)
        if not important and current is None:
            return
        if current is not None and current.active():
            current.cancel()

        def fire() -> None:
            self.tasks.spawn("tree-stable timer", self.stableTimerFired(timer_name))

        self._stable_timers[timer_name] = self.master.reactor.callLater(
            self.treeStableTimer, fire)

    async def scanExistingClassifiedChanges(self) -> None:
        """Restart the timers of changes classified before a restart (two queries)."""
        classifications = await self.master.data.updates.getChangeClassifications(
            self.serviceid)
        if not classifications:
            return
        bodies = await self.master.data.get(
            ("changes",), filters=[Filter("changeid", "in", list(classifications))])

        def restart() -> None:
            for body in sorted(bodies, key=lambda b: b["changeid"]):
                change = Change.fromMessage(body)
                self._restart_timer(self.getTimerNameForChange(change),
                                    classifications[change.number])

        await self._stable_timers_lock.run(restart)

    def getTimerNameForChange(self, change: Change) -> Any:
        raise NotImplementedError

    async def getChangeClassificationsForTimer(self, sched_id: int, timer_name: Any
                                               ) -> dict[int, bool]:
        raise NotImplementedError

    def stableTimerFired(self, timer_name: Any) -> defer.Deferred[Any]:
        return self._stable_timers_lock.run(
            lambda: defer.ensureDeferred(self._stable_timer_fired_locked(timer_name)))

    async def _stable_timer_fired_locked(self, timer_name: Any) -> None:
        if self._stable_timers.pop(timer_name, None) is None:
            return  # cancelled meanwhile
        assert self.serviceid is not None
        classifications = await self.getChangeClassificationsForTimer(self.serviceid,
                                                                      timer_name)
        if not classifications:
            return
        changeids = sorted(classifications)
        await self.addBuildsetForChanges(reason=self.reason, changeids=changeids,
                                         priority=self.priority)
        # Quirk kept from the reference: every classification up to the newest built change
        # is dropped, whatever its branch.
        await self.master.data.updates.flushChangeClassifications(
            self.serviceid, less_than=changeids[-1] + 1)


class SingleBranchScheduler(AbsoluteSourceStampsMixin, BaseBasicScheduler):
    """Builds the changes of one branch (or those passing `change_filter`); one timer."""

    createAbsoluteSourceStamps: Any = None

    def checkConfig(self, *args: Any, createAbsoluteSourceStamps: bool = False,
                    **kwargs: Any) -> None:
        super().checkConfig(*args, **kwargs)

    def check_branch_args(self, branch: Any, branches: Any, change_filter: Any,
                          categories: Any) -> None:
        if branch is NotABranch and not change_filter:
            config.error("the 'branch' argument to SingleBranchScheduler is mandatory unless "
                         "change_filter is provided")
        elif branches is not NotABranch:
            config.error("the 'branches' argument is not allowed for SingleBranchScheduler")
        elif change_filter and (branch is not NotABranch or categories is not None):
            config.error("cannot specify both change_filter and branch or categories")

    def reconfigService(self, *args: Any, createAbsoluteSourceStamps: bool = False,
                        **kwargs: Any) -> Any:
        self.createAbsoluteSourceStamps = createAbsoluteSourceStamps
        return super().reconfigService(*args, **kwargs)

    async def _got_change_locked(self, change: Change, important: Any) -> None:
        if self.createAbsoluteSourceStamps:
            await self.recordChange(change)
        await super()._got_change_locked(change, important)

    def getCodebaseDict(self, codebase: str) -> Any:
        if self.createAbsoluteSourceStamps:
            return AbsoluteSourceStampsMixin.getCodebaseDict(self, codebase)
        return self.codebases[codebase]

    def getChangeFilter(self, branch: Any, branches: Any, change_filter: Any,
                        categories: Any) -> Any:
        return ChangeFilter.fromSchedulerConstructorArgs(
            change_filter=change_filter, branch=branch, categories=categories)

    def getTimerNameForChange(self, change: Change) -> Any:
        return "only"

    async def getChangeClassificationsForTimer(self, sched_id: int, timer_name: Any
                                               ) -> dict[int, bool]:
        result: dict[int, bool] = await self.master.data.updates.getChangeClassifications(
            sched_id)
        return result


class Scheduler(SingleBranchScheduler):
    """Deprecated alias of SingleBranchScheduler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warn_deprecated("4.3.0", "the name 'Scheduler' is deprecated; use "
                        "buildbot.schedulers.basic.SingleBranchScheduler instead")
        super().__init__(*args, **kwargs)


class AnyBranchScheduler(BaseBasicScheduler):
    """Builds changes on any branch (or those in `branches`); one timer per
    (codebase, project, repository, branch)."""

    def check_branch_args(self, branch: Any, branches: Any, change_filter: Any,
                          categories: Any) -> None:
        if branch is not NotABranch:  # (the reference fails an assertion at start-up)
            config.error("the 'branch' argument is not allowed for AnyBranchScheduler; use "
                         "'branches'")
        elif change_filter and (branches is not NotABranch or categories is not None):
            config.error("cannot specify both change_filter and branch or categories")

    def getChangeFilter(self, branch: Any, branches: Any, change_filter: Any,
                        categories: Any) -> Any:
        return ChangeFilter.fromSchedulerConstructorArgs(
            change_filter=change_filter, branch=branches, categories=categories)

    def getTimerNameForChange(self, change: Change) -> Any:
        return (change.codebase, change.project, change.repository, change.branch)

    async def getChangeClassificationsForTimer(self, sched_id: int, timer_name: Any
                                               ) -> dict[int, bool]:
        codebase, project, repository, branch = timer_name
        result: dict[int, bool] = await self.master.data.updates.getChangeClassifications(
            sched_id, branch=branch, repository=repository, codebase=codebase,
            project=project)
        return result


def __getattr__(name: str) -> Any:
    # `buildbot.schedulers.basic.Dependent` still works (deprecated in the reference).
    if name == "Dependent":
        warn_deprecated("4.3.0", "Use buildbot.schedulers.dependent.Dependent")
        from buildbot.schedulers.dependent import Dependent
        return Dependent
    raise AttributeError(name)
