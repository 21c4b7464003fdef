"""The first-run path with the real BuildMaster: create-master, the sample config, start,
reconfig, stop; and a broken configuration that must not leave a process behind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.scripts.conftest import Daemons, pid_alive, run_cli

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_master(tmp_path: Path, daemons: Daemons) -> Path:
    basedir = daemons.watch(tmp_path / "my_master")
    created = run_cli("create-master", str(basedir), cwd=tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    return basedir


def use_sample_config(basedir: Path) -> None:
    """master.cfg from the sample, on free ports so that tests can run side by side."""
    text = (basedir / "master.cfg.sample").read_text()
    text = text.replace("{'port': 9989}", f"{{'port': {free_port()}}}")
    text = text.replace("port=8010", f"port={free_port()}")
    (basedir / "master.cfg").write_text(text)


def test_start_on_a_broken_config_exits_1_and_leaves_no_process(
        tmp_path: Path, daemons: Daemons) -> None:
    basedir = new_master(tmp_path, daemons)
    (basedir / "master.cfg").write_text("BuildmasterConfig = {'frob': (\n")

    result = run_cli("start", str(basedir), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout.startswith("Following twistd.log until startup finished..\n")
    assert "The buildmaster startup failed" in result.stdout \
        or "encountered an error in the\nmaster.cfg" in result.stdout
    assert "SyntaxError" in (basedir / "twistd.log").read_text()
    pid = daemons.note_pid(basedir)
    assert pid is None or not pid_alive(pid)


def test_first_run_with_the_sample_config(tmp_path: Path, daemons: Daemons) -> None:
    basedir = new_master(tmp_path, daemons)
    use_sample_config(basedir)
    checked = run_cli("checkconfig", str(basedir), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr[-2000:]

    started = run_cli("start", str(basedir), cwd=tmp_path)
    pid = daemons.note_pid(basedir)
    try:
        assert (started.returncode, started.stdout) == (0, (
            "Following twistd.log until startup finished..\n"
            "The buildmaster appears to have (re)started correctly.\n")), \
            (basedir / "twistd.log").read_text()[-3000:]
        reconfigured = run_cli("reconfig", str(basedir), cwd=tmp_path)
        assert reconfigured.returncode == 0, reconfigured.stdout
        assert reconfigured.stdout.endswith(
            "Reconfiguration appears to have completed successfully\n")
    finally:
        stopped = run_cli("stop", str(basedir), cwd=tmp_path)

    assert (stopped.returncode, stopped.stdout) == (0, f"buildbot process {pid} is dead\n")
    assert pid is not None and not pid_alive(pid)


def test_reconfig_with_a_broken_config_keeps_the_master_running(
        tmp_path: Path, daemons: Daemons) -> None:
    basedir = new_master(tmp_path, daemons)
    use_sample_config(basedir)
    checked = run_cli("checkconfig", str(basedir), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert run_cli("start", "-q", str(basedir), cwd=tmp_path).returncode == 0
    pid = daemons.note_pid(basedir)
    try:
        good = (basedir / "master.cfg").read_text()
        (basedir / "master.cfg").write_text(good + "\nbroken = (\n")

        result = run_cli("reconfig", str(basedir), cwd=tmp_path)

        assert result.returncode == 1
        assert "SyntaxError" in result.stdout
        assert result.stdout.endswith("then try 'buildbot reconfig' again.\n")
        assert pid is not None and pid_alive(pid)
    finally:
        run_cli("stop", str(basedir), cwd=tmp_path)
