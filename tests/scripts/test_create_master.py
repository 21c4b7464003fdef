"""`buildbot create-master`: buildbot.tac for every flag combination, the sample config, the
database, and the printed lines."""

from __future__ import annotations

import ast
import itertools
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from buildbot.scripts import create_master
from buildbot.scripts.base import TAC_MARKER


def options(basedir: Path, *argv: str) -> dict[str, Any]:
    opts = create_master.CreateMasterOptions()
    opts.parseOptions([*argv, str(basedir)])
    return dict(opts)


def assignments(source: str) -> dict[str, Any]:
    """The module-level `name = <literal>` assignments of a tac."""
    found: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found


FLAG_SETS = [list(itertools.chain.from_iterable(flags)) for n in range(5)
             for flags in itertools.combinations(
                 [["-r"], ["-n"], ["-c", "other.cfg"], ["-s", "500", "-l", "None"]], n)]


@pytest.mark.parametrize("argv", FLAG_SETS, ids=lambda f: " ".join(f) or "defaults")
def test_tac_content_follows_the_flags(tmp_path: Path, argv: list[str]) -> None:
    tac = create_master.render_tac(options(tmp_path / "m", *argv))
    values = assignments(tac)

    relocatable, no_rotate = "-r" in argv, "-n" in argv
    expected: dict[str, Any] = {
        "basedir": "." if relocatable else str(tmp_path / "m"),
        "configfile": "other.cfg" if "-c" in argv else "master.cfg",
        "umask": None,
    }
    if not no_rotate:
        expected["rotateLength"] = 500 if "-s" in argv else 10000000
        expected["maxRotatedFiles"] = None if "-l" in argv else 10
    assert {k: values[k] for k in values if k in expected or k in (
        "rotateLength", "maxRotatedFiles")} == expected
    assert f"application = service.{TAC_MARKER}" in tac
    assert ("LogFile.fromFullPath" in tac) is not no_rotate
    assert ("m.log_rotation.rotateLength = rotateLength" in tac) is not no_rotate
    assert "m = BuildMaster(basedir, configfile, umask)" in tac
    compile(tac, "buildbot.tac", "exec")


def test_relocatable_tac_resolves_its_own_directory(tmp_path: Path) -> None:
    basedir = tmp_path / "m"
    basedir.mkdir()
    (basedir / "buildbot.tac").write_text(
        create_master.render_tac(options(tmp_path / "elsewhere", "-r", "-s", "123")))
    names: dict[str, Any] = {"__file__": str(basedir / "buildbot.tac")}

    exec(compile((basedir / "buildbot.tac").read_text(), "buildbot.tac", "exec"), names)  # noqa: S102

    assert names["basedir"] == str(basedir)
    assert (names["m"].log_rotation.rotateLength,
            names["m"].log_rotation.maxRotatedFiles) == (123, 10)


def test_sample_config_gets_the_db_url_and_mode_0600(tmp_path: Path) -> None:
    config = options(tmp_path, "--db", "postgresql://bb:secret@db/bb", "-q")

    create_master.make_sample_config(config)

    sample = tmp_path / "master.cfg.sample"
    text = sample.read_text()
    assert stat.S_IMODE(sample.stat().st_mode) == 0o600
    assert "'db_url': \"postgresql://bb:secret@db/bb\"" in text
    assert "sqlite:///state.sqlite" not in text


def test_sample_config_is_valid_python_with_the_required_parts() -> None:
    text = create_master.sample_config_text(None)
    tree = ast.parse(text)

    assert tree is not None
    for needle in ("worker.LocalWorker('example-worker')", "c['protocols'] = {'pb': {'port': 9989}}",
                   'schedulers.ForceScheduler(name="force", builderNames=["runtests"])',
                   'util.BuilderConfig(name="runtests"', "c['buildbotNetUsageData'] = None",
                   "plugins=dict(waterfall_view={}, console_view={}, grid_view={})",
                   "'db_url': \"sqlite:///state.sqlite\"", "####### WORKERS", "####### DB URL"):
        assert needle in text


def test_existing_identical_tac_is_left_alone(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = options(tmp_path)
    (tmp_path / "buildbot.tac").write_text(create_master.render_tac(config))

    create_master.make_tac(config)

    assert capsys.readouterr().out == "buildbot.tac already exists and is correct\n"
    assert not (tmp_path / "buildbot.tac.new").exists()


def test_existing_different_tac_gets_a_new_sibling(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = options(tmp_path)
    (tmp_path / "buildbot.tac").write_text("# mine\n")

    create_master.make_tac(config)

    assert capsys.readouterr().out == ("not touching existing buildbot.tac\n"
                                       "creating buildbot.tac.new instead\n")
    assert (tmp_path / "buildbot.tac").read_text() == "# mine\n"
    assert (tmp_path / "buildbot.tac.new").read_text() == create_master.render_tac(config)


@pytest_twisted.ensureDeferred
async def test_create_master_prints_its_steps_and_creates_the_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basedir = tmp_path / "new" / "master"
    config = options(basedir)

    rc = await create_master.create_master_async(config)

    assert rc == 0
    assert capsys.readouterr().out.splitlines() == [
        f"mkdir {basedir}",
        f"creating {basedir}/master.cfg.sample",
        "creating database (sqlite:///state.sqlite)",
        f"buildmaster configured in {basedir}",
    ]
    assert sorted(os.listdir(basedir)) == ["buildbot.tac", "master.cfg.sample", "state.sqlite"]
    await assert_database_at_head(basedir)


async def assert_database_at_head(basedir: Path) -> None:
    from buildbot.db.connector import DBConnector

    db = DBConnector(str(basedir))
    try:
        await db.setup("sqlite:///state.sqlite", check_version=True)  # raises if not at head
    finally:
        await db.stop()


@pytest_twisted.ensureDeferred
async def test_create_master_twice_updates_quietly_with_q(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = options(tmp_path, "-q")
    assert await create_master.create_master_async(config) == 0

    rc = await create_master.create_master_async(config)

    assert (rc, capsys.readouterr().out) == (0, "")


@pytest_twisted.ensureDeferred
async def test_create_master_with_an_unusable_db_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = options(tmp_path, "--db", "nosuchdialect://x/y")

    rc = await create_master.create_master_async(config)

    out, err = capsys.readouterr()
    assert rc == 1
    assert "creating the database failed (nosuchdialect://x/y):" in err
    assert "buildmaster configured" not in out
