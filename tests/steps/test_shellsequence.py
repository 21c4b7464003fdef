"""ShellSequence and util.ShellArg."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import steps, util
from buildbot.process.results import EXCEPTION, FAILURE, WARNINGS
from tests.steps.harness import run_build, stdout_of

pytestmark = pytest.mark.integration


def test_shell_arg_validation_messages() -> None:
    with capture_config_errors() as errors:
        util.ShellArg()
        util.ShellArg(command="x", bogus=True)
        steps.ShellSequence(commands=[], command="x")
    assert errors.errors == [
        "the 'command' parameter of ShellArg must not be None",
        "the parameter 'bogus' is not handled by ShellArg",
        "invalid ShellSequence argument command",
    ]


@pytest_twisted.ensureDeferred
async def test_sequence_merges_results_and_halts(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [
        steps.ShellSequence(commands=[
            util.ShellArg(command="echo one", logname="first"),
            util.ShellArg(command="exit 1", logname="second", flunkOnFailure=False,
                          warnOnFailure=True),
            util.ShellArg(command=util.Interpolate("echo %(prop:p)s"), logname="third"),
            util.ShellArg(command="echo silent"),
        ]),
        steps.ShellSequence(name="halting", commands=[
            util.ShellArg(command="exit 1", logname="a", haltOnFailure=True),
            util.ShellArg(command="echo never", logname="b"),
        ]),
        steps.ShellSequence(name="bad", commands=[util.ShellArg(command=3)]),
    ], properties={"p": "rendered"})
    assert out.summary == [
        ("generic", WARNINGS, "'echo silent' (warnings)"),
        ("halting", FAILURE, "'exit 1' (failure)"),
        ("bad", EXCEPTION, "finished (exception)"),
    ]
    assert set(out.steps[1].logs) == {"first", "second", "third"}
    assert stdout_of(out.steps[1].logs["third"]) == "rendered\n"
    assert set(out.steps[2].logs) == {"a"}
    assert out.results == EXCEPTION
