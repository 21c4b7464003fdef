"""Builds end to end inside one process: a real master, LocalWorker, forced builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import FAILURE, SUCCESS
from tests.fixtures.master import running_master, wait_for_message


def config(*build_steps: Any, builders: int = 1) -> dict[str, Any]:
    names = [f"b{i}" for i in range(builders)]
    return {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=names)],
        "builders": [util.BuilderConfig(name=n, workernames=["local"],
                                        factory=util.BuildFactory(list(build_steps)))
                     for n in names],
    }


async def force_and_wait(master: Any, builder: str = "b0") -> dict[str, Any]:
    done = wait_for_message(master, ("buildsets", None, "complete"))
    bsid, brids = await master.data.control("force", {"builderNames": [builder],
                                                      "owner": "me"},
                                            ("forceschedulers", "force"))
    await done
    return await master.data.get(("buildsets", bsid))


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_forced_build_on_local_worker_succeeds(tmp_path: Path) -> None:
    cfg = config(steps.ShellCommand(command=["echo", "hello"]),
                 steps.ShellCommand(command="echo oops >&2; exit 0", name="second"))
    async with running_master(tmp_path, cfg) as master:
        bs = await force_and_wait(master)
        assert bs["results"] == SUCCESS
        builds = await master.data.get(("builds",))
        assert [(b["results"], b["state_string"]) for b in builds] == [
            (SUCCESS, "build successful")]
        stepl = await master.data.get(("builds", builds[0]["buildid"], "steps"))
        assert [(s["name"], s["results"]) for s in stepl] == [
            ("worker_preparation", SUCCESS), ("shell", SUCCESS), ("second", SUCCESS)]
        logs = await master.data.get(("steps", stepl[1]["stepid"], "logs"))
        chunk = await master.data.get(("logs", logs[0]["logid"], "contents"))
        assert "ohello\n" in chunk["content"]
        assert "hprogram finished with exit code 0\n" in chunk["content"]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_failing_step_fails_build_and_halts(tmp_path: Path) -> None:
    cfg = config(steps.ShellCommand(command="exit 3", haltOnFailure=True),
                 steps.ShellCommand(command=["echo", "never"], name="skipped"))
    async with running_master(tmp_path, cfg) as master:
        bs = await force_and_wait(master)
        assert bs["results"] == FAILURE
        builds = await master.data.get(("builds",))
        stepl = await master.data.get(("builds", builds[0]["buildid"], "steps"))
        assert [s["name"] for s in stepl] == ["worker_preparation", "shell"]
        assert builds[0]["state_string"] == "failed 'exit 3' (failure)"
