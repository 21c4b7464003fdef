"""The canned factories (GNUAutoconf, CPAN, Distutils, Trial, BasicBuildFactory) create the
same steps with the same arguments as Buildbot 4.3.0 (`canned_factories_4.3.json`, recorded
by `record_canned_factories.py`); a GNUAutoconf build runs its steps on a real worker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import SUCCESS
from tests.fixtures.master import running_master
from tests.steps.harness import force_build

sys.path.insert(0, str(Path(__file__).parent))
from record_canned_factories import outcomes

RECORDED = json.loads((Path(__file__).parent / "canned_factories_4.3.json").read_text())


def test_steps_match_buildbot_4_3() -> None:
    assert outcomes() == RECORDED


CONFIGURE = "#!/bin/sh\necho configured \"$@\" > configured.txt\n"
MAKEFILE = "all:\n\techo compiled > compiled.txt\ncheck:\n\techo checked\ndistcheck:\n\ttrue\n"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_gnu_autoconf_build_runs_every_stage(tmp_path: Path) -> None:
    factory = util.GNUAutoconf(steps.ShellCommand(command="true", name="source"),
                               configureFlags=["--prefix=/opt"])
    cfg = {"workers": [worker.LocalWorker("local")],
           "builders": [util.BuilderConfig(name="b0", workernames=["local"], factory=factory)],
           "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"])]}
    async with running_master(tmp_path / "m", cfg) as master:
        build_dir = Path(master.basedir) / "workers" / "local" / "b0" / "build"
        build_dir.mkdir(parents=True)
        (build_dir / "configure").write_text(CONFIGURE)
        (build_dir / "configure").chmod(0o755)
        (build_dir / "Makefile").write_text(MAKEFILE)
        out = await force_build(master)
    assert out.summary == [("source", SUCCESS, "'true'"), ("configure", SUCCESS, "configure"),
                           ("compile", SUCCESS, "compile"), ("test", SUCCESS, "test"),
                           ("test_1", SUCCESS, "test")]
    assert (build_dir / "configured.txt").read_text() == "configured --prefix=/opt\n"
    assert (build_dir / "compiled.txt").exists()

