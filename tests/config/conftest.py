"""Helpers for configuration tests: write a master.cfg into tmp_path and load it."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from buildbot.config.errors import ConfigErrors
from buildbot.config.master import MasterConfig, load_master_config

# A valid single-master setup the tests modify; `f` is an empty BuildFactory.
PREAMBLE = """\
from buildbot.plugins import util
from buildbot.process.factory import BuildFactory
from tests.config.cfgclasses import (CfgChangeSource, CfgConfigurator, CfgMachine,
                                     CfgScheduler, CfgService, CfgWorker)
c = BuildmasterConfig = {}
c['buildbotNetUsageData'] = None
f = BuildFactory()
"""

GOOD_SETUP = """\
c['protocols'] = {'pb': {'port': 9989}}
c['workers'] = [CfgWorker('w1')]
c['builders'] = [util.BuilderConfig(name='b1', workernames=['w1'], factory=f)]
c['schedulers'] = [CfgScheduler('s1', ['b1'])]
"""


@pytest.fixture
def write_cfg(tmp_path: Path) -> Callable[[str], Path]:
    """Write PREAMBLE + the dedented body to tmp_path/master.cfg; return the basedir."""

    def write(body: str, preamble: str = PREAMBLE) -> Path:
        (tmp_path / "master.cfg").write_text(preamble + textwrap.dedent(body), encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture
def load(write_cfg: Callable[[str], Path]) -> Callable[[str], MasterConfig]:
    """Write the body and load it; warnings are ignored (tests of warnings use `recwarn`)."""

    def do_load(body: str) -> MasterConfig:
        basedir = write_cfg(body)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_master_config(str(basedir))

    return do_load


@pytest.fixture
def errors_of(load: Callable[[str], MasterConfig]) -> Callable[[str], list[str]]:
    """Load the body and return the messages of the ConfigErrors it must raise."""

    def get(body: str) -> list[str]:
        with pytest.raises(ConfigErrors) as info:
            load(body)
        return info.value.errors

    return get
