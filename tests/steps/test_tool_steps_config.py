"""Constructor checks of the tool steps and canned factories: the same config errors and
exceptions as Buildbot 4.3.0 (`tool_ctor_errors_4.3.json`, recorded by
`record_tool_ctor_errors.py`), and every step name of these modules loads from the plugins."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from buildbot.plugins import steps, util

sys.path.insert(0, str(Path(__file__).parent))
from record_tool_ctor_errors import outcomes

our_outcomes = functools.cache(outcomes)
RECORDED = json.loads((Path(__file__).parent / "tool_ctor_errors_4.3.json").read_text())

STEP_NAMES = ["BuildEPYDoc", "PyFlakes", "PyLint", "Sphinx", "Trial", "HLint", "RemovePYCs", "CMake", "Cppcheck", "MaxQ", "SubunitShellCommand", "GitDiffInfo", "HTTPStep", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BuildbotCiSetupSteps", "BuildbotTestCiTrigger"]
FACTORY_NAMES = ["GNUAutoconf", "CPAN", "Distutils", "Trial", "BasicBuildFactory", "QuickBuildFactory", "BasicSVN"]


def _without_class_module(outcome: list[object]) -> list[object]:
    # 4.3 prints every step class as `buildbot.process.buildstep.<Name>` in this message
    # (a quirk of its step metaclass); the class name is what matters
    kind, detail = outcome
    fix = lambda text: re.sub(r"<class '[\w.]+\.(\w+)'>", r"<class \1>", text)
    return [kind, [fix(t) for t in detail] if isinstance(detail, list) else fix(str(detail))]


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_constructor_outcome_matches_buildbot_4_3(case: str) -> None:
    if case.startswith("subunit") and importlib.util.find_spec("subunit") is None:
        pytest.skip("python-subunit not installed (pip install python-subunit)")
    assert _without_class_module(our_outcomes()[case]) == _without_class_module(RECORDED[case])


@pytest.mark.parametrize("name", STEP_NAMES)
def test_step_name_loads_from_plugins(name: str) -> None:
    cls = getattr(steps, name)
    assert cls.__name__ == name and cls.__module__.startswith("buildbot.steps.")


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_factory_name_loads_from_plugins(name: str) -> None:
    assert getattr(util, name).__module__ == "buildbot.process.factory"


def test_configurable_build_factory_is_build_factory() -> None:
    from buildbot.process import factory

    assert factory.ConfigurableBuildFactory is factory.BuildFactory
