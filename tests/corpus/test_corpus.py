"""A corpus of realistic master.cfg files (in the styles real projects use) must pass
`buildbot checkconfig` and start a master."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, threads

from buildbot.master import BuildMaster
from tests.fixtures.master import create_database

CONFIGS = sorted((Path(__file__).parent / "configs").glob("*.cfg"))
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    repo = tmp_path_factory.mktemp("repo")
    env = dict(os.environ, GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.com",
               GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@example.com")
    for cmd in (["git", "init", "-q", "-b", "master"], ["git", "commit", "-q", "--allow-empty",
                                                         "-m", "first"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env)
    return str(repo)


def prepare(basedir: Path, template: Path, repo: str) -> None:
    text = template.read_text()
    for key in ("PB_PORT", "WWW_PORT", "MSG_PORT", "TRY_PORT"):
        text = text.replace("{" + key + "}", str(free_port()))
    text = text.replace("{REPO}", repo)
    basedir.mkdir(parents=True)
    (basedir / "master.cfg").write_text(text)
    secrets = basedir / "secrets"
    secrets.mkdir(mode=0o700)
    token = secrets / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o600)


@pytest.mark.integration
@pytest.mark.parametrize("template", CONFIGS, ids=[c.stem for c in CONFIGS])
@pytest_twisted.ensureDeferred
async def test_config_checks_and_starts(tmp_path: Path, template: Path, git_repo: str) -> None:
    basedir = tmp_path / "master"
    prepare(basedir, template, git_repo)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    check = await threads.deferToThread(
        subprocess.run, [sys.executable, "-m", "buildbot.scripts.runner", "checkconfig",
                         str(basedir)], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Config file is good!" in check.stdout
    await create_database(str(basedir), f"sqlite:///{basedir / 'state.sqlite'}")
    from twisted.internet import reactor

    master = BuildMaster(str(basedir), reactor=reactor)
    await master.startService()
    try:
        assert master.masterid is not None
        assert master.botmaster.builders, "no builder was configured"
        builders = await master.data.get(("builders",))
        assert sorted(b["name"] for b in builders) == sorted(master.botmaster.builders)
    finally:
        await defer.maybeDeferred(master.stopService)
