"""Constructor checks of the Visual Studio, Robocopy, package and other version-control
steps: the same config errors and exceptions as Buildbot 4.3.0
(`fixtures/platform_ctor_errors_4_3.json`, recorded by `record_platform_ctor_errors.py`),
the same class defaults (`fixtures/platform_class_defaults_4_3.json`, recorded with
`--defaults`), and every step name of these modules loads from the plugins."""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from buildbot.plugins import steps, util

sys.path.insert(0, str(Path(__file__).parent))
from record_platform_ctor_errors import class_defaults, outcomes

our_outcomes = functools.cache(outcomes)
RECORDED = json.loads(
    (Path(__file__).parent / "fixtures" / "platform_ctor_errors_4_3.json").read_text())

# Deliberate differences: 4.3 crashes with a TypeError (`" " in None` on the missing
# p4branch); here every problem is named.
DIFFERENT = {
    "p4_stream_errors": ["config", [
        "You can't use p4extra_views not p4viewspec with stream",
        "You must specify both p4base and p4branch when using stream",
        "p4base must not contain any whitespace"]],
}

STEP_NAMES = {
    "buildbot.steps.vstudio": (
        "VC6 VC7 VC8 VC9 VC10 VC11 VC12 VC14 VC141 VCExpress9 VS2003 VS2005 VS2008 VS2010 "
        "VS2012 VS2013 VS2015 VS2017 VS2019 VS2022 MsBuild MsBuild4 MsBuild12 MsBuild14 "
        "MsBuild141 MsBuild15 MsBuild16 MsBuild17"),
    "buildbot.steps.mswin": "Robocopy",
    "buildbot.steps.package.rpm.rpmbuild": "RpmBuild",
    "buildbot.steps.package.rpm.rpmlint": "RpmLint",
    "buildbot.steps.package.rpm.mock": "Mock MockBuildSRPM MockRebuild",
    "buildbot.steps.package.deb.pbuilder": "DebPbuilder DebCowbuilder UbuPbuilder UbuCowbuilder",
    "buildbot.steps.package.deb.lintian": "DebLintian",
    "buildbot.steps.source.bzr": "Bzr",
    "buildbot.steps.source.cvs": "CVS",
    "buildbot.steps.source.darcs": "Darcs",
    "buildbot.steps.source.mtn": "Monotone",
    "buildbot.steps.source.p4": "P4",
    "buildbot.steps.source.repo": "Repo",
}
# As in 4.3 these names are aliases of other classes, not classes of their own.
ALIASES = {"VS2003": "VC7", "VS2005": "VC8", "VS2008": "VC9", "VS2010": "VC10",
           "VS2012": "VC11", "VS2013": "VC12", "VS2015": "VC14", "VS2017": "VC141",
           "MsBuild": "MsBuild4", "MsBuild15": "MsBuild141"}


def _without_class_module(outcome: list[Any]) -> list[Any]:
    # 4.3 prints every step class as `buildbot.process.buildstep.<Name>` in this message
    kind, detail = outcome
    fix = lambda text: re.sub(r"<class '[\w.]+\.(\w+)'>", r"<class \1>", text)
    return [kind, [fix(t) for t in detail] if isinstance(detail, list) else fix(str(detail))]


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_constructor_outcome_matches_buildbot_4_3(case: str) -> None:
    expected = DIFFERENT.get(case, RECORDED[case])
    assert _without_class_module(our_outcomes()[case]) == _without_class_module(expected)


@pytest.mark.parametrize("module,name", [(m, n) for m, names in STEP_NAMES.items()
                                         for n in names.split()])
def test_step_name_loads_from_plugins(module: str, name: str) -> None:
    cls = getattr(steps, name)
    assert cls.__name__ == ALIASES.get(name, name)
    assert cls.__module__ == module


def test_rpm_package_reexports_and_repo_renderables() -> None:
    from buildbot.steps.package import rpm

    assert (rpm.RpmBuild, rpm.RpmLint, rpm.MockBuildSRPM, rpm.MockRebuild) == (
        steps.RpmBuild, steps.RpmLint, steps.MockBuildSRPM, steps.MockRebuild)
    assert util.repo.DownloadsFromProperties.__module__ == "buildbot.steps.source.repo"


# (property text, downloads) as Buildbot 4.3.0's RepoDownloadsFromProperties parses them
REPO_DOWNLOADS_4_3 = [
    ("repo download proj 12/3 repo download p2 4/5", ["proj 12/3", "p2 4/5"]),
    ("proj 12/3 other/7/8", ["proj 12/3", "other 7/8"]),
    ("x/1/2 y 3/4", ["y 3/4", "x 1/2"]),
    (None, []),
]


@pytest.mark.parametrize("text,downloads", REPO_DOWNLOADS_4_3)
def test_repo_download_property_parsed_as_in_4_3(text: str | None,
                                                 downloads: list[str]) -> None:
    parser = util.repo.DownloadsFromProperties(["p"])
    assert parser.parseDownloadProperty(text) == downloads


DEFAULTS_4_3 = json.loads(
    (Path(__file__).parent / "fixtures" / "platform_class_defaults_4_3.json").read_text())


@pytest.mark.parametrize("name", sorted(DEFAULTS_4_3))
def test_class_defaults_match_buildbot_4_3(name: str) -> None:
    """Names, descriptions, install directories, vcvarsall/vswhere settings, chroot
    defaults, failure flags and the renderable attributes, per step class."""
    ours = json.loads(json.dumps(class_defaults()[name], default=repr))
    assert ours == DEFAULTS_4_3[name]
