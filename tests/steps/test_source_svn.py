"""SVN source step against a real local repository (file:// URL)."""

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
from tests.steps.harness import force_build, make_config

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("svnadmin") is None, reason="svn not installed")]


def svn(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["svn", "--non-interactive", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repourl(tmp_path: Path) -> str:
    repo = tmp_path / "svnrepo"
    subprocess.run(["svnadmin", "create", str(repo)], check=True)
    url = f"file://{repo}"
    src = tmp_path / "import"
    src.mkdir()
    (src / "a.txt").write_text("one\n")
    svn("import", "-q", "-m", "initial", str(src), url)
    return url


def commit_change(tmp_path: Path, url: str, content: str) -> None:
    wc = tmp_path / "wc"
    if not wc.exists():
        svn("checkout", "-q", url, str(wc))
    svn("update", "-q", cwd=wc)
    (wc / "a.txt").write_text(content)
    svn("commit", "-q", "-m", "change", cwd=wc)


def test_svn_argument_errors() -> None:
    with pytest.raises(ConfigErrors) as e:
        steps.SVN(mode="bogus", method="x")
    assert e.value.errors == [
        "mode bogus is not one of ['full', 'incremental']",
        "method x is not one of ('clean', 'fresh', 'clobber', 'copy', 'export', None)",
        "you must provide repourl",
    ]


def test_uri_canonicalization() -> None:
    canon = steps.SVN.svnUriCanonicalize
    assert canon("HTTP://Example.COM:80/a/./b//c/../d/") == "http://example.com/a/b/d"
    assert canon("svn://h:3691/x%7e") == "svn://h:3691/x~"


@pytest_twisted.ensureDeferred
async def test_incremental_fresh_and_export(tmp_path: Path, repourl: str) -> None:
    cfg = make_config([
        steps.SVN(repourl=repourl),
        steps.SVN(repourl=repourl, mode="full", method="fresh", workdir="fresh",
                  keep_on_purge=["keep.txt"]),
        steps.SVN(repourl=repourl, mode="full", method="export", workdir="exp"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        wdir = Path(master.basedir) / "workers/local/b0"
        (wdir / "fresh" / "junk.txt").write_text("j")
        (wdir / "fresh" / "keep.txt").write_text("k")
        commit_change(tmp_path, repourl, "two\n")
        second = await force_build(master)
    assert first.results == SUCCESS, first.summary
    assert [s[2] for s in first.summary] == ["update", "update", "update"]
    assert second.results == SUCCESS, second.summary
    assert (wdir / "build" / "a.txt").read_text() == "two\n"
    assert (wdir / "fresh" / "a.txt").read_text() == "two\n"
    assert not (wdir / "fresh" / "junk.txt").exists()
    assert (wdir / "fresh" / "keep.txt").exists()
    assert (wdir / "exp" / "a.txt").read_text() == "two\n"
    assert not (wdir / "exp" / ".svn").exists()
    assert second.props["got_revision"] == "2"
