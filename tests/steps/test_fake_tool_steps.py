"""Paths of the Robocopy, pbuilder, P4 and Monotone steps that the build compared with 4.3
does not take, against fake tools on a LocalWorker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import steps
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS, WARNINGS
from buildbot.steps.mswin import robocopy_result
from tests.fixtures.master import running_master
from tests.steps import tools_build
from tests.steps.harness import make_config, run_build
from tests.steps.test_source_git import build_with_stamp


@pytest.mark.parametrize("rc,result", [
    (0, SUCCESS), (1, SUCCESS), (2, WARNINGS), (3, WARNINGS), (4, WARNINGS), (7, WARNINGS),
    (8, FAILURE), (9, FAILURE), (16, FAILURE), (31, FAILURE), (32, EXCEPTION),
    (None, EXCEPTION),
])
def test_robocopy_exit_codes(rc: int | None, result: int) -> None:
    assert robocopy_result(rc) == result


def argv_lines(log: str) -> list[str]:
    return [line[len("h argv: "):] for line in log.splitlines() if line.startswith("h argv: ")]


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: Any) -> Any:
    def install(table: dict[str, list[tuple[str, str, str, int]]]) -> Path:
        bindir = tmp_path / "bin"
        tools_build.install_fake_tools(bindir, table)
        monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
        return bindir
    return install


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_pbuilder_updates_an_old_chroot_and_fails_a_failed_create(
        tmp_path: Path, fake_bin: Any) -> None:
    fake_bin({"sudo": [("--create", "", "E: debootstrap failed\n", 1), ("", "", "", 0)],
              "pdebuild": [("", "built\n", "", 0)]})
    out = await run_build(tmp_path, [
        steps.ShellCommand(command="touch -d '2000-01-01' old.tgz", workdir="."),
        steps.DebPbuilder(distribution="bookworm", basetgz="old.tgz"),
        steps.DebCowbuilder(distribution="sid", architecture="arm64", haltOnFailure=False),
    ])
    update, create = out.step("pbuilder"), out.step("cowbuilder")
    assert (update.results, update.state_string) == (SUCCESS, "built")
    assert argv_lines(update.logs["pbuilder"]) == [
        "[b'sudo', b'/usr/sbin/pbuilder', b'--update', b'--basetgz', b'old.tgz']"]
    assert argv_lines(update.logs["stdio"]) == [
        ("[b'pdebuild', b'--buildresult', b'.', b'--pbuilder', b'/usr/sbin/pbuilder', b'--', "
        "b'--buildresult', b'.', b'--basetgz', b'old.tgz']")]
    assert create.results == FAILURE
    assert list(create.logs) == ["pbuilder"]
    assert argv_lines(create.logs["pbuilder"]) == [
        ("[b'sudo', b'/usr/sbin/cowbuilder', b'--create', b'--basepath', "
        "b'/var/cache/pbuilder/sid-arm64-buildbot.cow/', b'--distribution', b'sid', "
        "b'--mirror', b'http://cdn.debian.net/debian/', b'--architecture', b'arm64']")]


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_p4_syncs_the_change_of_the_source_stamp(tmp_path: Path, fake_bin: Any) -> None:
    fake_bin({"p4": [("-ztag changes", "... change 41\n", "", 0), ("", "", "", 0)]})
    cfg = make_config([steps.P4(p4base="//depot", p4client="ws")])
    async with running_master(tmp_path / "m", cfg) as master:
        out = await build_with_stamp(master, revision="42")
    assert out.results == SUCCESS, out.summary
    assert argv_lines(out.steps[1].logs["stdio"])[-2:] == [
        "[b'p4', b'-c', b'ws', b'-ztag', b'changes', b'-m1', b'//ws/...@42']",
        "[b'p4', b'-c', b'ws', b'sync', b'//ws/...@41']"]
    assert (out.props["got_revision"], out.prop_sources["got_revision"]) == ("41", "P4")


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_monotone_pull_retries_then_fails(tmp_path: Path, fake_bin: Any) -> None:
    fake_bin({"mtn": [("^pull", "", "mtn: network error\n", 1), ("", "", "", 0)]})
    out = await run_build(tmp_path, [
        steps.Monotone(repourl="mtn://h/db", branch="b", retry=(0, 1))])
    assert out.summary == [("monotone", FAILURE, "update (failure)")]
    pulls = [a for a in argv_lines(out.steps[1].logs["stdio"]) if "b'pull'" in a]
    assert pulls == [("[b'mtn', b'pull', b'mtn://h/db?b', b'--db', b'db.mtn', "
                     "b'--ticker=none']")] * 2
