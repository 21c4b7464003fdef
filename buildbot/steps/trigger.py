"""Trigger: start builds through Triggerable schedulers, optionally waiting for them."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import IRenderable, ITriggerableScheduler
from buildbot.process.buildstep import BuildStep
from buildbot.process.properties import Properties, Property
from buildbot.process.results import (
    CANCELLED,
    EXCEPTION,
    SUCCESS,
    statusToString,
    worst_status,
)

log = Logger()

ALL_RESULTS = range(7)


def _any_renderable(values: Any) -> bool:
    return any(IRenderable.providedBy(v) for v in values)


def _url_prefix(master: Any) -> str:
    return str(getattr(master.config, "buildbotURL", "http://localhost:8080/"))


_STAMP_ATTRS = ("branch", "revision", "repository", "project", "codebase")
_PATCH_ATTRS = (("patch_body", "body"), ("patch_level", "level"), ("patch_author", "author"),
                ("patch_comment", "comment"), ("patch_subdir", "subdir"))


def sourcestamp_dict(ss: Any) -> dict[str, Any]:
    """A build's source stamp as the keyword arguments of a source stamp lookup (the
    reference's `TempSourceStamp.asDict()` shape: the five attributes plus `patch_*`)."""
    out = {attr: getattr(ss, attr, None) for attr in _STAMP_ATTRS}
    patch = getattr(ss, "patch", None) or {}
    for key, attr in _PATCH_ATTRS:
        out[key] = patch.get(attr) if isinstance(patch, dict) else getattr(patch, attr, None)
    return out


