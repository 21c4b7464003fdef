"""Try_Jobdir on the real data stack: job files dropped in `new` become buildsets."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest_twisted

from buildbot.schedulers.trysched import Try_Jobdir
from tests.fixtures.stack import Stack
from tests.schedulers.harness import buildsets, start, stop


def netstring(s: str) -> str:
    return f"{len(s.encode())}:{s},"


def job_v6(**over: Any) -> str:
    body = {"jobid": "j1", "branch": "main", "baserev": "abc", "patch_level": 1,
            "patch_body_base64": base64.b64encode(b"--- a\n+++ b\n").decode(),
            "repository": "", "project": "", "who": "alice", "comment": "try it",
            "builderNames": ["b1"], "properties": {}}
    body.update(over)
    return netstring("6") + netstring(json.dumps(body))


@pytest_twisted.ensureDeferred
async def test_job_file_is_passed_open_and_builds(stack: Stack, tmp_path: Path) -> None:
    stack.master.basedir = str(tmp_path)
    seen: list[tuple[str, bytes]] = []

    class Recording(Try_Jobdir):
        async def handleJobFile(self, filename: str, f: Any) -> Any:
            seen.append((filename, f.read()))  # an open file, as in 4.3
            f.seek(0)
            return await super().handleJobFile(filename, f)

    for sub in ("new", "cur", "tmp"):
        (tmp_path / "jobs" / sub).mkdir(parents=True)
    (tmp_path / "jobs" / "new" / "job1").write_text(job_v6())
    sched = await start(stack, Recording(name="try", builderNames=["b1"], jobdir="jobs"))
    try:
        stack.clock.advance(0)
        got = await buildsets(stack, sched)
        assert [(b["reason"], b["revisions"]) for b in got] == [
            ("'try' job by user alice", ["abc"])]
        assert seen == [("job1", job_v6().encode())]
        assert (tmp_path / "jobs" / "cur" / "job1").exists()
    finally:
        await stop(sched)


@pytest_twisted.ensureDeferred
async def test_handle_job_file_takes_bytes_too(stack: Stack, tmp_path: Path,
                                               logged_errors: Any) -> None:
    stack.master.basedir = str(tmp_path)
    sched = await start(stack, Try_Jobdir(name="try", builderNames=["b1"], jobdir="jobs"))
    try:
        await sched.handleJobFile("x", job_v6(who="", jobid="j2").encode())
        assert [b["reason"] for b in await buildsets(stack, sched)] == ["'try' job"]
        assert await sched.handleJobFile("bad", b"garbage") is None
        assert len(logged_errors.flush("bad jobfile in bad")) == 1
    finally:
        await stop(sched)
