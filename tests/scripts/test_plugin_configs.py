"""master.cfg files using the services and utilities of issue 14 (user manager, build
cancellers, enforceChosenWorker, manholes, statistics) and importing the packages 4.3 installs
by default: `buildbot checkconfig` passes or fails exactly where 4.3's does."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.scripts.conftest import REPO_ROOT, run_cli

pytestmark = pytest.mark.integration
REFERENCE = Path("/work/refvenv/bin/buildbot")

# Packages 4.3 installs by default that configurations import as if always there.
DEFAULT_PACKAGES = {"PyYAML", "Jinja2", "python-dateutil", "croniter", "unidiff", "PyJWT",
                    "msgpack", "packaging", "setuptools"}

HEADER = """\
import croniter, dateutil.parser, jinja2, jwt, msgpack, packaging.version, unidiff, yaml
from buildbot.plugins import schedulers, statistics, steps, util, worker
from buildbot.manhole import TelnetManhole
c = BuildmasterConfig = {}
c['buildbotNetUsageData'] = None
c['workers'] = [worker.Worker('w1', 'pw'), worker.Worker('w2', 'pw')]
c['protocols'] = {'pb': {'port': 'tcp:0'}}
c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b'],
                                             properties=[util.WorkerChoiceParameter()])]
c['builders'] = [util.BuilderConfig(
    name='b', workernames=['w1', 'w2'], canStartBuild=util.enforceChosenWorker,
    factory=util.BuildFactory([steps.ShellCommand(command='true')]))]
"""

GOOD = HEADER + """
assert packaging.version.Version('4.3.0') > packaging.version.Version('4.2')
yaml.safe_load(jinja2.Template('a: {{ x }}').render(x=1))
c['user_managers'] = [util.CommandlineUserManager(username='u', passwd='p', port=9990)]
c['manhole'] = TelnetManhole(9999, 'admin', 'secret')
c['services'] = [
    util.OldBuildCanceller('old', filters=[(['b'], util.SourceStampFilter(branch_eq=['main']))]),
    util.FailingBuildsetCanceller('failing', filters=[(['b'], None, util.SourceStampFilter())]),
    statistics.StatsService(name='stats', storage_backends=[]),
]
cap = [statistics.CaptureProperty('b', 'p'), statistics.CapturePropertyAllBuilders('p'),
       statistics.CaptureBuildStartTime('b'), statistics.CaptureBuildStartTimeAllBuilders(),
       statistics.CaptureBuildEndTime('b'), statistics.CaptureBuildEndTimeAllBuilders(),
       statistics.CaptureBuildDuration('b', report_in='minutes'),
       statistics.CaptureBuildDurationAllBuilders(), statistics.CaptureData('d', 'b'),
       statistics.CaptureDataAllBuilders('d')]
"""

BAD = {
    "duration unit": "statistics.CaptureBuildDuration('b', report_in='days')",
    "canceller filters": "c['services'] = [util.OldBuildCanceller('old', filters='b')]",
    "buildset canceller filters": (
        "c['services'] = [util.FailingBuildsetCanceller('x', filters=[(['b'], "
        "util.SourceStampFilter())])]"),
}


def checkconfig_ours(basedir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("checkconfig", str(basedir), cwd=basedir)


def checkconfig_reference(basedir: Path) -> subprocess.CompletedProcess[str] | None:
    if not REFERENCE.exists():
        return None
    return subprocess.run([str(REFERENCE), "checkconfig", str(basedir)], cwd=str(basedir),
                          capture_output=True, text=True, timeout=120, check=False)


def write_master(tmp_path: Path, text: str) -> Path:
    basedir = tmp_path / "master"
    basedir.mkdir()
    (basedir / "master.cfg").write_text(text)
    return basedir


def test_good_config_passes_checkconfig(tmp_path: Path) -> None:
    basedir = write_master(tmp_path, GOOD)
    ours = checkconfig_ours(basedir)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    ref = checkconfig_reference(basedir)
    if ref is not None:
        assert ref.returncode == 0, ref.stdout + ref.stderr


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_arguments_fail_checkconfig_as_in_4_3(tmp_path: Path, name: str) -> None:
    basedir = write_master(tmp_path, HEADER + BAD[name] + "\n")
    ours = checkconfig_ours(basedir)
    assert ours.returncode == 1, ours.stdout + ours.stderr
    ref = checkconfig_reference(basedir)
    if ref is not None:
        assert ref.returncode == 1, ref.stdout + ref.stderr


def install_requires() -> list[str]:
    tree = ast.parse((REPO_ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]  # a list node here
    raise AssertionError("no install_requires in setup.py")


def test_packages_4_3_installs_by_default_are_dependencies() -> None:
    declared = {r.split(">")[0].split("<")[0].split("=")[0].strip().lower()
                for r in install_requires()}
    assert {p.lower() for p in DEFAULT_PACKAGES} <= declared
