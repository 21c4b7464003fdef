"""Steps: the `steps` resource type and the updates the process layer reports a step's life
through."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, RowCache, update_method
from buildbot.data.exceptions import StorageError
from buildbot.data.logs import log_slug
from buildbot.data.nesting import NestedLookup
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

step_entity = types.Entity("step", {
    "stepid": types.Integer(),
    "number": types.Integer(),
    "name": types.Identifier(50),
    "buildid": types.Integer(),
    "started_at": types.NoneOk(types.DateTime()),
    "locks_acquired_at": types.NoneOk(types.DateTime()),
    "complete": types.Boolean(),
    "complete_at": types.NoneOk(types.DateTime()),
    "results": types.NoneOk(types.Integer()),
    "state_string": types.String(),
    "urls": types.List(of=types.Entity("Url", {"name": types.String(),
                                               "url": types.String()})),
    "hidden": types.Boolean(),
})


def step_message(row: Any) -> dict[str, Any]:
    """The `step` body of a db StepModel."""
    return {
        "stepid": row.id,
        "number": row.number,
        "name": row.name,
        "buildid": row.buildid,
        "started_at": row.started_at,
        "locks_acquired_at": row.locks_acquired_at,
        "complete": row.complete_at is not None,
        "complete_at": row.complete_at,
        "state_string": row.state_string,
        "results": row.results,
        "urls": [{"name": u.name, "url": u.url} for u in row.urls],
        "hidden": bool(row.hidden),
    }


class StepEndpoint(Endpoint):
    """One step, by id or by build and name or number."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /steps/n:stepid
        /builds/n:buildid/steps/i:step_name
        /builds/n:buildid/steps/n:step_number
        /builders/n:builderid/builds/n:build_number/steps/i:step_name
        /builders/n:builderid/builds/n:build_number/steps/n:step_number
        /builders/s:buildername/builds/n:build_number/steps/i:step_name
        /builders/s:buildername/builds/n:build_number/steps/n:step_number
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await NestedLookup(self.db, kwargs).step()
        return step_message(row) if row is not None else None


