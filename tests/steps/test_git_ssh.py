"""Git steps with an ssh private key: the key (and known hosts) are written next to the
workdir on the worker, used through GIT_SSH_COMMAND, and removed afterwards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import FAILURE
from tests.fixtures.master import running_master, wait_for_message

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake key\n-----END OPENSSH PRIVATE KEY-----\n"

FAKE_SSH = """#!/bin/sh
# Records how git called ssh, then fails like an unreachable host.
while [ $# -gt 0 ]; do
  case "$1" in
    -i) shift; cp "$1" "{out}/key"; stat -c %a "$1" > "{out}/mode" ;;
    -o) shift; echo "$1" >> "{out}/options" ;;
  esac
  shift
done
exit 255
"""


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_private_key_and_host_key_reach_ssh_and_are_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    out = tmp_path / "out"
    bindir.mkdir()
    out.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text(FAKE_SSH.format(out=out))
    ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    cfg: dict[str, Any] = {
        "workers": [worker.LocalWorker("w")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b"])],
        "builders": [util.BuilderConfig(name="b", workernames=["w"], factory=util.BuildFactory([
            steps.Git(repourl="ssh://git@example.invalid/repo.git", mode="full",
                      method="clobber", sshPrivateKey=KEY,
                      sshHostKey="ssh-ed25519 AAAAfakehostkey")]))],
    }
    async with running_master(tmp_path / "m", cfg) as master:
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"builderNames": ["b"], "owner": "t"},
                                  ("forceschedulers", "force"))
        _, bs = await done
        assert bs["results"] == FAILURE  # the fake ssh refuses to connect
        assert (out / "key").read_text() == KEY
        assert (out / "mode").read_text().strip() == "400"
        options = (out / "options").read_text().split()
        assert "BatchMode=yes" in options
        known = [o for o in options if o.startswith("UserKnownHostsFile=")]
        assert len(known) == 1
        builder_dir = tmp_path / "m" / "workers" / "w" / "b"
        assert not (builder_dir / ".build.buildbot").exists()
