"""`.bbtravis.yml`-driven steps: parsing compared with Buildbot 4.3.0 (`configurable_4.3.json`,
recorded by `record_configurable.py`), and real builds of BuildbotCiSetupSteps (steps added
from the file, conditions, missing/bad files) and BuildbotTestCiTrigger (one triggered build
per matrix entry, with its properties)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import schedulers, steps, util, worker
from buildbot.process.results import FAILURE, SUCCESS
from tests.fixtures.master import running_master, wait_for_message
from tests.steps.harness import collect_build, run_build, stdout_of

sys.path.insert(0, str(Path(__file__).parent))
from record_configurable import outcomes

RECORDED = json.loads((Path(__file__).parent / "configurable_4.3.json").read_text())


def test_parsing_matches_buildbot_4_3() -> None:
    assert outcomes() == RECORDED


def ci_file(text: str, name: str = ".bbtravis.yml") -> Any:
    def prepare(builder_dir: Path) -> None:
        (builder_dir / "build").mkdir(parents=True, exist_ok=True)
        (builder_dir / "build" / name).write_text(text)
    return prepare


SETUP = """\
before_script: echo before
script:
  - echo $GREETING
  - title: tagged step
    step: !ShellCommand {command: [echo, from-tag], name: from-tag}
  - cmd: echo never
    condition: "False"
  - cmd: echo only-with-flag
    condition: flag == 'yes' and GREETING != ''
    title: conditional
  - title: no command
after_script:
  - !ShellCommand {command: echo after, name: after}
"""


@pytest.mark.integration
@pytest.mark.skipif(importlib.util.find_spec("evalidate") is None,
                    reason="evalidate not installed (pip install evalidate)")
@pytest_twisted.ensureDeferred
async def test_setup_steps_add_the_scripts_as_steps(tmp_path: Path) -> None:
    out = await run_build(tmp_path, [steps.BuildbotCiSetupSteps()], before=ci_file(SETUP),
                          properties={"GREETING": "hello", "flag": "yes"})
    assert out.summary == [
        ("setup-steps", SUCCESS, "finished"),
        ("echo before", SUCCESS, "'echo before'"),
        ("echo $GREETING", SUCCESS, "'echo $GREETING'"),
        ("from-tag", SUCCESS, "'echo from-tag'"),
        ("conditional", SUCCESS, "'echo only-with-flag'"),
        ("after", SUCCESS, "'echo after'"),
    ]
    setup = out.step("setup-steps")
    assert list(setup.logs) == [".bbtravis.yml", "BuildbotCiSetupSteps error"]
    assert setup.logs["BuildbotCiSetupSteps error"] == \
        "Neither step nor cmd is defined: {'title': 'no command'}\n"
    # every build property reaches the generated commands' environment
    assert stdout_of(out.step("echo $GREETING").logs["stdio"]) == "hello\n"


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_missing_and_bad_files_fail_the_step(tmp_path: Path) -> None:
    missing = await run_build(tmp_path / "a", [steps.BuildbotCiSetupSteps()])
    bad = await run_build(tmp_path / "b", [steps.BuildbotCiSetupSteps()],
                          before=ci_file("script: {a: 1}\n", ".buildbot-ci.yml"))
    assert missing.summary == [("setup-steps", FAILURE,
                                "failed to read configuration (failure)")]
    assert missing.step("setup-steps").logs["error"].startswith(
        "Failed to read configuration from files ['.bbtravis.yml', '.buildbot-ci.yml']: got ")
    assert bad.summary == [("setup-steps", FAILURE,
                            "bad configuration file .buildbot-ci.yml (failure)")]
    assert list(bad.step("setup-steps").logs) == [".buildbot-ci.yml", "error"]
    assert bad.step("setup-steps").logs["error"] == \
        "Bad configuration file:\n'script' parameter is invalid\n"


MATRIX = """\
env:
  global: TOKEN=x
label_mapping:
  PY: python
matrix:
  include:
    - env: PY=3.11 DB=sqlite
    - env: PY=3.12
      TESTS: slow
"""


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_ci_trigger_starts_one_build_per_matrix_entry(tmp_path: Path) -> None:
    cfg = {
        "workers": [worker.LocalWorker("local", max_builds=3)],
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["spawner"]),
                       schedulers.Triggerable(name="jobs", builderNames=["job"])],
        "builders": [
            util.BuilderConfig(name="spawner", workernames=["local"], tags=["spawner", "ci"],
                               factory=util.BuildFactory(
                                   [steps.BuildbotTestCiTrigger(scheduler="jobs")])),
            util.BuilderConfig(name="job", workernames=["local"], factory=util.BuildFactory(
                [steps.ShellCommand(command="echo $PY")]))],
    }
    async with running_master(tmp_path / "m", cfg) as master:
        ci_file(MATRIX)(Path(master.basedir) / "workers" / "local" / "spawner")
        builders = {b["name"]: b["builderid"] for b in await master.data.get(("builders",))}
        done = wait_for_message(master, ("builds", None, "finished"),
                                lambda k, b: b["builderid"] == builders["spawner"], timeout=60)
        await master.data.control("force", {"builderNames": ["spawner"]},
                                  ("forceschedulers", "force"))
        _, body = await done
        parent = await collect_build(master, body["buildid"])
        children = [await collect_build(master, b["buildid"])
                    for b in await master.data.get(("builds",))
                    if b["buildid"] != body["buildid"]]
    step = parent.step("buildbot-test-ci trigger")
    assert step.results == SUCCESS
    assert step.state_string.startswith("triggered jobs")
    assert len(step.urls) == 4  # a request URL and a build URL per triggered build
    got = sorted((c.props["matrix_label"], c.props["virtual_builder_name"],
                  c.props["virtual_builder_tags"], c.props.get("DB"), c.props.get("TESTS"),
                  c.props["TOKEN"], c.prop_sources["PY"]) for c in children)
    assert got == [
        ("DB:sqlite/python:3.11", "ci DB:sqlite python:3.11",
         ["ci", "DB:sqlite", "python:3.11", "_virtual_"], "sqlite", None, "x",
         "BuildbotTestCiTrigger"),
        ("TESTS:slow/python:3.12", "ci TESTS:slow python:3.12",
         ["ci", "TESTS:slow", "python:3.12", "_virtual_"], None, "slow", "x",
         "BuildbotTestCiTrigger"),
    ]
    assert [c.results for c in children] == [SUCCESS, SUCCESS]


def test_conditions_need_evalidate_only_when_used() -> None:
    from buildbot.steps.configurable import evaluate_condition

    if importlib.util.find_spec("evalidate") is None:
        with pytest.raises(ImportError, match="evalidate"):
            evaluate_condition("1", {})
        return
    assert evaluate_condition("x + 2 == 4 and s[1:] == 'bc' and (1, 2)[0]", {
        "x": 2, "s": "abc"}) is True
    # the reference allows "Mul", which is no AST node name: multiplication is refused there
    with pytest.raises(Exception, match="Mult"):
        evaluate_condition("x * 2", {"x": 1})
    with pytest.raises(Exception):  # noqa: B017 (evalidate's own exception types)
        evaluate_condition("__import__('os')", {})
