"""Latent workers of Buildbot 4.3 this master does not implement: a master.cfg using one
fails to load with an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildbot.config.errors import ConfigErrors
from buildbot.config.master import FileLoader

CFG = """
from buildbot.plugins import worker, util, steps, schedulers
c = BuildmasterConfig = {{}}
c['workers'] = [{worker}]
c['protocols'] = {{'pb': {{'port': 9989}}}}
c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b'])]
c['builders'] = [util.BuilderConfig(name='b', workernames=['w'],
                                    factory=util.BuildFactory([steps.ShellCommand(command='true')]))]
"""


@pytest.mark.parametrize(("expression", "named"), [
    ("worker.OpenStackLatentWorker('w', 'pw', flavor=1, os_username='u')",
     "OpenStackLatentWorker"),
])
def test_configuring_an_unimplemented_latent_worker_is_an_error_naming_it(
        tmp_path: Path, expression: str, named: str) -> None:
    (tmp_path / "master.cfg").write_text(CFG.format(worker=expression))
    with pytest.raises(ConfigErrors) as e:
        FileLoader(str(tmp_path), "master.cfg").loadConfig()
    assert any(msg.startswith(f"{named} (") and "not implemented" in msg
               for msg in e.value.errors), e.value.errors
