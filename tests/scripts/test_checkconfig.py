"""`buildbot checkconfig`: where the file is found, every error printed, exit status."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from buildbot.scripts import checkconfig, create_master
from tests.scripts.conftest import run_cli

GOOD_ENOUGH_TO_PARSE = "BuildmasterConfig = {'buildbotNetUsageData': None}\n"


def loader_errors(basedir: Path, filename: str) -> list[str]:
    """The messages the config loader itself reports for this file."""
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import FileLoader

    try:
        FileLoader(str(basedir), filename).loadConfig()
    except ConfigErrors as e:
        return list(e.errors)
    return []


def test_errors_go_to_stderr_one_per_line_with_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "master.cfg").write_text(
        "BuildmasterConfig = {'buildbotNetUsageData': None, 'frob': 1, 'title': 3}\n")
    expected = loader_errors(tmp_path, "master.cfg")

    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=False)

    out, err = capsys.readouterr()
    assert len(expected) >= 3  # unknown key, bad title, and the missing workers/builders
    assert (rc, out, err) == (1, "", "Configuration Errors:\n"
                              + "".join(f"  {msg}\n" for msg in expected))


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "master.cfg").write_text("x = (\n")

    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=True)

    assert (rc, capsys.readouterr()) == (1, ("", ""))


def test_syntax_error_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "master.cfg").write_text("x = (\n")

    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=False)

    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("Configuration Errors:\n"
                          "  encountered a SyntaxError while parsing config file:\n")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=False)

    assert (rc, capsys.readouterr().err) == (1, (
        "Configuration Errors:\n"
        f"  configuration file '{tmp_path}/master.cfg' does not exist\n"))


def test_file_without_buildmasterconfig(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "master.cfg").write_text("x = 1\n")

    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=False)

    assert (rc, capsys.readouterr().err) == (1, (
        "Configuration Errors:\n"
        f"  Configuration file '{tmp_path}/master.cfg' does not define 'BuildmasterConfig'\n"))


def test_good_config_prints_that_it_is_good(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            logged_errors: Any) -> None:
    (tmp_path / "master.cfg").write_text(create_master.sample_config_text(None))
    assert loader_errors(tmp_path, "master.cfg") == []

    rc = checkconfig.check_config(str(tmp_path), "master.cfg", quiet=False)

    assert (rc, capsys.readouterr().out) == (0, "Config file is good!\n")


def test_directory_argument_uses_the_tacs_config_file(tmp_path: Path) -> None:
    config = create_master.CreateMasterOptions()
    config.parseOptions(["-c", "other.cfg", str(tmp_path)])
    create_master.make_tac(dict(config))

    assert checkconfig.locate_config(str(tmp_path), quiet=True) == (str(tmp_path), "other.cfg")


def test_directory_without_tac_uses_master_cfg(tmp_path: Path) -> None:
    assert checkconfig.locate_config(str(tmp_path), quiet=True) == (str(tmp_path), "master.cfg")


def test_file_argument_uses_the_current_directory_as_basedir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert checkconfig.locate_config("sub/my.cfg", quiet=True) == (str(tmp_path), "sub/my.cfg")


def test_broken_tac_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "buildbot.tac").write_text("raise RuntimeError('tac exploded')\n")

    assert checkconfig.locate_config(str(tmp_path), quiet=False) is None

    err = capsys.readouterr().err
    assert err.startswith(f"Unable to load 'buildbot.tac' from '{tmp_path}':\nTraceback")
    assert "RuntimeError: tac exploded" in err


@pytest.mark.integration
def test_command_line_exit_status_and_streams(tmp_path: Path) -> None:
    (tmp_path / "bad.cfg").write_text(
        "BuildmasterConfig = {'frob': 1, 'buildbotNetUsageData': None}\n")
    (tmp_path / "odd.cfg").write_text("BuildmasterConfig = 3\n")

    bad = run_cli("checkconfig", "bad.cfg", cwd=tmp_path)
    odd = run_cli("checkconfig", "odd.cfg", cwd=tmp_path)
    quiet = run_cli("checkconfig", "-q", str(tmp_path / "bad.cfg"), cwd=os.getcwd())

    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith("Configuration Errors:\n  Unknown BuildmasterConfig key frob\n")
    assert (odd.returncode, odd.stdout) == (1, "")  # the reference exits 0 after a traceback
    assert odd.stderr.startswith("Configuration Errors:\n")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