class Trigger(BuildStep):
    """Trigger the schedulers `schedulerNames` (each must be ITriggerableScheduler).

    Source stamps: the build's own (with `got_revision` when `updateSourceStamp`, the default
    unless `alwaysUseLatest` or explicit `sourceStamps`), none (`alwaysUseLatest`: the
    schedulers' defaults), or `sourceStamps`. With `waitForFinish` the step's result is the
    worst of the triggered buildsets' (those of `unimportantSchedulerNames` excepted).
    """

    name = "trigger"
    renderables = ("alwaysUseLatest", "parent_relationship", "schedulerNames",
                   "set_properties", "sourceStamps", "updateSourceStamp", "waitForFinish")
    flunkOnFailure = True

    def __init__(self, schedulerNames: Any = None, sourceStamp: Any = None,
                 sourceStamps: Any = None, updateSourceStamp: Any = None,
                 alwaysUseLatest: Any = False, waitForFinish: Any = False,
                 set_properties: Any = None, copy_properties: Any = None,
                 parent_relationship: Any = "Triggered from",
                 unimportantSchedulerNames: Any = None, **kwargs: Any) -> None:
        schedulerNames = schedulerNames or []
        unimportantSchedulerNames = unimportantSchedulerNames or []
        if not schedulerNames:
            config.error("You must specify a scheduler to trigger")
        if (sourceStamp or sourceStamps) and updateSourceStamp is not None:
            config.error("You can't specify both sourceStamps and updateSourceStamp")
        if (sourceStamp or sourceStamps) and alwaysUseLatest:
            config.error("You can't specify both sourceStamps and alwaysUseLatest")
        if alwaysUseLatest and updateSourceStamp is not None:
            config.error("You can't specify both alwaysUseLatest and updateSourceStamp")
        if not _any_renderable(schedulerNames) and \
                not _any_renderable(unimportantSchedulerNames) and \
                not set(schedulerNames).issuperset(set(unimportantSchedulerNames)):
            config.error("unimportantSchedulerNames must be a subset of schedulerNames")
        self.schedulerNames = schedulerNames
        self.unimportantSchedulerNames = unimportantSchedulerNames
        self.sourceStamps = list(sourceStamps or [])
        if sourceStamp:
            self.sourceStamps.append(sourceStamp)
        self.updateSourceStamp = updateSourceStamp if updateSourceStamp is not None else \
            not (alwaysUseLatest or self.sourceStamps)
        self.alwaysUseLatest = alwaysUseLatest
        self.waitForFinish = waitForFinish
        properties = dict(set_properties or {})
        for name in copy_properties or []:
            properties[name] = Property(name)
        self.set_properties = properties
        self.parent_relationship = parent_relationship
        self.running = False
        self.ended = False
        self.brids: list[int] = []
        self.triggeredNames: list[str] | None = None
        self.waitForFinishDeferred: defer.Deferred[Any] | None = None
        self._result_list: list[int] = []
        super().__init__(**kwargs)

    # -- interruption ------------------------------------------------------------------
    async def _interrupt(self, reason: Any) -> None:
        # As in the reference: cancel the triggered requests (their buildsets then complete
        # CANCELLED, which ends the wait) and report "interrupted"; no "cancelled" log.
        self.stopped = True
        for brid in self.brids:
            try:
                await self.master.data.control(
                    "cancel", {"reason": "parent build was interrupted"},
                    ("buildrequests", brid))
            except Exception:  # noqa: BLE001 (one failed cancel must not stop the others)
                log.failure("{step}: cannot cancel build request {brid}", step=self, brid=brid)
        if self.running and not self.ended:
            self.ended = True
            if self.build.conn is None and self.waitForFinishDeferred is not None:
                self.waitForFinishDeferred.cancel()

    # -- plugin hooks ----------------------------------------------------------------------
    def createTriggerProperties(self, properties: dict[str, Any]) -> Properties:
        props = Properties()
        props.update(properties, "Trigger")
        return props

    def _without_secrets(self, props: Properties) -> Properties:
        # The triggered buildsets' properties are stored: a secret rendered by this build
        # goes there as `<name>`, like everywhere else it would leave the build.
        redactor = self._redactor
        if redactor:
            props.properties = {name: (redactor.redact_value(value), source)
                                for name, (value, source) in props.properties.items()}
        return props

    def getSchedulerByName(self, name: str) -> Any:
        # the scheduler manager's children are the running schedulers, by name
        found = self.master.scheduler_manager.namedServices.get(name)
        problem = None
        if found is None:
            problem = "unknown triggered scheduler"
        elif not ITriggerableScheduler.providedBy(found):
            problem = "triggered scheduler is not ITriggerableScheduler"
        if problem is not None:
            raise ValueError(f"{problem}: {name!r}")
        return found

    def getSchedulersAndProperties(self) -> list[Any]:
        """[{sched_name, props_to_set, unimportant}] (subclasses may return
        (name, props) pairs instead)."""
        return [{"sched_name": sched, "props_to_set": self.set_properties,
                 "unimportant": sched in self.unimportantSchedulerNames}
                for sched in self.schedulerNames]

    def prepareSourcestampListForTrigger(self) -> list[dict[str, Any]]:
        """The source stamps of the triggered buildsets, one per codebase, by codebase:
        the configured `sourceStamps`, none with `alwaysUseLatest`, else the build's own
        (at the revisions it got, with `updateSourceStamp`)."""
        if self.sourceStamps:
            codebases = [ss.get("codebase", "") for ss in self.sourceStamps]
            assert len(set(codebases)) == len(codebases), "codebase specified multiple times"
            return sorted(self.sourceStamps, key=lambda ss: ss.get("codebase", ""))
        if self.alwaysUseLatest:
            return []
        got = self.getAllGotRevisions() if self.updateSourceStamp else {}
        stamps = []
        for ss in sorted(self.build.getAllSourceStamps(), key=lambda ss: ss.codebase):
            stamp = sourcestamp_dict(ss)
            if ss.codebase in got:
                stamp["revision"] = got[ss.codebase]
            stamps.append(stamp)
        return stamps

    def getAllGotRevisions(self) -> dict[str, Any]:
        got = self.getProperty("got_revision", {})
        return got if isinstance(got, dict) else {"": got}

    async def worstStatus(self, overall_results: int, rclist: list[tuple[bool, Any]],
                          unimportant_brids: list[int]) -> int:
        """`overall_results` lowered by each trigger outcome: (True, (results, brids)) for
        a scheduler that ran, (False, failure) for one that raised (EXCEPTION, logged).
        Requests all made by unimportant schedulers do not count."""
        overall = overall_results
        ignored = set(unimportant_brids)
        for succeeded, outcome in rclist:
            if isinstance(outcome, tuple):
                if ignored.issuperset(outcome[1].values()):
                    continue
                outcome = outcome[0]
            if succeeded:
                overall = worst_status(overall, outcome) or overall
                continue
            await self.addLogWithFailure(outcome)
            overall = worst_status(overall, EXCEPTION) or overall
        return overall

    async def addBuildUrls(self, rclist: list[tuple[bool, Any]]) -> None:
        names: dict[int, str] = {}
        for was_cb, results in rclist:
            if not was_cb or not isinstance(results, tuple):
                continue  # failures were logged by worstStatus
            for brid in results[1].values():
                for build in await self.master.data.get(("buildrequests", brid, "builds")):
                    builderid = build["builderid"]
                    if builderid not in names:
                        builder = await self.master.data.get(("builders", builderid))
                        names[builderid] = builder["name"]
                    url = (f"{_url_prefix(self.master)}#/builders/{builderid}/builds/"
                           f"{build['number']}")
                    await self.addURL(f"{statusToString(build['results'])}: "
                                      f"{names[builderid]} #{build['number']}", url)

    async def _add_results(self, brid: int) -> None:
        """When request `brid` completes, count its builds' results into the summary (also
        after the step ended, as the reference does when not waiting).

        A consumer, not a background task: a request that never completes before the master
        stops must not hold the shutdown up.
        """
        master = self.master
        state: dict[str, Any] = {"done": False, "consumer": None}

        async def collect() -> None:
            if state["done"]:
                return
            state["done"] = True
            if state["consumer"] is not None:
                state["consumer"].stopConsuming()
            for build in await master.data.get(("buildrequests", brid, "builds")):
                self._result_list.append(build["results"])
            self.updateSummary()

        def on_complete(key: Any, body: Any) -> Any:
            return collect()

        state["consumer"] = await master.mq.startConsuming(
            on_complete, ("buildrequests", str(brid), "complete"))
        br = await master.data.get(("buildrequests", brid))
        if br and br["complete"]:
            await collect()

    # -- running -----------------------------------------------------------------------------
    async def _trigger_one(self, sch: Any, props: Any,
                           stamps: Any) -> tuple[list[int] | None, defer.Deferred[Any]]:
        """Start a buildset on `sch`: its build request ids (None when the scheduler
        failed, which is logged in the step) and the Deferred of its results."""
        ids_d, results_d = sch.trigger(
            waited_for=self.waitForFinish, sourcestamps=stamps, set_props=props,
            parent_buildid=self.build.buildid, parent_relationship=self.parent_relationship)
        try:
            _, by_builder = await ids_d
        except Exception as e:  # noqa: BLE001 (any scheduler error: EXCEPTION + a step log)
            await self.addLogWithException(e)
            return None, results_d
        brids = list(by_builder.values())
        self.brids.extend(brids)  # before any await: interrupt() cancels what is listed
        for brid in brids:
            await self.addURL(f"{sch.name} #{brid}",
                              f"{_url_prefix(self.master)}#/buildrequests/{brid}")
            await self._add_results(brid)
        return brids, results_d

    async def run(self) -> int:
        entries = self.getSchedulersAndProperties()
        if entries and not isinstance(entries[0], dict):
            entries = [{"sched_name": e[0], "props_to_set": e[1], "unimportant": False}
                       for e in entries]
        targets = [(self.getSchedulerByName(e["sched_name"]),
                    self._without_secrets(self.createTriggerProperties(e["props_to_set"])),
                    e["unimportant"])
                   for e in entries]
        stamps = self.prepareSourcestampListForTrigger()
        started: list[tuple[str, defer.Deferred[Any]]] = []  # (scheduler, its results)
        results = SUCCESS
        self.running = True
        unimportant_brids: list[int] = []
        for sch, props, unimportant in targets:
            brids, results_d = await self._trigger_one(sch, props, stamps)
            if brids is None:
                results = EXCEPTION
            elif unimportant:
                unimportant_brids.extend(brids)
            started.append((sch.name, results_d))
            if self.ended:  # interrupted while triggering: the rest is not started
                return CANCELLED
        self.triggeredNames = [name for name, _ in started]
        waits = [d for _, d in started]
        if not self.waitForFinish:
            for d in waits:
                d.addErrback(lambda f: log.failure(
                    "(ignored) while invoking Triggerable schedulers:", failure=f))
            return results
        self.waitForFinishDeferred = defer.DeferredList(waits, consumeErrors=True)
        rclist: list[tuple[bool, Any]] = []
        try:
            rclist = await self.waitForFinishDeferred
        except defer.CancelledError:
            # interrupt() cancelled the wait; the step ends CANCELLED just below
            log.debug("{step}: wait for triggered builds cancelled", step=self)
        if self.ended:
            return CANCELLED
        await self.addBuildUrls(rclist)
        return await self.worstStatus(results, rclist, unimportant_brids)

    def getResultSummary(self) -> dict[str, str]:
        if self.ended:
            return {"step": "interrupted"}
        return {"step": self.getCurrentSummary()["step"]} if self.triggeredNames else {}

    def getCurrentSummary(self) -> dict[str, str]:
        if not self.triggeredNames:
            return {"step": "running"}
        counts = "".join(
            f", {self._result_list.count(status)} "
            f"{statusToString(status, self._result_list.count(status))}"
            for status in ALL_RESULTS if status in self._result_list)
        return {"step": f"triggered {', '.join(self.triggeredNames)}{counts}"}


__all__ = ["Trigger"]
