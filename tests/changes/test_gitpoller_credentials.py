"""GitPoller over HTTP with `auth_credentials`: the local web server of the Git step's
credential tests (basic auth, git's dumb HTTP protocol) serves the polled repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.util.deferred import maybe_await
from tests.changes.test_gitpoller import changes, start_poller
from tests.fixtures.stack import Stack
from tests.steps.test_git_credentials import git, served_repo  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_poller_fetches_with_auth_credentials(
        stack: Stack, tmp_path: Path, served_repo: str,  # noqa: F811 (fixture)
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")  # fail rather than prompt
    poller = await start_poller(stack, tmp_path / "master", repourl=served_repo,
                                auth_credentials=("alice", "s3cret"), branches=["main"])
    try:
        await poller.poll()
        work, served = tmp_path / "work", tmp_path / "served" / "repo.git"
        (work / "b.txt").write_text("two\n")
        git(work, "add", "b.txt")
        git(work, "commit", "-q", "-m", "second")
        git(work, "push", "-q", str(served), "main")
        git(served, "update-server-info")
        await poller.poll()
    finally:
        await maybe_await(poller.stopService())
    assert [(c[1], c[2], c[3]) for c in await changes(stack)] == [
        ("main", "second", ["b.txt"])]
    # the credential store lived in a directory removed after each poll
    assert not list((tmp_path / "master" / "gitpoller-work").glob(".buildbot-ssh*"))
