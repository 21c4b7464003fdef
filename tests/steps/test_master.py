"""Steps that run on the master, in real builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import steps, util
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.steps.harness import collect_build, make_config, run_build, stdout_of

pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_master_shell_command_runs_on_the_master(tmp_path: Path) -> None:
    where = tmp_path / "here"
    where.mkdir()
    out = await run_build(tmp_path, [
        steps.MasterShellCommand(command="echo $GREETING; pwd", workdir=str(where),
                                 env={"GREETING": ["hi", "there"]}),
        steps.MasterShellCommand(command=["sh", "-c", "exit 3"], name="fails",
                                 haltOnFailure=False),
        steps.MasterShellCommand(command="kill -TERM $$", name="killed"),
    ])
    assert out.summary == [
        ("MasterShellCommand", SUCCESS, "Ran"),
        ("fails", FAILURE, "failed (3) (failure)"),
        ("killed", FAILURE, "killed (15) (failure)"),
    ]
    stdio = out.steps[1].logs["stdio"]
    assert stdout_of(stdio) == f"hi:there\n{where}\n"
    assert "h** RUNNING ON BUILDMASTER **\n" in stdio
    assert "hexit status 3\n" in out.steps[2].logs["stdio"]


@pytest_twisted.ensureDeferred
async def test_master_shell_command_interrupted_is_cancelled(tmp_path: Path) -> None:
    cfg = make_config([steps.MasterShellCommand(command="sleep 30")])
    async with running_master(tmp_path / "m", cfg) as master:
        started = wait_for_message(master, ("logs", None, "new"))
        done = wait_for_message(master, ("buildsets", None, "complete"))
        await master.data.control("force", {"builderNames": ["b0"]},
                                  ("forceschedulers", "force"))
        await started
        builds = await master.data.get(("builds",))
        await master.data.control("stop", {"reason": "enough"},
                                  ("builds", builds[0]["buildid"]))
        await done
        out = await collect_build(master, builds[0]["buildid"])
    assert out.summary[0][:2] == ("MasterShellCommand", CANCELLED)
    assert out.results == CANCELLED
    assert out.steps[1].logs["cancelled"] == "enough\n"


@pytest_twisted.ensureDeferred
async def test_set_property_set_properties_assert_and_log(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.SetProperty(property="a", value=util.Interpolate("%(prop:base)s-x")),
        steps.SetProperties(properties={"b": 1, "c": [1, 2]}),
        steps.SetProperties(properties=util.Transform(
            lambda v: {"d": v + "!"}, util.Property("a"))),
        steps.Assert(util.Property("a")),
        steps.Assert(util.Property("nothere"), name="no", flunkOnFailure=False),
        steps.LogRenderable(util.Property("c")),
    ], properties={"base": "B"})
    assert (out.props["a"], out.props["b"], out.props["c"], out.props["d"]) == (
        "B-x", 1, [1, 2], "B-x!")
    assert out.prop_sources["a"] == "SetProperty"
    assert out.prop_sources["b"] == "SetProperties"
    assert out.summary == [
        ("SetProperty", SUCCESS, "Set"),
        ("SetProperties", SUCCESS, "Properties Set"),
        ("SetProperties_1", SUCCESS, "Properties Set"),
        ("Assert", SUCCESS, "checked Property(a)"),
        ("no", FAILURE, "checked Property(nothere) (failure)"),
        ("LogRenderable", SUCCESS, "Logged"),
    ]
    assert out.results == SUCCESS
    assert out.steps[6].logs["Output"] == "[1, 2]\n"
