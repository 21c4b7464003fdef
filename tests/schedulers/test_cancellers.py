"""OldBuildCanceller and FailingBuildsetCanceller on a real master with a LocalWorker: the
obsolete or doomed build is cancelled (results CANCELLED in the data API), the others run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from buildbot.schedulers.canceller import OldBuildCanceller, default_branch_key
from buildbot.schedulers.canceller_buildset import FailingBuildsetCanceller
from tests.fixtures.master import running_master, wait_for_message

# r1 (and the "slow" builder) block until cancelled; the other builds finish at once
BLOCK_ON_R1 = util.Interpolate(
    'if [ "%(src::revision)s" = r1 ]; then exec sleep 60; fi; echo done')


def builder(name: str, *build_steps: Any) -> Any:
    return util.BuilderConfig(name=name, workernames=["local"],
                              factory=util.BuildFactory(list(build_steps)))


async def add_change(master: Any, revision: str, branch: str = "main") -> None:
    await master.data.updates.addChange(
        author="me", files=["a.c"], comments="c", revision=revision, branch=branch,
        repository="https://example.org/repo.git", project="p", codebase="")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_old_build_cancelled_when_a_newer_commit_arrives(tmp_path: Path) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.SingleBranchScheduler(
            name="sbs", change_filter=util.ChangeFilter(branch="main"), treeStableTimer=None,
            builderNames=["b"])],
        "builders": [builder("b", steps.ShellCommand(command=BLOCK_ON_R1))],
        "services": [util.OldBuildCanceller(
            "canceller", filters=[(["b"], util.SourceStampFilter(branch_eq=["main"]))])],
    }
    async with running_master(tmp_path, cfg) as master:
        first_started = wait_for_message(master, ("builds", None, "new"))
        await add_change(master, "r1")
        _, build1 = await first_started

        first_done = wait_for_message(
            master, ("builds", str(build1["buildid"]), "finished"))
        second_done = wait_for_message(
            master, ("builds", None, "finished"),
            lambda k, b: b["buildid"] != build1["buildid"])
        await add_change(master, "r2")
        await first_done
        await second_done

        builds = await master.data.get(("builds",))
        assert [(b["buildid"], b["results"]) for b in builds] == [
            (build1["buildid"], CANCELLED), (build1["buildid"] + 1, SUCCESS)]
        requests = await master.data.get(("buildrequests",))
        assert [r["results"] for r in requests] == [CANCELLED, SUCCESS]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_other_branch_is_not_cancelled(tmp_path: Path) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.AnyBranchScheduler(name="abs", treeStableTimer=None,
                                                     builderNames=["b"])],
        "builders": [builder("b", steps.ShellCommand(
            command=util.Interpolate('[ "%(src::revision)s" = r2 ]')))],
        "services": [util.OldBuildCanceller(
            "canceller", filters=[(["b"], util.SourceStampFilter())])],
    }
    async with running_master(tmp_path, cfg) as master:
        both_done = wait_for_message(master, ("buildsets", None, "complete"),
                                     lambda k, b: b["bsid"] == 2)
        first_done = wait_for_message(master, ("buildsets", None, "complete"),
                                      lambda k, b: b["bsid"] == 1)
        await add_change(master, "r1", branch="feature")
        await add_change(master, "r2", branch="main")
        await first_done
        await both_done
        requests = await master.data.get(("buildrequests",))
        # r1 failed on its own (not cancelled): another branch does not obsolete it
        assert sorted(r["results"] for r in requests) == [SUCCESS, FAILURE]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_failing_build_cancels_its_buildset_siblings(tmp_path: Path) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force",
                                                 builderNames=["fails", "slow", "kept"])],
        "builders": [
            builder("fails", steps.ShellCommand(command="exit 1")),
            builder("slow", steps.ShellCommand(command="exec sleep 60")),
            builder("kept", steps.ShellCommand(command="echo kept")),
        ],
        "services": [util.FailingBuildsetCanceller(
            "bs_canceller", filters=[(["fails"], ["slow"], util.SourceStampFilter())])],
    }
    async with running_master(tmp_path, cfg) as master:
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"owner": "me"}, ("forceschedulers", "force"))
        _, bs = await done
        requests = await master.data.get(("buildrequests",))
        builders = {b["builderid"]: b["name"] for b in await master.data.get(("builders",))}
        by_builder = {builders[r["builderid"]]: r["results"] for r in requests}
        assert by_builder == {"fails": FAILURE, "slow": CANCELLED, "kept": SUCCESS}
        assert bs["results"] == CANCELLED


def test_default_branch_key_groups_gerrit_patchsets() -> None:
    assert default_branch_key({"branch": "refs/changes/45/12345/3"}) == "refs/changes/45/12345"
    assert default_branch_key({"branch": "main"}) == "main"
    assert default_branch_key({"branch": None}) is None


@pytest.mark.parametrize("make, message", [
    (lambda: OldBuildCanceller("c", filters=("b", None)),
     "OldBuildCanceller: The filters argument must be a list of tuples"),
    (lambda: OldBuildCanceller("c", filters=[(["b"], "main")]),
     ("OldBuildCanceller: The filters argument must be a list of tuples each of which contains "
      "builders as the first item and SourceStampFilter as the second")),
    (lambda: OldBuildCanceller("c", filters=[(3, util.SourceStampFilter())]),
     "OldBuildCanceller: When processing filter builders: "),
    (lambda: FailingBuildsetCanceller("c", filters=[(["b"], util.SourceStampFilter())]),
     ("FailingBuildsetCanceller: The filters argument must be a list of tuples each of which "
      "contains builders to track as the first item, builders to cancel as the second and "
      "SourceStampFilter as the third")),
])
def test_bad_filters_are_config_errors(make: Any, message: str) -> None:
    with capture_config_errors() as errors:
        make()
    assert any(err.startswith(message) for err in errors.errors), errors.errors


def ss(branch: str | None, codebase: str = "") -> dict[str, Any]:
    return {"project": "p", "codebase": codebase, "repository": "r", "branch": branch}


def test_tracker_rules() -> None:
    from buildbot.schedulers.canceller import _BranchTracker

    now = [0.0]
    tracker = _BranchTracker(lambda: now[0], {"b": [util.SourceStampFilter()],
                                              "c": [util.SourceStampFilter()]},
                             default_branch_key)
    assert tracker.new_request(1, "b", [ss("refs/changes/01/1/1")]) == []
    assert tracker.new_request(2, "c", [ss("refs/changes/01/1/1")]) == []
    assert tracker.new_request(3, "b", [ss(None)]) == []  # no branch: never tracked
    now[0] = 1
    tracker.change(ss("refs/changes/01/1/2"))
    # a change alone cancels nothing; the next request on builder b obsoletes only b's
    assert tracker.requests.keys() == {1, 2}
    now[0] = 2
    assert tracker.new_request(4, "b", [ss("refs/changes/01/1/2")]) == [1]
    # request 4 was seen after the change: not obsolete for the same change
    assert tracker.new_request(5, "b", [ss("refs/changes/01/1/2")]) == []
    tracker.forget(4)
    tracker.forget(5)
    now[0] = 3
    tracker.change(ss("main"))
    assert tracker.new_request(6, "c", [ss("refs/changes/01/1/3")]) == [2]
    assert tracker.requests.keys() == {6}


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_canceller_added_by_reconfig_tracks_the_requests_already_open(
        tmp_path: Path) -> None:
    with_canceller = {"on": False}

    def make() -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "workers": [worker.LocalWorker("local")],
            "schedulers": [schedulers.SingleBranchScheduler(
                name="sbs", change_filter=util.ChangeFilter(branch="main"),
                treeStableTimer=None, builderNames=["b"])],
            "builders": [builder("b", steps.ShellCommand(command=BLOCK_ON_R1))],
        }
        if with_canceller["on"]:
            cfg["services"] = [util.OldBuildCanceller(
                "canceller", filters=[(["b"], util.SourceStampFilter(branch_eq=["main"]))])]
        return cfg

    async with running_master(tmp_path, make) as master:
        started = wait_for_message(master, ("builds", None, "new"))
        await add_change(master, "r1")
        _, build1 = await started
        with_canceller["on"] = True
        await master.reconfig()
        first_done = wait_for_message(master, ("builds", str(build1["buildid"]), "finished"))
        await add_change(master, "r2")
        _, finished = await first_done
        assert finished["results"] == CANCELLED
