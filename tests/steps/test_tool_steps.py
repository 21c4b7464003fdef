"""CMake, Cppcheck, SubunitShellCommand, GitDiffInfo, MaxQ and HLint in real builds on a
LocalWorker, with the real tools where they exist (cmake, cppcheck, python-subunit, git)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.plugins import steps, util
from buildbot.process.results import FAILURE, SKIPPED, SUCCESS
from buildbot.steps.maxq import MaxQ
from tests.fixtures.master import running_master
from tests.steps.harness import force_build, make_config, run_build, stdout_of

pytestmark = pytest.mark.integration


def needs_tool(tool: str, package: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(tool) is None,
                              reason=f"{tool} not installed (apt-get install {package})")


CMAKELISTS = """\
cmake_minimum_required(VERSION 3.10)
project(demo C)
message(STATUS "BUILD_TYPE=${CMAKE_BUILD_TYPE} FLAG=${FLAG}")
add_executable(demo main.c)
"""


@needs_tool("cmake", "cmake")
@pytest_twisted.ensureDeferred
async def test_cmake_configures_with_definitions_and_options(tmp_path: Path) -> None:
    def prepare(builder_dir: Path) -> None:
        src = builder_dir / "build"
        (src / "out").mkdir(parents=True)
        (src / "CMakeLists.txt").write_text(CMAKELISTS)
        (src / "main.c").write_text("int main(void) { return 0; }\n")

    out = await run_build(tmp_path, [
        steps.CMake(path="..", definitions={"CMAKE_BUILD_TYPE": "Release",
                                            "FLAG": util.Property("flag")},
                    options=["-Wno-dev"], workdir="build/out"),
        steps.CMake(path="nowhere", name="broken"),
        steps.ShellCommand(command="true", name="after")],
        before=prepare, properties={"flag": "on"})
    cmake, broken = out.step("cmake"), out.step("broken")
    assert (cmake.results, cmake.state_string) == (SUCCESS, "cmake")
    stdio = cmake.logs["stdio"]
    assert "cmake -DCMAKE_BUILD_TYPE=Release -DFLAG=on -Wno-dev .." in stdio
    assert "BUILD_TYPE=Release FLAG=on" in stdout_of(stdio)
    assert (out.worker_dir / "build" / "out" / "CMakeCache.txt").exists()
    # a failed configure halts the build
    assert (broken.results, broken.state_string) == (FAILURE, "cmake (failure)")
    assert [s.name for s in out.steps][-1] == "broken"


C_SOURCE = """\
int main(void) {
    int buf[4];
    buf[10] = 1;
    return buf[0];
}
"""


# the message format the step reads (cppcheck's own before version 2)
OLD_TEMPLATE = "--template=[{file}:{line}]: ({severity}) {message}"


@needs_tool("cppcheck", "cppcheck")
@pytest_twisted.ensureDeferred
async def test_cppcheck_counts_by_severity(tmp_path: Path) -> None:
    def prepare(builder_dir: Path) -> None:
        (builder_dir / "build" / "src").mkdir(parents=True)
        (builder_dir / "build" / "src" / "a.c").write_text(C_SOURCE)
        (builder_dir / "build" / "clean").mkdir()
        (builder_dir / "build" / "clean" / "b.c").write_text("int f(void) { return 0; }\n")

    out = await run_build(tmp_path, [
        steps.Cppcheck(source=["src"], extra_args=["--quiet", OLD_TEMPLATE]),
        steps.Cppcheck(source=["src"], extra_args=["--quiet"], name="modern"),
        steps.Cppcheck(source=["clean"], extra_args=["--quiet", OLD_TEMPLATE], name="clean")],
        before=prepare)
    check = out.step("cppcheck")
    assert (check.results, check.state_string) == (FAILURE, "cppcheck error=1 (failure)")
    assert list(check.logs) == ["stdio", "error"]
    assert "accessed at index 10" in check.logs["error"]
    # today's default message format is not the one the reference parses: nothing counted
    assert out.step("modern").results == SUCCESS
    assert "buf[10]" in out.step("modern").logs["stdio"]
    assert out.step("clean").results == SUCCESS
    # the clean run came last: its zero counts are the build's properties
    assert out.props["cppcheck-total"] == 0 and out.prop_sources["cppcheck-error"] == "Cppcheck"


SUBUNIT_TESTS = """\
import unittest


class T(unittest.TestCase):
    def test_ok(self):
        pass

    def test_fail(self):
        self.assertEqual(1, 2)

    def test_skip(self):
        self.skipTest("no")
