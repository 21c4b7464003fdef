"""Rows a step's start stores ahead (its locks' time, a ShellCommand's stdio log) end as
Buildbot 4.3 leaves them when the step never gets there: skipped, or failing first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import EXCEPTION, SKIPPED, SUCCESS
from tests.fixtures.master import running_master, wait_for_message


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_rows_of_run_skipped_and_failing_steps(tmp_path: Path, logged_errors: Any) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(
            name="b0", workernames=["local"],
            factory=util.BuildFactory([
                steps.ShellCommand(command=["echo", "hi"], name="run"),
                steps.ShellCommand(command=["true"], name="skipped", doStepIf=False),
                steps.ShellCommand(command=util.Property("nothing"), name="no-command"),
            ]))],
        "db": {"db_url": "sqlite:///state.sqlite"},
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"builderNames": ["b0"], "owner": "me"},
                                  ("forceschedulers", "force"))
        await done
        builds = await master.data.get(("builds",))
        found = {}
        for s in await master.data.get(("builds", builds[0]["buildid"], "steps")):
            logs = await master.data.get(("steps", s["stepid"], "logs"))
            found[s["name"]] = (s["results"], s["locks_acquired_at"] is not None,
                                [(lg["name"], lg["complete"]) for lg in logs])
    logged_errors.flush(ValueError)
    assert found["run"] == (SUCCESS, True, [("stdio", True)])
    assert found["skipped"] == (SKIPPED, False, [])
    results, locked, logs = found["no-command"]
    assert (results, locked) == (EXCEPTION, True)
    assert "stdio" not in [name for name, _ in logs] and logs and all(c for _, c in logs)
