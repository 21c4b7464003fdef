"""Two masters sharing one database: a request created on one master is built by the other,
which runs the builder; each request is built once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.botmaster import BotMaster
from buildbot.process.results import SUCCESS
from tests.fixtures.crossbar import crossbar_path, running_router
from tests.fixtures.master import running_master, wait_for_message

pytestmark = pytest.mark.multimaster


def db_url(tmp_path: Path) -> str:
    return os.environ.get("BUILDBOT_TEST_DB_URL") or f"sqlite:///{tmp_path / 'shared.sqlite'}"


def config(url: str, builders: list[str], all_builders: list[str]) -> dict[str, Any]:
    return {
        "multiMaster": True,
        "db": {"db_url": url},
        "workers": [worker.LocalWorker("w")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=all_builders)],
        "builders": [util.BuilderConfig(name=n, workernames=["w"], factory=util.BuildFactory(
            [steps.ShellCommand(command=["echo", n])])) for n in builders],
    }


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_request_from_one_master_is_built_by_the_other(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BotMaster, "MULTI_MASTER_POLL_INTERVAL", 0.2)
    url = db_url(tmp_path)
    both = ["on-a", "on-b"]
    async with running_master(tmp_path / "a", config(url, ["on-a"], both)) as a:
        # The second master shares the schema the first created (or the external test db).
        b_cfg = config(url, ["on-b"], both)
        async with running_master(tmp_path / "b", b_cfg, reset_db=False) as b:
            assert a.masterid != b.masterid
            finished = wait_for_message(b, ("builds", None, "finished"))
            bsid, brids = await a.data.control("force", {"builderNames": ["on-b"],
                                                         "owner": "t"},
                                               ("forceschedulers", "force"))
            _, build = await finished
            assert build["results"] == SUCCESS
            assert build["masterid"] == b.masterid
            masters = await a.data.get(("masters",))
            assert sorted(m["masterid"] for m in masters if m["active"]) == sorted(
                [a.masterid, b.masterid])
            builds = await a.data.get(("builds",))
            assert [x["buildrequestid"] for x in builds] == list(brids.values())


@pytest.mark.integration
@pytest.mark.skipif(crossbar_path() is None,
                    reason="no crossbar router (set BUILDBOT_TEST_CROSSBAR or put crossbar on PATH)")
@pytest_twisted.ensureDeferred
async def test_masters_share_events_through_a_wamp_router(tmp_path: Path) -> None:
    url = db_url(tmp_path)
    both = ["on-a", "on-b"]
    async with running_router(tmp_path / "router") as router_url:
        mq = {"type": "wamp", "router_url": router_url, "realm": "buildbot"}
        a_cfg = dict(config(url, ["on-a"], both), mq=mq)
        b_cfg = dict(config(url, ["on-b"], both), mq=mq)
        async with running_master(tmp_path / "a", a_cfg) as a, \
                running_master(tmp_path / "b", b_cfg, reset_db=False) as b:
            # No polling needed: B hears about the request at once, and A sees B's build.
            assert b.botmaster._poll is not None
            b.botmaster._set_polling(False)
            seen_on_a = wait_for_message(a, ("builds", None, "finished"))
            bsid, brids = await a.data.control("force", {"builderNames": ["on-b"],
                                                         "owner": "t"},
                                               ("forceschedulers", "force"))
            _, build = await seen_on_a
            assert build["results"] == SUCCESS
            assert build["masterid"] == b.masterid
            # through the router, times arrive as epoch seconds (as 4.3 sends them)
            assert type(build["started_at"]) is int and type(build["complete_at"]) is int
