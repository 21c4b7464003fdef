"""HgPoller and SVNPoller against real local repositories (hg and svn command lines)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.changes.hgpoller import HgPoller
from buildbot.changes.svnpoller import (
    SVNPoller,
    split_file_alwaystrunk,
    split_file_branches,
    split_file_projects_branches,
)
from buildbot.util.deferred import maybe_await
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration


def run(*argv: str, cwd: Path | None = None) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


async def start_source(stack: Stack, tmp_path: Path, source: Any) -> Any:
    stack.master.basedir = str(tmp_path)
    source.master = stack.master
    await source.reconfigServiceWithSibling(source)
    await maybe_await(source.startService())
    return source


async def changes(stack: Stack) -> list[tuple[Any, ...]]:
    rows = await stack.data.get(("changes",))
    return [(c["revision"], c["branch"], c["files"], c["comments"], c["author"])
            for c in sorted(rows, key=lambda c: c["changeid"])]


@pytest.mark.skipif(shutil.which("hg") is None, reason="Mercurial (hg) is not installed")
@pytest_twisted.ensureDeferred
async def test_hgpoller_reports_new_commits_and_keeps_its_place(stack: Stack,
                                                                tmp_path: Path) -> None:
    repo = tmp_path / "hgrepo"
    run("hg", "init", str(repo))

    def commit(name: str, msg: str) -> str:
        (repo / name).write_text(msg)
        run("hg", "add", name, cwd=repo)
        run("hg", "commit", "-m", msg, "-u", "Ann <ann@example.org>", cwd=repo)
        return run("hg", "log", "-r", ".", "--template={node}", cwd=repo)

    commit("a", "first")
    poller = await start_source(stack, tmp_path, HgPoller(str(repo), workdir="hgwork",
                                                          name="hg"))
    await poller.poll()
    n2 = commit("b", "second")
    await poller.poll()
    await maybe_await(poller.stopService())
    n3 = commit("c", "third")
    poller = await start_source(stack, tmp_path, HgPoller(str(repo), workdir="hgwork",
                                                          name="hg"))
    try:
        await poller.poll()
        assert await changes(stack) == [
            (n2, "default", ["b"], "second", "Ann <ann@example.org>"),
            (n3, "default", ["c"], "third", "Ann <ann@example.org>")]
        oid = await stack.updates.getObjectId("hg", HgPoller.db_class_name)
        assert HgPoller.db_class_name == "HgPoller"
        assert await stack.updates.getState(oid, "lastRev") == {"default": "2"}
    finally:
        await maybe_await(poller.stopService())


@pytest.mark.skipif(shutil.which("svn") is None or shutil.which("svnadmin") is None,
                    reason="Subversion (svn, svnadmin) is not installed")
@pytest_twisted.ensureDeferred
async def test_svnpoller_splits_branches(stack: Stack, tmp_path: Path) -> None:
    repo = tmp_path / "svnrepo"
    run("svnadmin", "create", str(repo))
    url = f"file://{repo}"
    wc = tmp_path / "wc"
    run("svn", "checkout", "-q", url, str(wc))
    (wc / "trunk").mkdir()
    (wc / "branches").mkdir()
    run("svn", "add", "-q", "trunk", "branches", cwd=wc)
    run("svn", "commit", "-q", "-m", "layout", "--username", "ann", cwd=wc)
    submitted: list[list[str]] = []

    class Recording(SVNPoller):
        async def submit_changes(self, changes: list[dict[str, Any]]) -> None:
            submitted.append([c["revision"] for c in changes])
            await super().submit_changes(changes)

    cache = tmp_path / "svn-last"
    poller = await start_source(stack, tmp_path, Recording(
        url, split_file=split_file_branches, project="p", cachepath=str(cache)))
    assert poller.loop is None
    try:
        await poller.poll()
        assert await changes(stack) == []
        (wc / "trunk" / "x.c").write_text("x")
        run("svn", "add", "-q", "trunk/x.c", cwd=wc)
        run("svn", "commit", "-q", "-m", "on trunk", "--username", "ann", cwd=wc)
        run("svn", "copy", "-q", f"{url}/trunk", f"{url}/branches/b1", "-m", "branch",
            "--username", "bob")
        await poller.poll()
        assert await changes(stack) == [
            ("2", None, ["x.c"], "on trunk", "ann"),
            ("3", "branches/b1", [""], "branch", "bob")]
        assert submitted == [[], ["2", "3"]]
        assert cache.read_text() == "3"  # finished_ok remembers the newest revision
        entries = poller.get_new_logentries(poller.parse_logs(await poller.get_logs()))
        assert poller.create_changes(new_logentries=entries) == []
    finally:
        await maybe_await(poller.stopService())


@pytest.mark.parametrize(("fn", "path", "expected"), [
    (split_file_alwaystrunk, "a/b.c", {"path": "a/b.c"}),
    (split_file_branches, "trunk/a/b.c", (None, "a/b.c")),
    (split_file_branches, "branches/x/b.c", ("branches/x", "b.c")),
    (split_file_branches, "tags/x/b.c", None),
    (split_file_projects_branches, "p/trunk/b.c", {"project": "p", "path": "b.c"}),
    (split_file_projects_branches, "p/branches/x/b.c",
     {"project": "p", "path": "b.c", "branch": "branches/x"}),
    (split_file_projects_branches, "p", None),
])
def test_split_file(fn: Any, path: str, expected: Any) -> None:
    assert fn(path) == expected