"""


# runs the tests with python-subunit's v1 protocol client as the unittest result
SUBUNIT_V1 = """\
import sys, unittest, subunit
unittest.defaultTestLoader.discover(".").run(subunit.TestProtocolClient(sys.stdout.buffer))
"""


@pytest.mark.skipif(importlib.util.find_spec("subunit") is None,
                    reason="python-subunit not installed (pip install python-subunit)")
@pytest_twisted.ensureDeferred
async def test_subunit_results_from_a_real_stream(tmp_path: Path) -> None:
    def prepare(builder_dir: Path) -> None:
        (builder_dir / "build" / "none").mkdir(parents=True)
        (builder_dir / "build" / "test_x.py").write_text(SUBUNIT_TESTS)

    out = await run_build(tmp_path, [
        steps.SubunitShellCommand(command=[sys.executable, "-c", SUBUNIT_V1]),
        steps.SubunitShellCommand(command=["true"], name="none"),
        steps.SubunitShellCommand(command=["true"], name="required", failureOnNoTests=True)],
        before=prepare)
    run, none, required = out.step("shell"), out.step("none"), out.step("required")
    # python 3's TestResult records skips itself, so (as in 4.3) they are never counted
    assert (run.results, run.state_string) == (
        FAILURE, "shell Total 3 test(s) 1 failure (failure)")
    assert list(run.logs) == ["stdio", "problems"]
    assert run.logs["problems"].startswith("test_x.T.test_fail\n")
    assert "AssertionError: 1 != 2" in run.logs["problems"]
    assert (none.results, none.state_string) == (SUCCESS, "none no tests run")
    assert (required.results, required.state_string) == (
        FAILURE, "required no tests run (failure)")


GIT_ENV = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@needs_tool("git", "git")
@pytest_twisted.ensureDeferred
async def test_git_diff_info_stores_the_hunks_as_build_data(tmp_path: Path) -> None:
    base: dict[str, Any] = {}

    def prepare(builder_dir: Path) -> None:
        repo = builder_dir / "build"
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        (repo / "f.txt").write_text("a\nb\nc\n")
        (repo / "old.txt").write_text("x\n")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "one")
        base["commit"] = git(repo, "rev-parse", "HEAD")
        git(repo, "checkout", "-q", "-b", "topic")
        (repo / "f.txt").write_text("a\nB\nc\nd\n")
        git(repo, "mv", "old.txt", "new.txt")
        git(repo, "commit", "-q", "-am", "two")

    cfg = make_config([steps.GitDiffInfo(compareToRef="main"),
                       steps.GitDiffInfo(compareToRef="nosuchref", name="badref")])
    async with running_master(tmp_path / "m", cfg) as master:
        prepare(Path(master.basedir) / "workers" / "local" / "b0")
        out = await force_build(master)
        builds = await master.data.get(("builds",))
        data = await master.data.get(("builds", builds[-1]["buildid"], "data",
                                      "diffinfo-master", "value"))
    info = out.step("GitDiffInfo")
    assert (info.results, info.state_string) == (SUCCESS, "GitDiffInfo")
    assert list(info.logs) == ["stdio-merge-base", "stdio-diff"]
    assert out.props["diffinfo-merge-base-commit"] == base["commit"]
    assert json.loads(data["raw"]) == [
        {"source_file": "f.txt", "target_file": "f.txt", "is_binary": False,
         "is_rename": False, "hunks": [{"ss": 2, "sl": 1, "ts": 2, "tl": 1},
                                       {"ss": 3, "sl": 0, "ts": 4, "tl": 1}]},
        {"source_file": "old.txt", "target_file": "new.txt", "is_binary": False,
         "is_rename": True, "hunks": []}]
    assert out.step("badref").results == FAILURE


class CatMaxQ(MaxQ):
    binary = "cat"


@pytest_twisted.ensureDeferred
async def test_maxq_counts_failures_and_hlint_needs_changed_xhtml(tmp_path: Path) -> None:
    recorded = Path(__file__).parent / "tool_outputs" / "maxq.out"

    def prepare(builder_dir: Path) -> None:
        (builder_dir / "build" / "ok").mkdir(parents=True)
        shutil.copy(recorded, builder_dir / "build" / "maxq.out")

    out = await run_build(tmp_path, [
        CatMaxQ(testdir="maxq.out"),
        CatMaxQ(testdir="missing", name="norun"),
        steps.HLint(), steps.ShellCommand(command="true", name="end")], before=prepare)
    assert out.summary[:3] == [("maxq", FAILURE, "2 maxq failures"),
                               ("norun", FAILURE, "1 maxq failures"),
                               ("hlint", SKIPPED, "hlint (skipped)")]


def test_cmake_command_line() -> None:
    # the commands the worker is asked to run, built without a build
    cmake = steps.CMake(generator="Ninja", path="src", options=("-Wdev",),
                        definitions={"A": "1"}, cmake="/opt/cmake")
    assert cmake._cmake_command() == ["/opt/cmake", "-G", "Ninja", "-DA=1", "-Wdev", "src"]
    assert steps.CMake()._cmake_command() == ["cmake"]