class StepsEndpoint(Endpoint):
    """The steps of a build."""

    kind = EndpointKind.COLLECTION
    pathPatterns = """
        /builds/n:buildid/steps
        /builders/n:builderid/builds/n:build_number/steps
        /builders/s:buildername/builds/n:build_number/steps
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        buildid = await NestedLookup(self.db, kwargs).build_id()
        if buildid is None:
            return None  # only reachable through a builder: 404, as Buildbot 4.3
        return [step_message(r) for r in await self.db.steps.getSteps(buildid=buildid)]


def start_changes(at: int, locks_acquired: bool) -> dict[str, Any]:
    """The fields a step's start sets (its locks' time too when it starts holding them)."""
    changes: dict[str, Any] = {"started_at": to_datetime(at)}
    if locks_acquired:
        changes["locks_acquired_at"] = changes["started_at"]
    return changes


class Step(ResourceType):
    """Steps (`step` / `steps`)."""

    name = "step"
    plural = "steps"
    keyField = "stepid"
    endpoints: ClassVar[list[type[Endpoint]]] = [StepEndpoint, StepsEndpoint]
    eventPathPatterns = """
        /builds/:buildid/steps/:stepid
        /steps/:stepid
    """
    stateEvents = frozenset({"new", "started", "updated", "finished"})
    entityType = step_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Bodies of the steps this master runs, announced as updated without a read-back.
        self.live: RowCache[int, dict[str, Any]] = RowCache()
        # {stepid: epoch}: locks' times stored with the step's start, not announced yet.
        self.locks_ahead: dict[int, int] = {}
        # {buildid: (name, stepid, started_at)}: a build's first step stored with the build.
        self.steps_ahead: dict[int, tuple[str, int, int]] = {}

    async def _updated(self, stepid: int, event: str, seq: int, **changes: Any) -> None:
        """Announce the step with `changes` applied (read back only if not cached)."""
        body = self.live.get(stepid)
        if body is not None:
            body = self.live.put(stepid, {**body, **changes})
        else:
            row = await self.db.steps.getStep(stepid=stepid)
            if row is None:
                return
            body = self.live.put(stepid, step_message(row))
        self.produceEvent(body, event, seq)

    @update_method
    async def addStep(self, buildid: int, name: str) -> tuple[int, int, str]:
        """Store a pending step; its name is made unique in the build. Announces `new`;
        returns (stepid, number, name)."""
        with self.writing() as seq:
            stepid, number, name = await self.db.steps.addStep(
                buildid=buildid, name=name, state_string="pending")
            self._announce_new(buildid, stepid, number, name, seq)
        return stepid, number, name

    def _announce_new(self, buildid: int, stepid: int, number: int, name: str,
                      seq: int) -> None:
        body = self.live.put(stepid, {
            "stepid": stepid, "number": number, "name": name, "buildid": buildid,
            "started_at": None, "locks_acquired_at": None, "complete": False,
            "complete_at": None, "state_string": "pending", "results": None,
            "urls": [], "hidden": False})
        self.produceEvent(body, "new", seq)

    @update_method
    async def add_started_step(self, buildid: int, name: str,
                               started_at: int | datetime.datetime | None = None,
                               locks_acquired: bool = False) -> tuple[int, int, str]:
        """`addStep` then `startStep` stored in one transaction, announced as both are
        (`new`, then `started`); for a step that starts as soon as it exists. Returns
        (stepid, number, name)."""
        return await self.add_started_step_ahead(buildid, name, started_at, locks_acquired)

    @update_method
    async def add_started_step_ahead(
            self, buildid: int, name: str, started_at: int | datetime.datetime | None = None,
            locks_acquired: bool = False, locks_ahead: bool = False,
            first_log: tuple[str, str] | None = None) -> tuple[int, int, str]:
        """`add_started_step`, storing in the same transaction what the step is expected to
        store next, announced only when the step gets there: with `locks_ahead`, its locks'
        time (= its start; `set_step_locks_acquired_at` with that time then only announces
        it), with `first_log` (name, type) its first log, empty (`addLog` of that log then
        only announces it). What the step never gets to is undone by its end
        (`finishStep`, same transaction)."""
        stored = self.steps_ahead.pop(buildid, None)
        if stored is not None and stored[0] == name and locks_acquired and not first_log:
            _, stepid, at = stored  # stored with the build: announced only
            with self.writing() as seq:
                self._announce_new(buildid, stepid, 0, name, seq)
                await self._updated(stepid, "started", seq, **start_changes(at, True))
            return stepid, 0, name
        at = to_epoch(started_at) if started_at is not None else self.now()
        log = None if first_log is None else (first_log[0], log_slug(first_log[0]),
                                               first_log[1])
        ahead = locks_ahead and not locks_acquired
        with self.writing() as seq:
            stepid, number, name, logid = await self.db.steps.add_started_step_with_log(
                buildid=buildid, name=name, state_string="pending", started_at=at,
                locks_acquired_at=at if (locks_acquired or ahead) else None, log=log)
            if ahead:
                self.locks_ahead[stepid] = at
            if logid is not None and first_log is not None:
                self.connector.rtypes.log.reserve(stepid, first_log[0], first_log[1], logid)
            self._announce_new(buildid, stepid, number, name, seq)
            await self._updated(stepid, "started", seq, **start_changes(at, locks_acquired))
        return stepid, number, name

    @update_method
    async def startStep(self, stepid: int,
                        started_at: int | datetime.datetime | None = None,
                        locks_acquired: bool = False) -> None:
        """The step starts (now unless `started_at`, epoch seconds); with `locks_acquired`
        its locks are taken at the same time. Announces `started`."""
        at = to_epoch(started_at) if started_at is not None else self.now()
        with self.writing() as seq:
            await self.db.steps.startStep(stepid=stepid, started_at=at,
                                          locks_acquired=locks_acquired)
            await self._updated(stepid, "started", seq, **start_changes(at, locks_acquired))

    @update_method
    async def set_step_locks_acquired_at(
            self, stepid: int, locks_acquired_at: int | datetime.datetime | None = None) -> None:
        """The step's locks were acquired (now unless given, epoch seconds); announce
        `updated`."""
        at = to_epoch(locks_acquired_at) if locks_acquired_at is not None else self.now()
        with self.writing() as seq:
            if self.locks_ahead.pop(stepid, None) != at:  # else stored with the start
                await self.db.steps.set_step_locks_acquired_at(stepid=stepid,
                                                               locks_acquired_at=at)
            await self._updated(stepid, "updated", seq, locks_acquired_at=to_datetime(at))

    @update_method
    async def setStepStateString(self, stepid: int, state_string: str) -> None:
        """Set the step's state text; announce `updated`."""
        with self.writing() as seq:
            await self.db.steps.setStepStateString(stepid=stepid, state_string=state_string)
            await self._updated(stepid, "updated", seq, state_string=state_string)

    @update_method
    async def addStepURL(self, stepid: int, name: str, url: str) -> None:
        """Add a link to the step (an exact duplicate is ignored). Announces `updated`."""
        with self.writing() as seq:
            await self.db.steps.addURL(stepid=stepid, name=name, url=url)
            body = self.live.get(stepid)
            if body is None:
                await self._updated(stepid, "updated", seq)
                return
            link = {"name": name, "url": url}
            urls = body["urls"] if link in body["urls"] else [*body["urls"], link]
            await self._updated(stepid, "updated", seq, urls=urls)

    @update_method
    async def finishStep(self, stepid: int, results: int, hidden: bool,
                         state_string: str | None = None) -> None:
        """The step completes now with `results`. Announces `finished` (preceded by
        `updated` when the extension argument `state_string`, the final summary, is given:
        both are stored in one transaction)."""
        await self.finish_step_and_logs(stepid, results, hidden, state_string)

    @update_method
    async def finish_step_and_logs(self, stepid: int, results: int, hidden: bool,
                                   state_string: str | None = None,
                                   logids: Sequence[int] = (),
                                   build_state_ahead: tuple[int, str] | None = None,
                                   build_properties: tuple[int, Any] | None = None) -> bool:
        """`finishLog` of each of `logids` (the step's logs, whose content is stored) then
        `finishStep`, in one transaction, announced in that order. Also deletes the logs
        stored ahead that the step never asked for, and a locks' time stored ahead that
        it never announced. With `build_state_ahead` (buildid, text), stores the build's
        next state string too (see `set_build_properties_and_state`). With
        `build_properties` (buildid, IProperties), `setBuildProperties` goes in the same
        transaction, announced after the step's end (if the database refuses them for
        themselves, the step's end is stored without them: the build's own store of its
        properties then meets and reports the error). True if the properties are stored."""
        logs = self.connector.rtypes.log
        plain = []
        for logid in logids:
            if self.db.logs.take_plain_finish(logid):
                plain.append(logid)
            else:  # logMaxSize has lines to add first
                await logs.finishLog(logid)
        unused = list(logs.reserved.get(stepid, {}).values())
        clear_locks = stepid in self.locks_ahead
        props = self.connector.rtypes.property
        props_done: tuple[int, dict[str, Any], dict[str, Any]] | None = None
        also = None
        if build_properties is not None:
            try:
                bid = build_properties[0]
                stored, changed = await props.changed_properties(bid, build_properties[1])
                if changed:
                    also = self.db.builds.properties_writer(bid, changed)
                props_done = (bid, stored, changed)
            except Exception:
                props_done = None  # left to the build's own store, which reports it
        now = self.now()
        with self.writing() as seq:
            if plain or unused or clear_locks or build_state_ahead or also:
                kwargs: dict[str, Any] = dict(
                    stepid=stepid, results=results, hidden=hidden, complete_at=now,
                    state_string=state_string, finish_logids=plain, drop_logids=unused,
                    clear_locks_acquired_at=clear_locks, build_state=build_state_ahead)
                try:
                    await self.db.steps.finish_step_and_logs(also=also, **kwargs)
                except StorageError:
                    raise
                except Exception:
                    if also is None:
                        raise
                    # The properties were refused (not the step's end): store the end alone;
                    # the build's own store of its properties meets and logs the error.
                    props_done = None
                    await self.db.steps.finish_step_and_logs(**kwargs)
                if build_state_ahead is not None:
                    self.connector.rtypes.build.state_ahead[build_state_ahead[0]] = \
                        build_state_ahead[1]
            else:
                await self.db.steps.finishStep(stepid=stepid, results=results, hidden=hidden,
                                               complete_at=now, state_string=state_string)
            # Stored: forget what was held for a retry of this call.
            logs.reserved.pop(stepid, None)
            self.locks_ahead.pop(stepid, None)
            for logid in plain:
                await logs.announce_finished(logid, seq)
            body = self.live.get(stepid)
            self.live.drop(stepid)
            if body is None:
                row = await self.db.steps.getStep(stepid=stepid)
                if row is not None:
                    self.produceEvent(step_message(row), "finished", seq)
            else:
                if state_string is not None:
                    body = {**body, "state_string": state_string}
                    self.produceEvent(body, "updated", seq)
                self.produceEvent({**body, "complete": True,
                                   "complete_at": to_datetime(now), "results": results,
                                   "hidden": bool(hidden)}, "finished", seq)
            if props_done is not None:
                props.stored(*props_done, seq)
        return props_done is not None
