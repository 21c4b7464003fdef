"""File-system steps on the worker, in real builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted

from buildbot.plugins import steps
from buildbot.process.results import FAILURE, SUCCESS
from tests.steps.harness import run_build

pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_make_copy_check_remove_directories(tmp_path: Path) -> None:
    def prepare(wdir: Path) -> None:
        (wdir / "src" / "sub").mkdir(parents=True)
        (wdir / "src" / "sub" / "f.txt").write_text("content")

    out = await run_build(tmp_path, [
        steps.MakeDirectory(dir="made/deep"),
        steps.CopyDirectory(src="src", dest="copy"),
        steps.FileExists(file="copy/sub/f.txt"),
        steps.FileExists(file="copy/sub", name="dir", haltOnFailure=False),
        steps.FileExists(file="missing", name="missing", haltOnFailure=False),
        steps.RemoveDirectory(dir="src"),
    ], before=prepare)
    assert out.summary == [
        ("MakeDirectory", SUCCESS, "Created"),
        ("CopyDirectory", SUCCESS, "Copied src to copy"),
        ("FileExists", SUCCESS, "File found."),
        ("dir", FAILURE, "Not a file. (failure)"),
        ("missing", FAILURE, "File not found. (failure)"),
        ("RemoveDirectory", SUCCESS, "Deleted"),
    ]
    assert (out.worker_dir / "made" / "deep").is_dir()
    assert (out.worker_dir / "copy" / "sub" / "f.txt").read_text() == "content"
    assert not (out.worker_dir / "src").exists()


@pytest_twisted.ensureDeferred
async def test_failures_of_directory_steps(tmp_path: Path) -> None:
    def prepare(wdir: Path) -> None:
        (wdir / "afile").write_text("x")

    out = await run_build(tmp_path, [
        steps.MakeDirectory(dir="afile/sub", haltOnFailure=False),
        steps.CopyDirectory(src="nothere", dest="x"),
    ], before=prepare)
    assert out.summary == [
        ("MakeDirectory", FAILURE, "Create failed. (failure)"),
        ("CopyDirectory", FAILURE, "Copying nothere to x failed. (failure)"),
    ]


@pytest_twisted.ensureDeferred
async def test_set_properties_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BB_TEST_VAR", "val")
    out = await run_build(tmp_path, [
        steps.SetPropertiesFromEnv(variables=["BB_TEST_VAR", "BB_UNSET_VAR"])])
    assert out.props["BB_TEST_VAR"] == "val"
    assert out.prop_sources["BB_TEST_VAR"] == "WorkerEnvironment"
    assert "BB_UNSET_VAR" not in out.props
    assert out.steps[1].logs["properties"] == "BB_TEST_VAR = 'val'\n"
    assert out.summary == [("SetPropertiesFromEnv", SUCCESS, "Set")]
