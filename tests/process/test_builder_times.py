"""`Builder.getOldestRequestTime()` / `getNewestCompleteTime()`, which `prioritizeBuilders`
functions call, give aware UTC datetimes as in Buildbot 4.3 (None when there is nothing)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master

pytestmark = pytest.mark.integration


def _config() -> dict[str, Any]:
    # The worker never connects: requests stay unclaimed until the test completes them.
    return {"workers": [worker.Worker("w1", "pw")],
            "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
            "builders": [util.BuilderConfig(
                name="b", workernames=["w1"],
                factory=util.BuildFactory([steps.ShellCommand(command=["true"])]))]}


@pytest_twisted.ensureDeferred
async def test_request_times_are_aware_utc_datetimes(tmp_path: Path) -> None:
    async with running_master(tmp_path / "m", _config) as master:
        builder = master.botmaster.builders["b"]
        assert await builder.getOldestRequestTime() is None
        assert await builder.getNewestCompleteTime() is None
        builderid = await builder.getBuilderId()
        up = master.data.updates
        stamp = {"codebase": "", "repository": "r", "branch": "main", "revision": "x",
                 "project": ""}
        _, first = await up.addBuildset(waited_for=False, builderids=[builderid],
                                        sourcestamps=[stamp])
        await up.addBuildset(waited_for=False, builderids=[builderid], sourcestamps=[stamp])

        oldest = await builder.getOldestRequestTime()
        br = await master.data.get(("buildrequests", first[builderid]))
        assert isinstance(oldest, datetime.datetime) and oldest == br["submitted_at"]
        assert oldest.utcoffset() == datetime.timedelta(0)

        await up.claimBuildRequests([first[builderid]])
        await up.completeBuildRequests([first[builderid]], SUCCESS)
        # (4.3 returns Deferreds: user code written with inlineCallbacks yields them)
        newest = await defer.ensureDeferred(builder.getNewestCompleteTime())
        br = await master.data.get(("buildrequests", first[builderid]))
        assert isinstance(newest, datetime.datetime) and newest == br["complete_at"]
