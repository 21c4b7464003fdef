"""BuildFactory: adding steps and the factory's settings (§3.3).

Lives with the config tests because BuildFactory is a master.cfg class owned by this part.
"""

from __future__ import annotations

import pytest

from buildbot.interfaces import IBuildStepFactory
from buildbot.process.buildstep import BuildStep
from buildbot.process.factory import BuildFactory


def test_class_settings() -> None:
    assert (BuildFactory.workdir, BuildFactory.useProgress, BuildFactory.buildClass,
            BuildFactory().steps) == ("build", True, None, [])


def test_steps_are_stored_as_step_factories_in_order() -> None:
    first, second, third = BuildStep(name="one"), BuildStep(name="two"), BuildStep(name="three")
    f = BuildFactory([first])
    f.addStep(second)
    f.addSteps([third])

    assert ([IBuildStepFactory.providedBy(s) for s in f.steps],
            [s.buildStep().name for s in f.steps]) == ([True] * 3, ["one", "two", "three"])


def test_a_step_factory_is_accepted_as_is() -> None:
    factory = BuildStep(name="x").get_step_factory()
    f = BuildFactory()
    f.addStep(factory)
    assert f.steps == [factory]


@pytest.mark.parametrize("bad", [3, BuildStep, "ls"])
def test_non_steps_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="^step must be an instance of a BuildStep$"):
        BuildFactory().addStep(bad)


def test_skip_build_if() -> None:
    f = BuildFactory()
    default = f.skipBuildIf
    f.setSkipBuildIf(bool)
    assert (default, f.skipBuildIf) == (False, bool)


def test_factories_compare_by_settings_and_steps() -> None:
    step = BuildStep(name="s")
    other = BuildFactory([step])
    other.workdir = "elsewhere"
    assert (BuildFactory([step]) == BuildFactory([step]), BuildFactory([step]) == other) == (
        True, False)


def test_with_secrets_surrounds_the_steps() -> None:
    f = BuildFactory()
    with f.withSecrets([("path", "value")]):
        f.addStep(BuildStep(name="inside"))
    f.addSteps([BuildStep(name="again")], withSecrets=[("p2", "v2")])

    assert [type(s.buildStep()).__name__ for s in f.steps] == [
        "DownloadSecretsToWorker", "BuildStep", "RemoveWorkerFileSecret",
        "DownloadSecretsToWorker", "BuildStep", "RemoveWorkerFileSecret"]
