"""`util.enforceChosenWorker` as a builder's canStartBuild on a real master: a forced build
that chose a worker (WorkerChoiceParameter) runs on that worker, whichever is free first."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from tests.fixtures.master import running_master, wait_for_message


@pytest.mark.integration
@pytest.mark.parametrize("chosen", ["w1", "w2"])
@pytest_twisted.ensureDeferred
async def test_forced_build_runs_on_the_chosen_worker(tmp_path: Path, chosen: str) -> None:
    cfg = {
        "workers": [worker.LocalWorker("w1"), worker.LocalWorker("w2")],
        "schedulers": [schedulers.ForceScheduler(
            name="force", builderNames=["b"],
            properties=[util.WorkerChoiceParameter()])],
        "builders": [util.BuilderConfig(
            name="b", workernames=["w1", "w2"], canStartBuild=util.enforceChosenWorker,
            factory=util.BuildFactory([steps.ShellCommand(command="true")]))],
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_for_message(master, ("builds", None, "finished"))
        await master.data.control("force", {"owner": "me", "workername": chosen},
                                  ("forceschedulers", "force"))
        _, build = await done
        workers = {w["workerid"]: w["name"] for w in await master.data.get(("workers",))}
        assert workers[build["workerid"]] == chosen
