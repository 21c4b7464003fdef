"""CVS source step against a real local CVS repository, builds on a LocalWorker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import steps
from buildbot.process.results import SUCCESS
from buildbot.steps.source.cvs import entries_have_sticky_dates
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, make_config, stdout_of

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("cvs") is None, reason="cvs not installed")]

# `cvsdiscard` (Debian has no cvsutils): remove what CVS does not know, keep CVS/ dirs;
# with --ignore also files matching .cvsignore (here: everything unknown, as a stand-in).
CVSDISCARD = """#!/bin/sh
echo "cvsdiscard $*" >> ../cvsdiscard.calls
for f in *; do
  [ "$f" = CVS ] && continue
  grep -q "^/$f/" CVS/Entries || rm -rf "$f"
done
"""


def cvs(root: Path, cwd: Path, *args: str) -> None:
    subprocess.run(["cvs", "-Q", "-d", str(root), *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def cvsroot(tmp_path: Path) -> Path:
    root = tmp_path / "cvsroot"
    cvs(root, tmp_path, "init")
    src = tmp_path / "import"
    src.mkdir()
    (src / "a.txt").write_text("one\n")
    cvs(root, src, "import", "-m", "initial", "mod", "vendor", "start")
    return root


def commit(root: Path, tmp: Path, content: str) -> None:
    co = tmp / "co"
    if not co.exists():
        cvs(root, tmp, "checkout", "-d", "co", "mod")
    else:
        cvs(root, co, "update")
    (co / "a.txt").write_text(content)
    cvs(root, co, "commit", "-m", "change")


def test_sticky_dates_in_entries() -> None:
    assert not entries_have_sticky_dates("/a.txt/1.1/Mon Dec  7 2026//\nD\n")
    assert entries_have_sticky_dates("/a.txt/1.1/Mon Dec  7 2026//D2026.12.07.10.00.00\nD\n")
    assert not entries_have_sticky_dates("/a.txt/1.1/x//Tbranch\n")


def test_cvs_mode_error() -> None:
    with pytest.raises(ValueError, match=r"mode bogus is not one of \['full', 'incremental'\]"):
        steps.CVS(cvsroot="r", cvsmodule="m", mode="bogus")


def cat(workdir: str) -> steps.ShellCommand:
    return steps.ShellCommand(command="cat a.txt; ls", name=f"cat-{workdir}", workdir=workdir)


@pytest_twisted.ensureDeferred
async def test_modes_with_a_real_repository(tmp_path: Path, cvsroot: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "cvsdiscard").write_text(CVSDISCARD)
    (bindir / "cvsdiscard").chmod(0o755)
    root = str(cvsroot)
    cfg = make_config([
        steps.CVS(cvsroot=root, cvsmodule="mod", workdir="inc"),
        cat("inc"),
        steps.CVS(cvsroot=root, cvsmodule="mod", mode="full", workdir="fresh", name="fresh",
                  env={"PATH": f"{bindir}:${{PATH}}"}),
        cat("fresh"),
        steps.CVS(cvsroot=root, cvsmodule="mod", mode="full", method="copy", name="copy"),
        cat("build"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        assert first.results == SUCCESS, first.summary
        (first.worker_dir / "fresh" / "junk").write_text("x")
        commit(cvsroot, tmp_path, "two\n")
        second = await force_build(master)
    assert [s[:2] for s in first.summary] == [
        ("cvs", SUCCESS), ("cat-inc", SUCCESS), ("fresh", SUCCESS), ("cat-fresh", SUCCESS),
        ("copy", SUCCESS), ("cat-build", SUCCESS)]
    assert first.summary[0][2] == "update"
    assert stdout_of(first.step("cat-inc").logs["stdio"]) == "one\nCVS\na.txt\n"
    assert second.results == SUCCESS, second.summary
    for name in ("cat-inc", "cat-fresh", "cat-build"):
        assert stdout_of(second.step(name).logs["stdio"]) == "two\nCVS\na.txt\n", name
    # the second build updated in place: cvs update, after cvsdiscard --ignore for fresh
    inc_log = second.step("cvs").logs["stdio"]
    assert "argv: [b'cvs', b'-z3', b'update', b'-dP']" in inc_log
    assert "checkout" not in inc_log
    assert (first.worker_dir / "cvsdiscard.calls").read_text() == "cvsdiscard --ignore\n"
    assert second.props["got_revision"].endswith(" +0000")
    assert (first.worker_dir / "source" / "CVS" / "Root").read_text().strip() == root
