"""Git source step against real local repositories, builds on a LocalWorker."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import steps
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.steps.source.git import git_describe_flags
from tests.fixtures.master import running_master, wait_for_message
from tests.steps.harness import BuildOutcome, collect_build, force_build, make_config, stdout_of

pytestmark = pytest.mark.integration

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def commit(repo: Path, name: str, content: str, message: str = "") -> str:
    (repo / name).write_text(content)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message or f"write {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit(r, ".gitignore", "*.ign\n")
    commit(r, "a.txt", "one\n")
    git(r, "tag", "v1.0")
    commit(r, "a.txt", "two\n")
    git(r, "checkout", "-q", "-b", "feature")
    commit(r, "f.txt", "feature\n")
    git(r, "checkout", "-q", "main")
    return r


def test_git_argument_errors() -> None:
    with capture_config_errors() as errors:
        steps.Git()
        steps.Git(repourl="x", mode="bogus")
        steps.Git(repourl="x", mode="full", method="bogus")
        steps.Git(repourl="x", mode="full", method="fresh", shallow=True)
        steps.Git(repourl="x", getDescription="yes")
    assert errors.errors == [
        "Git: must provide repourl.",
        "Git: mode must be full or incremental",
        "Git: invalid method for mode 'full'.",
        "Git: in mode 'full' shallow only possible with method 'clobber'.",
        "Git: getDescription must be a boolean or a dict.",
    ]


def test_git_family_argument_errors_match_the_reference() -> None:
    with capture_config_errors() as errors:
        steps.Git(repourl="x", shallow=True)
        steps.Git(repourl="x", mode="bogus", method="bogus", shallow=True)
        steps.Git(repourl="x", mode="full", shallow=True)
        steps.Git(repourl="x", mode="incremental", method="clean", shallow=2)
        steps.GitTag()
        steps.GitTag(tagName="t", annotated=True)
        steps.GitTag(tagName="t", messages=["m"])
        steps.GitTag(tagName="t", annotated=True, messages="m")
        steps.GitCommit()
        steps.GitCommit(paths="p", messages="m", emptyCommits="bogus")
        steps.GitPush()
        steps.GitPush(repourl="u")
    # as Buildbot 4.3.0 reports the same calls
    assert errors.errors == [
        "Git: mode must be full or incremental",
        "Git: in mode 'full' shallow only possible with method 'clobber'.",
        "Git: in mode 'full' shallow only possible with method 'clobber'.",
        "GitTag: must provide tagName",
        "GitTag: must provide messages in case of annotated tag",
        "GitTag: messages are required only in case of annotated tag",
        "GitTag: messages should be a list",
        "GitCommit: must provide messages", "GitCommit: messages must be a list",
        "GitCommit: must provide paths", "GitCommit: paths must be a list",
        "GitCommit: messages must be a list", "GitCommit: paths must be a list",
        'GitCommit: emptyCommits must be one of "disallow", "create-empty-commit" and "ignore"',
        "Git: must provide repourl.", "GitPush: must provide branch",
        "GitPush: must provide branch",
    ]


DESCRIBE_ROWS = json.loads((Path(__file__).parent / "reference_git_describe.json").read_text())


@pytest.mark.parametrize(("key", "value", "args"), DESCRIBE_ROWS)
def test_describe_arguments_match_the_reference(key: str, value: Any, args: list[str]) -> None:
    # recorded from 4.3's git_describe_flags for each getDescription key and value
    produced = [a for k, to_args in git_describe_flags if k == key for a in to_args(value) or []]
    assert produced == args


def test_git_defaults() -> None:
    step = steps.Git(repourl="x")
    assert (step.name, step.mode, step.branch, step.haltOnFailure,
            step.description, step.descriptionDone) == (
        "git", "incremental", "HEAD", True, ["updating"], ["update"])
    assert steps.Git(repourl="x", mode="full", method="clobber").mode == "full"


def show(name: str, path: str = "") -> Any:
    return steps.ShellCommand(command=f"cat {path or name}", name=f"cat-{name.replace('/', '-')}",
                              haltOnFailure=False, flunkOnFailure=False)


@pytest_twisted.ensureDeferred
async def test_incremental_clones_then_fetches(tmp_path: Path, repo: Path) -> None:
    cfg = make_config([steps.Git(repourl=str(repo)), show("a.txt")])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        head2 = commit(repo, "a.txt", "three\n")
        second = await force_build(master)
    assert first.summary[0] == ("git", SUCCESS, "update")
    assert stdout_of(first.steps[2].logs["stdio"]) == "two\n"
    assert stdout_of(second.steps[2].logs["stdio"]) == "three\n"
    assert second.props["got_revision"] == head2
    assert second.prop_sources["got_revision"] == "Git"
    assert "git fetch -f" in second.steps[1].logs["stdio"]


async def builds_with(tmp_path: Path, steps_: list[Any], prepare: Any = None,
                      n: int = 2) -> list[BuildOutcome]:
    """`n` forced builds; `prepare(worker_build_dir)` runs between them."""
    out = []
    async with running_master(tmp_path / "m", make_config(steps_)) as master:
        for i in range(n):
            if i and prepare is not None:
                prepare(Path(master.basedir) / "workers" / "local" / "b0" / "build")
            out.append(await force_build(master))
    return out


def litter(build_dir: Path) -> None:
    (build_dir / "untracked.txt").write_text("u")
    (build_dir / "x.ign").write_text("i")
    (build_dir / "a.txt").write_text("modified\n")


@pytest.mark.parametrize("method,kept", [
    ("clean", ["x.ign"]),
    ("fresh", []),
    ("clobber", []),
])
@pytest_twisted.ensureDeferred
async def test_full_mode_methods(tmp_path: Path, repo: Path, method: str,
                                 kept: list[str]) -> None:
    outs = await builds_with(tmp_path, [steps.Git(repourl=str(repo), mode="full",
                                                  method=method)], litter)
    assert [o.results for o in outs] == [SUCCESS, SUCCESS]
    build_dir = outs[1].worker_dir / "build"
    assert (build_dir / "a.txt").read_text() == "two\n"
    left = sorted(p for p in os.listdir(build_dir) if p in ("untracked.txt", "x.ign"))
    assert left == kept
    # the description follows `mode` ("full"), not the method
    assert outs[1].summary[0] == ("git", SUCCESS, "update")


@pytest_twisted.ensureDeferred
async def test_full_copy_keeps_a_source_directory(tmp_path: Path, repo: Path) -> None:
    outs = await builds_with(tmp_path, [steps.Git(repourl=str(repo), mode="full",
                                                  method="copy")], litter)
    wdir = outs[1].worker_dir
    assert (wdir / "source" / ".git").is_dir()
    assert (wdir / "build" / "a.txt").read_text() == "two\n"
    assert not (wdir / "build" / "untracked.txt").exists()
    assert outs[1].props["got_revision"] == git(repo, "rev-parse", "main")


@pytest_twisted.ensureDeferred
async def test_branch_shallow_and_description(tmp_path: Path, repo: Path) -> None:
    cfg = make_config([
        steps.Git(repourl=str(repo), branch="feature", workdir="feat",
                  getDescription={"tags": True}),
        steps.Git(repourl="file://" + str(repo), mode="full", method="clobber", shallow=True,
                  workdir="shallow", name="shallow"),
        steps.SetPropertyFromCommand(command="git rev-list --count HEAD", workdir="shallow",
                                     property="depth"),
        steps.SetPropertyFromCommand(command="git branch --show-current", workdir="feat",
                                     property="current"),
    ])
    async with running_master(tmp_path / "m", cfg) as master:
        out = await force_build(master)
    assert out.results == SUCCESS, out.summary
    assert (out.worker_dir / "feat" / "f.txt").read_text() == "feature\n"
    assert out.props["current"] == "feature"
    assert out.props["depth"] == "1"
    assert out.props["commit-description"].startswith("v1.0-2-g")


async def build_with_stamp(master: Any, **stamp: Any) -> BuildOutcome:
    builderid = (await master.data.get(("builders",)))[0]["builderid"]
    done = wait_for_message(master, ("buildsets", None, "complete"))
    ss = {"codebase": "", "repository": "", "branch": None, "revision": None, "project": ""}
    ss.update(stamp)
    await master.data.updates.addBuildset(
        waited_for=False, scheduler="test", sourcestamps=[ss], reason="test",
        properties={}, builderids=[builderid])
    await done
    builds = await master.data.get(("builds",))
    return await collect_build(master, builds[-1]["buildid"])


@pytest_twisted.ensureDeferred
async def test_revision_and_patch_from_source_stamp(tmp_path: Path, repo: Path) -> None:
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    old = git(repo, "rev-parse", "v1.0")
    patch = (b"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n"
             b"-two\n+patched\n")
    cfg = make_config([steps.Git(repourl=str(repo), mode="full"), show("a.txt")])
    async with running_master(tmp_path / "m", cfg) as master:
        at_rev = await build_with_stamp(master, revision=old)
        patched = await build_with_stamp(master, patch_body=patch, patch_level=1)
        after = await build_with_stamp(master)
    assert at_rev.props["got_revision"] == old != first
    assert stdout_of(at_rev.steps[2].logs["stdio"]) == "one\n"
    assert patched.results == SUCCESS, patched.summary
    assert stdout_of(patched.steps[2].logs["stdio"]) == "patched\n"
    assert patched.steps[1].logs["patch"] == patch.decode()
    assert stdout_of(after.steps[2].logs["stdio"]) == "two\n"


@pytest_twisted.ensureDeferred
async def test_submodules(tmp_path: Path, repo: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    commit(sub, "s.txt", "in submodule\n")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "subdir")
    git(repo, "commit", "-q", "-m", "add submodule")
    cfg = make_config([steps.Git(repourl=str(repo), mode="full", method="fresh",
                                 submodules=True, env={"GIT_CONFIG_COUNT": "1",
                                                       "GIT_CONFIG_KEY_0": "protocol.file.allow",
                                                       "GIT_CONFIG_VALUE_0": "always"})])
    async with running_master(tmp_path / "m", cfg) as master:
        first = await force_build(master)
        (Path(master.basedir) / "workers/local/b0/build/subdir/junk").write_text("j")
        second = await force_build(master)
    assert [first.results, second.results] == [SUCCESS, SUCCESS], second.summary
    build = second.worker_dir / "build"
    assert (build / "subdir" / "s.txt").read_text() == "in submodule\n"
    assert not (build / "subdir" / "junk").exists()


@pytest_twisted.ensureDeferred
async def test_missing_repository_fails(tmp_path: Path) -> None:
    cfg = make_config([steps.Git(repourl=str(tmp_path / "nothere"))])
    async with running_master(tmp_path / "m", cfg) as master:
        out = await force_build(master)
    assert out.summary == [("git", FAILURE, "update (failure)")]
    assert out.state_string == "failed update (failure)"


@pytest.mark.parametrize("cls,revision", [(steps.GitHub, "0" * 40), (steps.Gerrit, None)])
@pytest_twisted.ensureDeferred
async def test_github_merge_ref_and_gerrit_change(tmp_path: Path, repo: Path, cls: Any,
                                                  revision: str | None) -> None:
    merge = commit(repo, "pr.txt", "pr\n")
    git(repo, "update-ref", "refs/pull/1/merge", merge)
    git(repo, "update-ref", "refs/changes/05/5/2", merge)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    cfg = make_config([cls(repourl=str(repo), mode="full", method="clobber")])
    async with running_master(tmp_path / "m", cfg) as master:
        builderid = (await master.data.get(("builders",)))[0]["builderid"]
        done = wait_for_message(master, ("buildsets", None, "complete"))
        # GitHub: the revision of a /merge branch is ignored; Gerrit: the change's ref
        await master.data.updates.addBuildset(
            waited_for=False, scheduler="test", reason="pr", builderids=[builderid],
            sourcestamps=[{"codebase": "", "repository": "", "project": "p",
                           "branch": "refs/pull/1/merge" if revision else "main",
                           "revision": revision}],
            properties={"event.change.project": ("p", "test"), "gerrit_change": ("5/2", "t")})
        await done
        out = await collect_build(master, (await master.data.get(("builds",)))[-1]["buildid"])
    assert out.results == SUCCESS, out.summary
    assert (out.worker_dir / "build" / "pr.txt").read_text() == "pr\n"
    if cls is steps.Gerrit:
        assert out.props["gerrit_branch"] == "refs/changes/05/5/2"
