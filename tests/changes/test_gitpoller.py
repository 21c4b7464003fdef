"""GitPoller against real local git repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.changes.gitpoller import GitPoller, tracker_ref
from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.util.deferred import maybe_await
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.integration

ENV = {**os.environ, "GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.org",
       "GIT_COMMITTER_NAME": "Cid", "GIT_COMMITTER_EMAIL": "cid@example.org"}


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.git("init", "-q", "-b", "main")
        self.count = 0

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=ENV, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, message: str, filename: str | None = None, when: int | None = None
               ) -> str:
        self.count += 1
        name = filename or f"f{self.count}.txt"
        (self.path / name).write_text(message)
        self.git("add", name)
        env_date = {} if when is None else {"GIT_AUTHOR_DATE": f"@{when} +0000",
                                            "GIT_COMMITTER_DATE": f"@{when} +0000"}
        subprocess.run(["git", "commit", "-q", "-m", message], cwd=self.path,
                       env={**ENV, **env_date}, check=True)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    (tmp_path / "repo").mkdir()
    return Repo(tmp_path / "repo")


async def start_poller(stack: Stack, tmp_path: Path, **kwargs: Any) -> GitPoller:
    stack.master.basedir = str(tmp_path)
    poller = GitPoller(**kwargs)
    poller.master = stack.master
    await poller.reconfigServiceWithSibling(poller)
    await maybe_await(poller.startService())
    assert poller.isActive()
    return poller


async def changes(stack: Stack) -> list[tuple[Any, ...]]:
    rows = await stack.data.get(("changes",))
    return [(c["revision"], c["branch"], c["comments"], c["files"], c["author"],
             c["committer"]) for c in sorted(rows, key=lambda c: c["changeid"])]


@pytest_twisted.ensureDeferred
async def test_first_poll_records_then_new_commits_become_changes(
        stack: Stack, repo: Repo, tmp_path: Path) -> None:
    repo.commit("first")
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path))
    try:
        await poller.poll()
        assert await changes(stack) == []
        r2 = repo.commit("second\n\nbody", when=1_600_000_000)
        (repo.path / "dir").mkdir()
        r3 = repo.commit("third", filename="dir/x y.txt")
        await poller.poll()
        assert await changes(stack) == [
            (r2, "main", "second\nbody", ["f2.txt"], "Ann <ann@example.org>",
             "Cid <cid@example.org>"),
            (r3, "main", "third", ["dir/x y.txt"], "Ann <ann@example.org>",
             "Cid <cid@example.org>")]
        first = (await stack.data.get(("changes",)))[-1]
        assert first["repository"] == str(repo.path)
        oid = await stack.updates.getObjectId(str(repo.path), "GitPoller")
        assert await stack.updates.getState(oid, "lastRev") == {"refs/heads/main": r3}
        assert os.path.isdir(tmp_path / "gitpoller-work")
    finally:
        await maybe_await(poller.stopService())


@pytest_twisted.ensureDeferred
async def test_restart_neither_replays_nor_loses_changes(
        stack: Stack, repo: Repo, tmp_path: Path) -> None:
    repo.commit("first")
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path), name="p")
    await poller.poll()
    r2 = repo.commit("second")
    await poller.poll()
    await maybe_await(poller.stopService())
    r3 = repo.commit("made while the master was down")
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path), name="p")
    try:
        await poller.poll()
        assert [c[0] for c in await changes(stack)] == [r2, r3]
    finally:
        await maybe_await(poller.stopService())


@pytest_twisted.ensureDeferred
async def test_branches_list_and_all_branches(stack: Stack, repo: Repo,
                                              tmp_path: Path) -> None:
    repo.commit("first")
    repo.git("branch", "dev")
    repo.git("branch", "other")
    listed = await start_poller(stack, tmp_path, repourl=str(repo.path), name="listed",
                                branches=["main", "dev"], workdir="w1")
    every = await start_poller(stack, tmp_path, repourl=str(repo.path), name="all",
                               branches=True, workdir="w2")
    try:
        await listed.poll()
        await every.poll()
        repo.git("checkout", "-q", "dev")
        rd = repo.commit("on dev")
        repo.git("checkout", "-q", "other")
        ro = repo.commit("on other")
        await listed.poll()
        assert [(c[0], c[1]) for c in await changes(stack)] == [(rd, "dev")]
        await every.poll()
        assert sorted((c[0], c[1]) for c in await changes(stack)) == sorted(
            [(rd, "dev"), (rd, "dev"), (ro, "other")])
        oid = await stack.updates.getObjectId("listed", "GitPoller")
        assert set(await stack.updates.getState(oid, "lastRev")) == {"main", "dev"}
        oid = await stack.updates.getObjectId("all", "GitPoller")
        assert set(await stack.updates.getState(oid, "lastRev")) == {
            "refs/heads/main", "refs/heads/dev", "refs/heads/other"}
    finally:
        await maybe_await(listed.stopService())
        await maybe_await(every.stopService())


@pytest_twisted.ensureDeferred
async def test_only_tags(stack: Stack, repo: Repo, tmp_path: Path) -> None:
    repo.commit("first")
    repo.git("tag", "v1")
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path), only_tags=True)
    try:
        await poller.poll()
        r2 = repo.commit("second")
        repo.git("tag", "v2")
        await poller.poll()
        assert [(c[0], c[1]) for c in await changes(stack)] == [(r2, "refs/tags/v2")]
    finally:
        await maybe_await(poller.stopService())


@pytest_twisted.ensureDeferred
async def test_category_project_and_no_timestamps(stack: Stack, repo: Repo,
                                                  tmp_path: Path) -> None:
    repo.commit("first")
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path), category="cat",
                                project="proj", usetimestamps=False)
    try:
        await poller.poll()
        repo.commit("second", when=1_500_000_000)
        await poller.poll()
        (change,) = await stack.data.get(("changes",))
        assert (change["category"], change["project"]) == ("cat", "proj")
        assert change["when_timestamp"] != 1_500_000_000
    finally:
        await maybe_await(poller.stopService())


def test_tracker_refs_follow_the_reference() -> None:
    assert tracker_ref("/tmp/x/repo.git", "refs/heads/master") == \
        "refs/buildbot/%2Ftmp%2Fx%2Frepo.git/heads/master"
    assert tracker_ref("https://github.com/o/r.git", "refs/heads/a/b") == \
        "refs/buildbot/https/github.com/o/r/heads/a/b"
    assert tracker_ref("git@host:o/r", "HEAD") == "refs/buildbot/raw/ssh/host/o/r/HEAD"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"branch": "a", "branches": ["b"]}, "GitPoller: can't specify both branch and branches"),
    ({"only_tags": True, "branch": "a"},
     "GitPoller: can't specify only_tags and branch/branches"),
    ({"fetch_refspec": "x"}, "GitPoller: fetch_refspec is no longer supported. Instead, only "
                             "the given branches are downloaded."),
    ({"codebase": "cb"}, "GitPoller: codebase must be None or instance of Codebase"),
    ({"pollInterval": 10, "pollRandomDelayMax": 10}, "max random delay must be < 10: 10"),
])
def test_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigErrors) as e, capture_config_errors(raise_on_error=True):
        GitPoller("/some/repo", **kwargs)
    assert e.value.errors == [message]


def test_git_features_follow_the_version() -> None:
    poller = GitPoller(repourl="r")
    assert not poller.gitInstalled and not poller.supportsBranch
    poller.parseGitFeatures("git version 2.9.1\n")
    assert poller.gitInstalled and poller.supports_lsremote_symref
    assert poller.supportsSshPrivateKeyAsEnvOption
    assert not poller.supportsSshPrivateKeyAsConfigOption and not poller.supportsFilters
    poller.parseGitFeatures("git version 2.39.2.windows.1")
    assert poller.supportsFilters
    poller.setupGit()
    poller.parseGitFeatures("not git at all")
    assert not poller.gitInstalled and not poller.supportsProgress


@pytest.mark.parametrize("version,command,env", [
    ("2.40.0", ["-c", 'core.sshCommand=ssh -o "BatchMode=yes" -i "/k" -o '
                '"UserKnownHostsFile=/h"'], {}),
    ("2.5.0", [], {"GIT_SSH_COMMAND": 'ssh -o "BatchMode=yes" -i "/k" -o '
                                      '"UserKnownHostsFile=/h"'}),
    ("2.0.0", [], {"GIT_SSH": "/wrapper.sh"}),
])
def test_ssh_key_reaches_git_the_way_its_version_allows(
        version: str, command: list[str], env: dict[str, str]) -> None:
    poller = GitPoller(repourl="r")
    poller.parseGitFeatures(f"git version {version}")
    got_cmd: list[str] = []
    got_env: dict[str, str] = {}
    poller.adjustCommandParamsForSshPrivateKey(got_cmd, got_env, "/k", "/wrapper.sh", "/h")
    assert (got_cmd, got_env) == (command, env)
    if version == "2.0.0":
        with pytest.raises(RuntimeError, match="wrapper script"):
            poller.adjustCommandParamsForSshPrivateKey([], {}, "/k")


@pytest_twisted.ensureDeferred
async def test_poll_with_a_key_passes_it_to_the_remote_commands_only(
        stack: Stack, repo: Repo, tmp_path: Path) -> None:
    repo.commit("first")
    calls = tmp_path / "calls"
    wrapper = tmp_path / "git-logging"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec git "$@"\n')
    wrapper.chmod(0o755)
    poller = await start_poller(stack, tmp_path, repourl=str(repo.path), gitbin=str(wrapper),
                                sshPrivateKey="-----KEY-----\n")
    try:
        await poller.poll()
    finally:
        await maybe_await(poller.stopService())
    lines = calls.read_text().splitlines()
    assert lines[0] == "--version"
    remote = [line for line in lines if " ls-remote " in line or " fetch " in line]
    assert remote and all(line.startswith('-c core.sshCommand=ssh -o "BatchMode=yes" -i ')
                          for line in remote)
    assert not any("core.sshCommand" in line for line in lines
                   if " rev-parse " in line or line.startswith("init"))
    assert poller.gitInstalled
