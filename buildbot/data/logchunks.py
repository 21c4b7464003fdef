"""Log contents: lines of a log by number (`.../contents`) and whole logs for download
(`.../raw`) or display (`.../raw_inline`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from buildbot.data import types
from buildbot.data.base import Endpoint, EndpointKind, ResourceType
from buildbot.data.nesting import NestedLookup
from buildbot.util.resultspec import ResultSpec

# Raw logs of up to this many lines are returned as one string; longer ones as an async
# iterator reading this many lines per database query.
RAW_BATCH_LINES = 10000

logchunk_entity = types.Entity("logchunk", {
    "logid": types.Integer(),
    "firstline": types.Integer(),
    "content": types.String(),
})

_LOG_SELECTORS = [
    "/logs/n:logid",
    "/steps/n:stepid/logs/i:log_slug",
    "/builds/n:buildid/steps/i:step_name/logs/i:log_slug",
    "/builds/n:buildid/steps/n:step_number/logs/i:log_slug",
    "/builders/n:builderid/builds/n:build_number/steps/i:step_name/logs/i:log_slug",
    "/builders/n:builderid/builds/n:build_number/steps/n:step_number/logs/i:log_slug",
]


def _patterns(suffix: str) -> str:
    return " ".join(p + suffix for p in _LOG_SELECTORS)


class LogChunkEndpoint(Endpoint):
    """Lines `offset` .. `offset + limit - 1` of a log (default: all of them)."""

    kind = EndpointKind.SINGLE
    isPseudoCollection = True
    rootLinkName = "logchunks"
    pathPatterns = "/logchunks " + _patterns("/contents")

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        lookup = NestedLookup(self.db, kwargs)
        if "logid" in kwargs:
            logid: int | None = kwargs["logid"]
        else:
            found = await lookup.log()
            logid = found.id if found is not None else None
        if logid is None:
            return None
        firstline = int(result_spec.offset or 0)
        lastline = None if result_spec.limit is None else firstline + int(result_spec.limit) - 1
        result_spec.removePagination()
        if lastline is None:
            row = await lookup.log()
            if row is None:
                return None
            lastline = max(0, row.num_lines - 1)
        if firstline < 0 or lastline < 0 or firstline > lastline:
            return None
        content = await self.db.logs.getLogLines(logid, firstline, lastline)
        return {"logid": logid, "firstline": firstline, "content": content}


class _RawLogEndpoint(Endpoint):
    """A whole log: `{raw, mime-type[, filename]}`; `raw` is a str, or for long logs an
    async iterator of str pieces read in bounded batches."""

    with_filename: ClassVar[bool] = True

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        lookup = NestedLookup(self.db, kwargs)
        log = await lookup.log()
        if log is None:
            return None
        step = await lookup.step()
        build = await lookup.build()
        builder = await lookup.builder()
        worker = await lookup.worker()

        # A stdio download starts with where it comes from (4.3's header lines).
        prefix = "" if log.type != "s" else _header([
            ("Builder", builder and builder.name), ("Build number", build and build.number),
            ("Worker name", worker and worker.name)])

        if log.num_lines <= RAW_BATCH_LINES:
            text = await self.db.logs.getLogLines(log.id, 0, max(0, log.num_lines - 1)) \
                if log.num_lines else ""
            raw: Any = prefix + (_strip_stream_tags(text) if log.type == "s" else text)
        else:
            raw = self._iterate(prefix, log.id, log.num_lines, log.type == "s")

        result = {"raw": raw, "mime-type": "text/html" if log.type == "h" else "text/plain"}
        if self.with_filename:
            # e.g. "linux_build_12_step_compile_log_stdio"; the parts of objects that no
            # longer exist are left out.
            named = [(None, builder and builder.name), ("build", build and build.number),
                     ("step", step and step.name), ("log", log.slug)]
            result["filename"] = "_".join(
                str(part) for pair in named if pair[1] is not None for part in pair
                if part is not None)
        return result

    async def _iterate(self, prefix: str, logid: int, num_lines: int,
                       stdio: bool) -> AsyncIterator[str]:
        if prefix:
            yield prefix
        for first in range(0, num_lines, RAW_BATCH_LINES):
            last = min(num_lines, first + RAW_BATCH_LINES) - 1
            text = await self.db.logs.getLogLines(logid, first, last)
            yield _strip_stream_tags(text) if stdio else text


def _header(facts: list[tuple[str, Any]]) -> str:
    """`label: value` lines for the facts that are known (not None)."""
    return "".join(f"{label}: {value}\n" for label, value in facts if value is not None)


def _strip_stream_tags(text: str) -> str:
    """Remove the stream character (o, e, h) starting each line of a stdio log."""
    if not text:
        return text
    lines = text.split("\n")
    tail = lines.pop()  # "" when the text ends with a newline, as stored lines do
    stripped = "\n".join(line[1:] for line in lines) + "\n"
    return stripped + tail[1:] if tail else stripped


class RawLogChunkEndpoint(_RawLogEndpoint):
    """A whole log as a download."""

    kind = EndpointKind.RAW
    pathPatterns = _patterns("/raw")


class RawInlineLogChunkEndpoint(_RawLogEndpoint):
    """A whole log for display in the browser."""

    kind = EndpointKind.RAW_INLINE
    pathPatterns = _patterns("/raw_inline")
    with_filename = False


class LogChunk(ResourceType):
    """Log contents (`logchunk` / `logchunks`)."""

    name = "logchunk"
    plural = "logchunks"
    endpoints: ClassVar[list[type[Endpoint]]] = [
        LogChunkEndpoint, RawLogChunkEndpoint, RawInlineLogChunkEndpoint]
    entityType = logchunk_entity
