"""logs and log contents: creation with slugs, append/finish messages, getters, line
ranges of `contents`, raw and raw_inline downloads."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from buildbot.data import logchunks
from buildbot.data.logs import log_entity
from tests.fixtures.stack import Stack


def log_body(logid: int, stepid: int, name: str = "stdio", slug: str = "stdio",
             **kw: Any) -> dict[str, Any]:
    body = {"logid": logid, "name": name, "slug": slug, "stepid": stepid, "complete": False,
            "num_lines": 0, "type": "s"}
    body.update(kw)
    return body


@pytest_twisted.ensureDeferred
async def test_log_lifecycle_messages(stack: Stack) -> None:
    step = await stack.make_step()
    seen = stack.mq_record(("logs", None, None), ("steps", None, "logs", None, None))

    logid = await stack.updates.addLog(step.id, "stdio", "s")
    assert await stack.updates.appendLog(logid, "hsleep 1\noout\n") == (0, 1)
    assert await stack.updates.appendLog(logid, "eerr\n") == (2, 2)
    await stack.updates.finishLog(logid)
    assert isinstance(await stack.updates.compressLog(logid), int)

    keys = [k for k, _ in seen]
    assert keys == [key for e in ("new", "append", "append", "finished")
                    for key in (("logs", str(logid), e),
                                ("steps", str(step.id), "logs", "stdio", e))]
    bodies = [b for _, b in seen][::2]
    assert bodies == [log_body(logid, step.id), log_body(logid, step.id, num_lines=2),
                      log_body(logid, step.id, num_lines=3),
                      log_body(logid, step.id, num_lines=3, complete=True)]
    assert bodies[-1] == await stack.data.get(("logs", logid))
    assert log_entity.invalid_fields(bodies[-1]) == []


@pytest_twisted.ensureDeferred
async def test_append_to_unknown_log(stack: Stack) -> None:
    seen = stack.mq_record(("logs", None, None))
    assert await stack.updates.appendLog(999, "x\n") is None
    assert seen == []


@pytest_twisted.ensureDeferred
async def test_slugs(stack: Stack) -> None:
    step = await stack.make_step()
    slugs = []
    for name in ["stdio", "stdio", "test results", "3rd", "ünïcode", "x" * 60]:
        logid = await stack.updates.addLog(step.id, name, "t")
        slugs.append((await stack.data.get(("logs", logid)))["slug"])
    assert slugs == ["stdio", "stdio_2", "test_results", "_rd", "ünïcode", "x" * 50]


@pytest_twisted.ensureDeferred
async def test_log_getters(stack: Stack) -> None:
    bid = await stack.make_builder("linux")
    build = await stack.make_build(builderid=bid)
    step = await stack.make_step(build.id, "compile")
    out = await stack.make_log(step.id, "stdio")
    warn = await stack.make_log(step.id, "warnings", "t")
    expected = log_body(out.id, step.id)

    for prefix in [("steps", step.id), ("builds", build.id, "steps", "compile"),
                   ("builds", build.id, "steps", 0), ("builders", bid, "builds", 1, "steps", 0),
                   ("builders", "linux", "builds", 1, "steps", "compile")]:
        assert await stack.data.get((*prefix, "logs", "stdio")) == expected, prefix
        assert [lg["logid"] for lg in await stack.data.get((*prefix, "logs"))] == \
            [out.id, warn.id], prefix
    assert await stack.data.get(("logs", out.id)) == expected
    assert await stack.data.get(("steps", 999, "logs")) == []
    assert await stack.data.get(("steps", step.id, "logs", "nope")) is None


async def _stdio(stack: Stack, lines: int = 3) -> Any:
    bid = await stack.make_builder("linux")
    worker = await stack.make_worker("w1")
    build = await stack.make_build(builderid=bid, workerid=worker)
    step = await stack.make_step(build.id, "compile")
    log = await stack.make_log(step.id, "stdio")
    text = "hcmd\n" + "".join(f"oline {i}\n" for i in range(lines - 1))
    await stack.updates.appendLog(log.id, text)
    return log


@pytest_twisted.ensureDeferred
async def test_contents_line_ranges(stack: Stack) -> None:
    log = await _stdio(stack, lines=4)
    path = ("logs", log.id, "contents")

    async def get(**kw: Any) -> Any:
        return await stack.data.get(path, **kw)

    assert await get() == {"logid": log.id, "firstline": 0,
                           "content": "hcmd\noline 0\noline 1\noline 2\n"}
    assert await get(offset=1, limit=2) == {"logid": log.id, "firstline": 1,
                                            "content": "oline 0\noline 1\n"}
    assert await get(offset=3) == {"logid": log.id, "firstline": 3, "content": "oline 2\n"}
    assert await get(offset=4) is None
    assert await get(offset=-1) is None
    assert await get(limit=0) is None
    assert await stack.data.get(("logchunks",)) is None
    assert await stack.data.get(("steps", log.stepid, "logs", "stdio", "contents"),
                                offset=3) == await get(offset=3)


@pytest_twisted.ensureDeferred
async def test_empty_log_contents(stack: Stack) -> None:
    log = await stack.make_log()
    assert await stack.data.get(("logs", log.id, "contents")) == \
        {"logid": log.id, "firstline": 0, "content": ""}


@pytest_twisted.ensureDeferred
async def test_raw_and_raw_inline(stack: Stack) -> None:
    log = await _stdio(stack)
    raw = await stack.data.get(("logs", log.id, "raw"))
    inline = await stack.data.get(("logs", log.id, "raw_inline"))

    text = "Builder: linux\nBuild number: 1\nWorker name: w1\ncmd\nline 0\nline 1\n"
    assert raw == {"raw": text, "mime-type": "text/plain",
                   "filename": "linux_build_1_step_compile_log_stdio"}
    assert inline == {"raw": text, "mime-type": "text/plain"}
    assert await stack.data.get(("logs", 999, "raw")) is None


@pytest_twisted.ensureDeferred
async def test_raw_html_log_has_no_prefix(stack: Stack) -> None:
    step = await stack.make_step()
    logid = await stack.updates.addLog(step.id, "report", "h")
    await stack.updates.appendLog(logid, "<p>hi</p>\n")
    raw = await stack.data.get(("logs", logid, "raw_inline"))
    assert raw == {"raw": "<p>hi</p>\n", "mime-type": "text/html"}


@pytest_twisted.ensureDeferred
async def test_long_raw_log_is_streamed_in_batches(stack: Stack,
                                                   monkeypatch: Any) -> None:
    monkeypatch.setattr(logchunks, "RAW_BATCH_LINES", 2)
    log = await _stdio(stack, lines=5)

    raw = await stack.data.get(("logs", log.id, "raw"))

    pieces = [p async for p in raw["raw"]]
    assert pieces == ["Builder: linux\nBuild number: 1\nWorker name: w1\n",
                      "cmd\nline 0\n", "line 1\nline 2\n", "line 3\n"]
