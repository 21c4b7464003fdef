"""Logs: the `logs` resource type and the updates creating, appending to and finishing
logs (their content is served by `logchunks`)."""

from __future__ import annotations

from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType, RowCache, update_method
from buildbot.data.nesting import NestedLookup
from buildbot.db.errors import LogSlugExistsError
from buildbot.util.identifiers import forceIdentifier, incrementIdentifier, isIdentifier
from buildbot.util.resultspec import ResultSpec

log_entity = types.Entity("log", {
    "logid": types.Integer(),
    "name": types.String(),
    "slug": types.Identifier(50),
    "stepid": types.Integer(),
    "complete": types.Boolean(),
    "num_lines": types.Integer(),
    "type": types.Identifier(1),
})


def log_message(row: Any) -> dict[str, Any]:
    """The `log` body of a db LogModel."""
    return {
        "logid": row.id,
        "name": row.name,
        "slug": row.slug,
        "stepid": row.stepid,
        "complete": bool(row.complete),
        "num_lines": row.num_lines,
        "type": row.type,
    }


def log_slug(name: str) -> str:
    """The slug of a new log called `name`: the name itself when it is an identifier of at
    most 50 characters, else an ASCII identifier made from it."""
    return name if isIdentifier(50, name) else forceIdentifier(50, name)


class LogEndpoint(Endpoint):
    """One log, by id or by step and slug."""

    kind = EndpointKind.SINGLE
    pathPatterns = """
        /logs/n:logid
        /steps/n:stepid/logs/i:log_slug
        /builds/n:buildid/steps/i:step_name/logs/i:log_slug
        /builds/n:buildid/steps/n:step_number/logs/i:log_slug
        /builders/n:builderid/builds/n:build_number/steps/i:step_name/logs/i:log_slug
        /builders/n:builderid/builds/n:build_number/steps/n:step_number/logs/i:log_slug
        /builders/s:buildername/builds/n:build_number/steps/i:step_name/logs/i:log_slug
        /builders/s:buildername/builds/n:build_number/steps/n:step_number/logs/i:log_slug
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        row = await NestedLookup(self.db, kwargs).log()
        return log_message(row) if row is not None else None


class LogsEndpoint(Endpoint):
    """The logs of a step."""

    kind = EndpointKind.COLLECTION
    pathPatterns = """
        /steps/n:stepid/logs
        /builds/n:buildid/steps/i:step_name/logs
        /builds/n:buildid/steps/n:step_number/logs
        /builders/n:builderid/builds/n:build_number/steps/i:step_name/logs
        /builders/n:builderid/builds/n:build_number/steps/n:step_number/logs
        /builders/s:buildername/builds/n:build_number/steps/i:step_name/logs
        /builders/s:buildername/builds/n:build_number/steps/n:step_number/logs
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        if "stepid" in kwargs:
            stepid: int | None = kwargs["stepid"]
        else:
            step = await NestedLookup(self.db, kwargs).step()
            stepid = step.id if step is not None else None
        if stepid is None:
            return []
        return [log_message(r) for r in await self.db.logs.getLogs(stepid=stepid)]


class Log(ResourceType):
    """Logs (`log` / `logs`)."""

    name = "log"
    plural = "logs"
    keyField = "logid"
    endpoints: ClassVar[list[type[Endpoint]]] = [LogEndpoint, LogsEndpoint]
    eventPathPatterns = """
        /logs/:logid
        /steps/:stepid/logs/:slug
    """
    stateEvents = frozenset({"new", "append", "finished"})
    entityType = log_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Bodies of the logs being written by this master: appends are announced without a
        # read-back (appendLog is the most frequent update of all).
        self.live: RowCache[int, dict[str, Any]] = RowCache()
        # Logs stored empty with their step's start, before the step asks for them:
        # {stepid: {(name, type): logid}}. `addLog` announces such a log instead of storing
        # it; the step's end deletes those never asked for.
        self.reserved: dict[int, dict[tuple[str, str], int]] = {}

    def reserve(self, stepid: int, name: str, type: str, logid: int) -> None:
        """The step's log `name` (slug `log_slug(name)`) is stored already, unannounced."""
        self.reserved.setdefault(stepid, {})[(name, type)] = logid

    async def announce_finished(self, logid: int, seq: int) -> None:
        """Announce `finished` for a log whose completion the caller stored (with `seq`)."""
        await self._updated(logid, "finished", seq, complete=True)
        self.live.drop(logid)

    async def _updated(self, logid: int, event: str, seq: int, **changes: Any) -> None:
        body = self.live.get(logid)
        if body is not None:
            body = self.live.put(logid, {**body, **changes})
        else:
            row = await self.db.logs.getLog(logid)
            if row is None:
                return
            body = self.live.put(logid, log_message(row))
        self.produceEvent(body, event, seq)

    @update_method
    async def addLog(self, stepid: int, name: str, type: str) -> int:
        """Store an empty log (`type` s, t or h) whose slug, made from `name`, is unique in
        the step. Announces `new`; returns the log id."""
        slug = log_slug(name)
        reserved = self.reserved.get(stepid)
        if reserved is not None:
            logid = reserved.pop((name, type), None)
            if not reserved:
                del self.reserved[stepid]
            if logid is not None:
                with self.writing() as seq:
                    self._announce_new(logid, name, slug, stepid, type, seq)
                return logid
            # Another log first (an error's traceback): the reserved ones go, so that they
            # cannot take this one's slug nor come before it.
            self.reserved.pop(stepid, None)
            await self.db.logs.delete_unused_logs(stepid, list(reserved.values()))
        with self.writing() as seq:
            while True:
                try:
                    logid = int(await self.db.logs.addLog(stepid=stepid, name=name, slug=slug,
                                                          type=type))
                except LogSlugExistsError:
                    slug = incrementIdentifier(50, slug)
                    continue
                break
            self._announce_new(logid, name, slug, stepid, type, seq)
        return logid

    def _announce_new(self, logid: int, name: str, slug: str, stepid: int, type: str,
                      seq: int) -> None:
        body = self.live.put(logid, {
            "logid": logid, "name": name, "slug": slug, "stepid": stepid,
            "complete": False, "num_lines": 0, "type": type})
        self.produceEvent(body, "new", seq)

    @update_method
    async def appendLog(self, logid: int, content: str) -> tuple[int, int] | None:
        """Append `content` (whole lines, ending in a newline). Announces `append`; returns
        (first line, last line) written, or None if the log does not exist."""
        with self.writing() as seq:
            lines = await self.db.logs.appendLog(logid=logid, content=content)
            if lines is None:
                return None
            await self._updated(logid, "append", seq, num_lines=lines[1] + 1)
        return int(lines[0]), int(lines[1])

    @update_method
    async def finishLog(self, logid: int) -> None:
        """Mark the log complete. Announces `finished`."""
        with self.writing() as seq:
            await self.db.logs.finishLog(logid=logid)
            await self._updated(logid, "finished", seq, complete=True)
            self.live.drop(logid)

    @update_method
    async def deleteOldLogChunks(self, older_than_timestamp: int) -> int:
        """Purge the chunks of logs of steps started before the time (logs become type
        'd'); deletes in bounded batches. Returns the number of chunks deleted."""
        return int(await self.db.logs.deleteOldLogChunks(older_than_timestamp))

    @update_method
    async def compressLog(self, logid: int) -> int:
        """Regroup and recompress the log's stored chunks; returns the bytes saved."""
        return int(await self.db.logs.compressLog(logid=logid))
