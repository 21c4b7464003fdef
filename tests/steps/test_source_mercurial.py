"""Mercurial source step against a real local repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors
from buildbot.plugins import steps
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, make_config, stdout_of

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("hg") is None, reason="hg not installed")]

HG_ENV = {**os.environ, "HGUSER": "t <t@x>", "HGPLAIN": "1", "HGRCPATH": ""}


def hg(cwd: Path, *args: str) -> str:
    return subprocess.run(["hg", *args], cwd=cwd, env=HG_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "hgrepo"
    r.mkdir()
    hg(r, "init")
    (r / "a.txt").write_text("one\n")
    hg(r, "add", "a.txt")
    hg(r, "commit", "-m", "one")
    hg(r, "branch", "stable")
    (r / "a.txt").write_text("stable\n")
    hg(r, "commit", "-m", "stable")
    hg(r, "update", "default")
    (r / "a.txt").write_text("two\n")
    hg(r, "commit", "-m", "two")
    return r


def test_mercurial_argument_errors() -> None:
    with pytest.raises(ConfigErrors) as e:
        steps.Mercurial(mode="bogus", method="x", branchType="y")
    assert e.value.errors == [
        "mode bogus is not one of ['full', 'incremental']",
        "method x is not one of (None, 'clean', 'fresh', 'clobber')",
        "branchType y is not one of ('inrepo', 'dirname')",
        "you must provide a repourl",
    ]


@pytest_twisted.ensureDeferred
async def test_incremental_then_full_fresh_and_inrepo_branch(tmp_path: Path, repo: Path) -> None:
    cat = steps.ShellCommand(command="cat a.txt", name="cat")
    cfg = make_config([
        steps.Mercurial(repourl=str(repo), branchType="inrepo"),
        cat,
        steps.Mercurial(repourl=str(repo), branchType="inrepo", mode="full",
                        defaultBranch="stable", workdir="st", alwaysUseLatest=True),
        steps.ShellCommand(command="cat a.txt; ls", name="cat-stable", workdir="st"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        (Path(master.basedir) / "workers/local/b0/st/junk").write_text("x")
        (repo / "a.txt").write_text("three\n")
        hg(repo, "commit", "-m", "three")
        second = await force_build(master)
    assert first.results == SUCCESS, first.summary
    assert first.summary[0] == ("hg", SUCCESS, "update")
    assert stdout_of(first.steps[2].logs["stdio"]) == "two\n"
    assert stdout_of(first.steps[4].logs["stdio"]).startswith("stable\n")
    assert second.results == SUCCESS, second.summary
    assert stdout_of(second.steps[2].logs["stdio"]) == "three\n"
    # the last source step without a codebase sets got_revision
    assert second.props["got_revision"] == hg(repo, "id", "--debug", "-i", "-r", "stable")
    assert "junk" not in stdout_of(second.steps[4].logs["stdio"])
