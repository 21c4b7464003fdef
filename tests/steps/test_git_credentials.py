"""Git step over HTTP with credentials (`auth_credentials`, `git_credentials`): a local
web server asking for basic authentication serves a repository (git's "dumb" HTTP
protocol); the worker's git gets the credentials from the step's credential store."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.web import guard, resource, server, static
from zope.interface import implementer

from buildbot.plugins import steps, util
from buildbot.process.results import FAILURE, SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, make_config, stdout_of

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")]

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
# git must fail rather than ask a terminal when the credentials are missing or wrong
STEP_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


@implementer(IRealm)
class _Files:
    def __init__(self, root: Path) -> None:
        self.root = root

    def requestAvatar(self, avatar_id: Any, mind: Any, *interfaces: Any) -> Any:
        assert resource.IResource in interfaces
        return resource.IResource, static.File(str(self.root)), lambda: None


@pytest_twisted.async_yield_fixture
async def served_repo(tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a repository holding `a.txt` = "hello", behind basic auth
    (alice / s3cret)."""
    from twisted.internet import reactor

    work, served = tmp_path / "work", tmp_path / "served"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "a.txt").write_text("hello\n")
    git(work, "add", "a.txt")
    git(work, "commit", "-q", "-m", "one")
    git(tmp_path, "clone", "-q", "--bare", str(work), str(served / "repo.git"))
    git(served / "repo.git", "update-server-info")  # what the dumb protocol reads
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")
    protected = guard.HTTPAuthSessionWrapper(
        Portal(_Files(served), [checker]), [guard.BasicCredentialFactory("git")])
    port = reactor.listenTCP(0, server.Site(protected), interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}/repo.git"
    await port.stopListening()


async def checkout(tmp_path: Path, **git_args: Any) -> Any:
    cfg = make_config([
        steps.Git(env=STEP_ENV, mode="full", method="clobber", **git_args),
        steps.ShellCommand(command="cat a.txt", name="show", haltOnFailure=False,
                           flunkOnFailure=False)])
    async with running_master(tmp_path / "m", cfg) as master:
        return await force_build(master)


@pytest_twisted.ensureDeferred
async def test_auth_credentials_let_git_clone(tmp_path: Path, served_repo: str) -> None:
    out = await checkout(tmp_path, repourl=served_repo, auth_credentials=("alice", "s3cret"))
    assert out.results == SUCCESS
    assert stdout_of(out.steps[2].logs["stdio"]) == "hello\n"
    stdio = out.steps[1].logs["stdio"]
    assert "credential.helper=store" in stdio and "s3cret" not in stdio.split("git clone")[-1]
    # the credential store is removed with the auth directory after the step
    assert not list((out.worker_dir).glob(".*.buildbot"))


@pytest_twisted.ensureDeferred
async def test_git_credentials_in_git_credential_format(tmp_path: Path,
                                                        served_repo: str) -> None:
    options = util.GitCredentialOptions(credentials=[
        util.GitCredentialInputRenderer(username="alice", password="s3cret",
                                        url=served_repo)],
        use_http_path=False)
    out = await checkout(tmp_path, repourl=served_repo, git_credentials=options)
    assert out.results == SUCCESS
    assert "credential.useHttpPath=false" in out.steps[1].logs["stdio"]


@pytest.mark.parametrize("args", [{}, {"auth_credentials": ("alice", "wrong")}],
                         ids=["none", "wrong"])
@pytest_twisted.ensureDeferred
async def test_clone_fails_without_the_right_credentials(tmp_path: Path, served_repo: str,
                                                         args: dict[str, Any]) -> None:
    out = await checkout(tmp_path, repourl=served_repo, **args)
    assert out.results == FAILURE
