"""The Visual Studio version classes made from the release table: importable, picklable by
name, in 4.3's hierarchy, with 4.3's defaults; and the observer's class-level counters."""

from __future__ import annotations

import pickle

import pytest

from buildbot.steps import vstudio

# (class, its 4.3 parent) for every class the table makes
PARENTS = {"VC9": "VC8", "VC10": "VC9", "VC11": "VC10", "VC12": "VC11", "VC14": "VC12",
           "VC141": "VC14", "VS2019": "VC141", "VS2022": "VC141", "MsBuild12": "MsBuild4",
           "MsBuild14": "MsBuild4", "MsBuild16": "MsBuild141", "MsBuild17": "MsBuild141"}


@pytest.mark.parametrize("name", sorted(PARENTS))
def test_table_class_is_a_real_module_class(name: str) -> None:
    cls = getattr(vstudio, name)
    assert (cls.__name__, cls.__qualname__, cls.__module__) == (name, name,
                                                                "buildbot.steps.vstudio")
    assert cls.__bases__ == (getattr(vstudio, PARENTS[name]),)
    assert pickle.loads(pickle.dumps(cls)) is cls


def test_step_instance_round_trips_through_pickle() -> None:
    step = vstudio.VS2019(projectfile="a.sln", config="Debug", arch="x64")
    copy = pickle.loads(pickle.dumps(step))
    assert type(copy) is vstudio.VS2019
    assert (copy.projectfile, copy.config, copy.arch) == ("a.sln", "Debug", "x64")


def test_aliases_and_generated_defaults() -> None:
    assert vstudio.VS2008 is vstudio.VC9 and vstudio.VS2017 is vstudio.VC141
    assert vstudio.VC12.default_installdir == "C:\\Program Files\\Microsoft Visual Studio 12.0"
    assert vstudio.MsBuild14.vcenv_bat == r"${VS140COMNTOOLS}..\..\VC\vcvarsall.bat"
    assert vstudio.MsBuild16.version_range == "[16.0,17.0)"


def test_observer_counters_exist_on_the_class() -> None:
    obs = vstudio.MSLogLineObserver
    assert (obs.nbProjects, obs.nbFiles, obs.nbWarnings, obs.nbErrors) == (0, 0, 0, 0)
    assert obs.logwarnings is None and obs.logerrors is None
