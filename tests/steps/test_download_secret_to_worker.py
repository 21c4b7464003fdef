"""Secrets written to files on the worker for some steps, then removed."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, secrets, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, stdout_of

pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_with_secrets_writes_then_removes_the_file(tmp_path: Path) -> None:
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    (secret_dir / "key").write_text("s3cr3t")
    secret_dir.chmod(0o700)
    (secret_dir / "key").chmod(0o600)
    target = str(tmp_path / "onworker" / "key.txt")
    factory = util.BuildFactory()
    factory.addSteps([steps.ShellCommand(command=["cat", target], name="use"),
                      steps.ShellCommand(command=["stat", "-c", "%a", target], name="mode")],
                     withSecrets=[(target, util.Interpolate("%(secret:key)s"))])
    cfg = {
        "workers": [worker.LocalWorker("local")],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])],
        "builders": [util.BuilderConfig(name="b0", workernames=["local"], factory=factory)],
        "secretsProviders": [secrets.SecretInAFile(dirname=str(secret_dir))],
    }
    async with running_master(tmp_path / "m", cfg) as master:
        out = await force_build(master)
    assert [s[:2] for s in out.summary] == [
        ("generic", SUCCESS), ("use", SUCCESS), ("mode", SUCCESS), ("generic_1", SUCCESS)]
    assert stdout_of(out.steps[3].logs["stdio"]) == "600\n"
    assert "s3cr3t" in stdout_of(out.steps[2].logs["stdio"]) or \
        "<key>" in stdout_of(out.steps[2].logs["stdio"])
    assert not Path(target).exists()
