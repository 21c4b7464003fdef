"""JanitorConfigurator: the nightly janitor builder purges old log chunks and build data."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message


def config() -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("w")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(name="b", workernames=["w"], factory=util.BuildFactory(
            [steps.ShellCommand(command=["echo", "some output"])]))],
        # A negative horizon makes every existing log "old" for the test.
        "configurators": [util.JanitorConfigurator(
            logHorizon=datetime.timedelta(seconds=-60),
            build_data_horizon=datetime.timedelta(seconds=-60), hour=3)],
    }


async def force(master: Any, scheduler: str, builder: str) -> Any:
    done = wait_for_message(master, ("buildsets", None, "complete"))
    await master.data.control("force", {"builderNames": [builder], "owner": "t"},
                              ("forceschedulers", scheduler))
    return (await done)[1]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_janitor_purges_old_log_chunks(tmp_path: Path) -> None:
    async with running_master(tmp_path, config) as master:
        assert "__Janitor" in master.botmaster.builders
        assert (await force(master, "force", "b"))["results"] == SUCCESS
        build = (await master.data.get(("builds",)))[0]
        step = (await master.data.get(("builds", build["buildid"], "steps")))[1]
        (log,) = await master.data.get(("steps", step["stepid"], "logs"))
        assert "some output" in (await master.data.get(("logs", log["logid"],
                                                        "contents")))["content"]
        assert (await force(master, "__Janitor_force", "__Janitor"))["results"] == SUCCESS
        log = await master.data.get(("logs", log["logid"]))
        assert log["type"] == "d"
        janitor_steps = await master.data.get(("builds", 2, "steps"))
        assert [s["name"] for s in janitor_steps][1:] == ["LogChunksJanitor", "BuildDataJanitor"]
