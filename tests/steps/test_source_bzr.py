"""Bzr source step against a real local Bazaar (brz) branch, builds on a LocalWorker."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import steps
from buildbot.process.results import FAILURE, SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, make_config, stdout_of
from tests.steps.test_source_git import build_with_stamp

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("bzr") is None,
                                 reason="bzr not installed (Debian package brz)")]

BZR_ENV = {**os.environ, "BRZ_EMAIL": "t <t@x>", "BZR_EMAIL": "t <t@x>"}


def bzr(cwd: Path, *args: str) -> str:
    return subprocess.run(["bzr", *args], cwd=cwd, env=BZR_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def branch(tmp_path: Path) -> Path:
    b = tmp_path / "branches" / "trunk"
    b.parent.mkdir()
    subprocess.run(["bzr", "init", "-q", str(b)], env=BZR_ENV, check=True)
    (b / "a.txt").write_text("one\n")
    bzr(b, "add", "-q", "a.txt")
    bzr(b, "commit", "-q", "-m", "one")
    (b / "a.txt").write_text("two\n")
    bzr(b, "commit", "-q", "-m", "two")
    return b


def test_bzr_argument_errors() -> None:
    cases = [
        ({"repourl": "a", "baseURL": "b"}, "you must provide exactly one of repourl and baseURL"),
        ({}, "you must provide at least one of repourl and baseURL"),
        ({"baseURL": "b"}, "you must provide defaultBranch with baseURL"),
        ({"repourl": "a", "mode": "bogus"}, "mode bogus is not one of ['full', 'incremental']"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as e:
            steps.Bzr(**kwargs)
        assert str(e.value) == message


def cat(workdir: str = "build") -> steps.ShellCommand:
    return steps.ShellCommand(command="cat a.txt; ls", name=f"cat-{workdir}", workdir=workdir)


@pytest_twisted.ensureDeferred
async def test_incremental_full_fresh_and_copy(tmp_path: Path, branch: Path) -> None:
    base = str(branch.parent)
    cfg = make_config([
        steps.Bzr(repourl=str(branch)),
        cat(),
        steps.Bzr(baseURL=base, defaultBranch="trunk", mode="full", method="fresh",
                  workdir="fresh", name="fresh"),
        cat("fresh"),
        steps.Bzr(repourl=str(branch), mode="full", method="copy", name="copy"),
        cat("build"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        (first.worker_dir / "fresh" / "junk").write_text("x")
        (branch / "a.txt").write_text("three\n")
        bzr(branch, "commit", "-q", "-m", "three")
        second = await force_build(master)
    assert first.results == SUCCESS, first.summary
    assert [s[:2] for s in first.summary] == [
        ("bzr", SUCCESS), ("cat-build", SUCCESS), ("fresh", SUCCESS), ("cat-fresh", SUCCESS),
        ("copy", SUCCESS), ("cat-build_1", SUCCESS)]
    assert first.summary[0][2] == "update"
    assert stdout_of(first.step("cat-build").logs["stdio"]).startswith("two\n")
    assert second.results == SUCCESS, second.summary
    assert stdout_of(second.step("cat-build").logs["stdio"]).startswith("three\n")
    assert "junk" not in stdout_of(second.step("cat-fresh").logs["stdio"])
    # the last source step (copy, in "source") sets got_revision: the revision number
    assert second.props["got_revision"] == "3"
    assert second.prop_sources["got_revision"] == "Bzr"
    assert (second.worker_dir / "source" / ".bzr").is_dir()
    assert list(first.step("bzr").logs) == ["stdio"]


@pytest_twisted.ensureDeferred
async def test_revision_patch_and_missing_branch(tmp_path: Path, branch: Path) -> None:
    patch = b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-two\n+patched\n"
    cfg = make_config([steps.Bzr(repourl=str(branch), mode="full", method="clobber"), cat()])
    async with running_master(tmp_path / "m", cfg) as master:
        at_rev = await build_with_stamp(master, revision="1")
        patched = await build_with_stamp(master, patch_body=patch, patch_level=1)
    assert (at_rev.results, at_rev.props["got_revision"]) == (SUCCESS, "1")
    assert stdout_of(at_rev.steps[2].logs["stdio"]).startswith("one\n")
    assert patched.results == SUCCESS, patched.summary
    assert stdout_of(patched.steps[2].logs["stdio"]).startswith("patched\n")
    assert list(patched.steps[1].logs) == ["patch", "stdio"]

    missing = make_config([steps.Bzr(repourl=str(tmp_path / "nothere"), mode="full",
                                     method="clobber", retry=(0, 1))])
    async with running_master(tmp_path / "m2", missing) as master:
        failed = await force_build(master)
    assert failed.summary == [("bzr", FAILURE, "update (failure)")]
    # first attempt, the clobber before the retry, the second attempt
    assert failed.steps[1].logs["stdio"].count("\nhbzr checkout ") == 2
