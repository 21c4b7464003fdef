"""Darcs source step against a real local darcs repository, builds on a LocalWorker."""

from __future__ import annotations

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
from tests.steps.test_source_git import build_with_stamp

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("darcs") is None, reason="darcs not installed")]


def darcs(cwd: Path, *args: str) -> str:
    return subprocess.run(["darcs", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def record(repo: Path, content: str, message: str) -> None:
    (repo / "a.txt").write_text(content)
    darcs(repo, "record", "-a", "--ignore-times", "-m", message, "--author", "t <t@x>")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "darcsrepo"
    darcs(tmp_path, "init", "--repo", str(r))
    (r / "a.txt").write_text("one\n")
    darcs(r, "add", "a.txt")
    darcs(r, "record", "-a", "-m", "one", "--author", "t <t@x>")
    record(r, "two\n", "two")
    return r


def test_darcs_argument_errors() -> None:
    with pytest.raises(ConfigErrors) as e:
        steps.Darcs(mode="incremental", method="clobber")
    assert e.value.errors == ["Incremental mode does not require method",
                              "you must provide repourl"]
    with pytest.raises(ConfigErrors) as e:
        steps.Darcs(repourl="x", mode="full", method="fresh")
    assert e.value.errors == ["Invalid method for mode == full"]
    assert steps.Darcs(repourl="x", mode="full").method == "copy"


def cat(workdir: str = "build") -> steps.ShellCommand:
    return steps.ShellCommand(command="cat a.txt; ls | sort", name=f"cat-{workdir}",
                              workdir=workdir)


@pytest_twisted.ensureDeferred
async def test_incremental_then_clobber_and_copy(tmp_path: Path, repo: Path) -> None:
    cfg = make_config([
        steps.Darcs(repourl=str(repo), workdir="inc"),
        cat("inc"),
        steps.Darcs(repourl=str(repo), mode="full", method="clobber", workdir="clob",
                    name="clobber"),
        steps.Darcs(repourl=str(repo), mode="full", name="copy"),
        cat("build"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        assert first.results == SUCCESS, first.steps[1].logs["stdio"]
        (first.worker_dir / "build" / "junk").write_text("x")
        record(repo, "three\n", "three")
        second = await force_build(master)
    assert [s[:2] for s in first.summary] == [
        ("darcs", SUCCESS), ("cat-inc", SUCCESS), ("clobber", SUCCESS), ("copy", SUCCESS),
        ("cat-build", SUCCESS)]
    assert first.summary[0][2] == "update"
    assert stdout_of(first.step("cat-inc").logs["stdio"]).startswith("two\n")
    assert second.results == SUCCESS, second.summary
    assert stdout_of(second.step("cat-inc").logs["stdio"]).startswith("three\n")
    # copy: a fresh copy of "source", without the junk of the last build
    assert stdout_of(second.step("cat-build").logs["stdio"]).split() == ["three", "_darcs", "a.txt"]
    assert second.props["got_revision"] == darcs(repo, "changes", "--max-count=1")
    assert "* three" in second.props["got_revision"]


@pytest_twisted.ensureDeferred
async def test_context_revision_and_patch(tmp_path: Path, repo: Path) -> None:
    context = darcs(repo, "log", "--context")
    record(repo, "three\n", "three")
    patch = b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-three\n+patched\n"
    cfg = make_config([steps.Darcs(repourl=str(repo), mode="full", method="clobber"), cat()])
    async with running_master(tmp_path / "m", cfg) as master:
        at_context = await build_with_stamp(master, revision=context)
        patched = await build_with_stamp(master, patch_body=patch, patch_level=1)
    assert at_context.results == SUCCESS, at_context.steps[1].logs["stdio"]
    assert stdout_of(at_context.steps[2].logs["stdio"]).startswith("two\n")
    assert patched.results == SUCCESS, patched.summary
    assert stdout_of(patched.steps[2].logs["stdio"]).startswith("patched\n")
