"""The distribution declares Buildbot 4.3's `buildbot.*` entry point groups, and third-party
plugins' entry points keep working beside them.

`reference_entry_points.json` is the `buildbot.*` part of 4.3.0's `entry_points.txt`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from buildbot.plugins import db

REFERENCE = json.loads((Path(__file__).parent / "reference_entry_points.json").read_text())


def test_installed_entry_points_are_the_references() -> None:
    dist = metadata.distribution("buildbot")
    ours: dict[str, dict[str, str]] = {}
    for ep in dist.entry_points:
        if ep.group.startswith("buildbot."):
            ours.setdefault(ep.group, {})[ep.name] = ep.value
    assert ours == REFERENCE


def test_the_loader_skips_our_own_entry_points() -> None:
    """Built-in components come from the registry; reading our entry points too would list
    every component twice (and report each as a duplicate)."""
    scanned = db._third_party_entry_points()
    assert all(ep.dist is None or ep.dist.metadata["Name"] != "buildbot"
               for eps in scanned.values() for ep in eps)


PLUGIN = '''
from buildbot.process.buildstep import BuildStep


class HelloStep(BuildStep):
    name = "hello"
'''

CHECK = '''
from buildbot.plugins import steps, util
from buildbot.plugins.db import get_plugins
print(steps.HelloStep.__module__, steps.ShellCommand.__name__, util.Interpolate.__name__)
print(steps.info("HelloStep"))
print(sum(1 for name in get_plugins("steps").names if name == "ShellCommand"))
'''


@pytest.mark.integration
def test_a_third_party_plugin_is_found_beside_the_built_in_components(tmp_path: Path) -> None:
    (tmp_path / "hello_plugin.py").write_text(PLUGIN)
    info = tmp_path / "hello_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[buildbot.steps]\nHelloStep = hello_plugin:HelloStep\n")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)], cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.splitlines() == ["hello_plugin ShellCommand Interpolate",
                                "hello-plugin 1.0", "1"]
