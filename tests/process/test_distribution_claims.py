"""What the distributor reads and writes to hand a request to a free worker: one transaction
claims the builder's most urgent request and reads the next ones (no read before it, no
read of the claimed row after it), and a stale entry of its view is dropped by it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import task

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.process.test_build_transactions import counting_transactions

pytestmark = pytest.mark.integration

# the transactions of the distributor, as `counting_transactions` names them
CLAIM = ("BuildRequestsDb.claim_most_urgent.thd_claim_urgent  <- "
         "buildrequestdistributor.BasicBuildChooser._claim_next")
LOAD = "BuildsetsDb.buildset_for_build.thd_read  <- buildrequest._buildset_info"


def _config(**extra: Any) -> dict[str, Any]:
    return {
        "workers": [worker.LocalWorker("w")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(name="b", workernames=["w"], factory=util.BuildFactory(
            [steps.ShellCommand(command=["true"])]))],
        "collapseRequests": False,
        **extra,
    }


async def _set_paused(master: Any, paused: bool) -> None:
    wid = (await master.data.get(("workers",)))[0]["workerid"]
    await master.data.control("pause" if paused else "unpause", {"reason": "hold"},
                              ("workers", wid))


def _buildsets_done(master: Any, count: int) -> tuple[Any, list[Any]]:
    """(a Deferred firing when `count` buildsets completed, their bodies as they come)."""
    bodies: list[Any] = []

    def enough(key: Any, body: Any) -> bool:
        bodies.append(body)
        return len(bodies) == count

    return wait_for_message(master, ("buildsets", None, "complete"), enough), bodies


async def _idle(master: Any) -> None:
    """Until no distribution round runs (reactor turns, not time)."""
    from twisted.internet import reactor
    while master.botmaster.brd._activity is not None:
        await task.deferLater(reactor, 0, lambda: None)


@pytest_twisted.ensureDeferred
async def test_each_build_costs_the_distributor_one_claim_transaction(tmp_path: Path) -> None:
    async with running_master(tmp_path, _config()) as master:
        await _set_paused(master, True)
        for _ in range(2):
            await master.data.control("force", {"builderNames": ["b"], "owner": "t"},
                                      ("forceschedulers", "force"))
        done, seen_done = _buildsets_done(master, 2)
        with counting_transactions(master.db.pool) as seen:
            await _set_paused(master, False)
            await done
            await _idle(master)
        assert [b["results"] for b in seen_done] == [SUCCESS] * 2
        # per build: the claim (with the read of the next requests) and the loading of the
        # claimed request's buildset; nothing when the worker is freed the last time (the
        # view of unclaimed requests, read when the worker connected, is empty)
        ours = {name: n for name, n in seen.items()
                if "buildrequestdistributor." in name or "buildrequest." in name}
        assert ours == {CLAIM: 2, LOAD: 2}


@pytest_twisted.ensureDeferred
async def test_a_request_claimed_elsewhere_without_an_event_leaves_the_view(
        tmp_path: Path) -> None:
    async with running_master(tmp_path, _config()) as master:
        await _set_paused(master, True)
        bsid, brids = await master.data.control(
            "force", {"builderNames": ["b"], "owner": "t"}, ("forceschedulers", "force"))
        (brid,) = brids.values()
        brd = master.botmaster.brd
        builderid = master.botmaster.builders["b"].builderid
        await _idle(master)
        assert brd.pending_requests.has(builderid)
        # another master claims it; its event does not reach this master
        other = await master.db.masters.findMasterId("elsewhere")
        await master.db.buildrequests.claimBuildRequests([brid], masterid=other)
        await _set_paused(master, False)
        await _idle(master)
        assert not brd.pending_requests.has(builderid)
        assert await master.data.get(("builds",)) == []
        (req,) = await master.data.get(("buildrequests",))
        assert (req["claimed_by_masterid"], req["complete"]) == (other, False)


@pytest_twisted.ensureDeferred
async def test_free_workers_of_a_builder_get_their_requests_from_one_claim(
        tmp_path: Path) -> None:
    cfg = _config()
    cfg["workers"] = [worker.LocalWorker(f"w{i}") for i in range(3)]
    cfg["builders"][0].workernames = ["w0", "w1", "w2"]
    async with running_master(tmp_path, cfg) as master:
        brd = master.botmaster.brd
        brd.active = False  # hold distribution while the requests and workers get ready
        brids = []
        for _ in range(3):
            _, ids = await master.data.control(
                "force", {"builderNames": ["b"], "owner": "t"}, ("forceschedulers", "force"))
            brids.extend(ids.values())
        done, seen_done = _buildsets_done(master, 3)
        with counting_transactions(master.db.pool) as seen:
            brd.active = True
            master.botmaster.maybeStartBuildsForBuilder("b")
            await done
            await _idle(master)
        assert [b["results"] for b in seen_done] == [SUCCESS] * 3
        builds = await master.data.get(("builds",))
        assert sorted(b["buildrequestid"] for b in builds) == sorted(brids)
        assert len({b["workerid"] for b in builds}) == 3
        assert {name: n for name, n in seen.items() if "claim" in name.lower()} == {CLAIM: 1}


@pytest_twisted.ensureDeferred
async def test_requests_claimed_ahead_and_not_handed_out_are_released(
        tmp_path: Path) -> None:
    async with running_master(tmp_path, _config()) as master:
        await _set_paused(master, True)
        for _ in range(2):
            await master.data.control("force", {"builderNames": ["b"], "owner": "t"},
                                      ("forceschedulers", "force"))
        bldr = master.botmaster.builders["b"]
        chooser = master.botmaster.brd.createBuildChooser(bldr, master)
        claimed, _, _ = await master.data.updates.claim_most_urgent(bldr.builderid, count=2)
        chooser._ahead = claimed
        chooser.claimed.update(b["buildrequestid"] for b in claimed)
        await chooser.release_unused()
        assert not chooser.claimed and not chooser._ahead
        assert [r["claimed"] for r in await master.data.get(("buildrequests",))] == [False] * 2
