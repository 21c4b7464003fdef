"""start / stop / restart / reconfig against real twistd daemons.

The daemon here runs a small stand-in application (a tac whose service writes the master's
log lines, driven by a `mode` file), so that the command line's process handling is tested
whatever state the real master is in; test_real_master.py runs the real BuildMaster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.scripts import stop as stop_module
from tests.scripts.conftest import Daemons, pid_alive, run_cli

pytestmark = pytest.mark.integration

STAND_IN_TAC = '''
import os
import signal

from twisted.application import service
from twisted.internet import reactor
from twisted.python import log
from twisted.python.log import FileLogObserver, ILogObserver
from twisted.python.logfile import LogFile

basedir = os.path.abspath(os.path.dirname(__file__))

def mode(name):
    with open(os.path.join(basedir, name)) as f:
        return f.read().strip()

# the marker: application = service.Application('buildmaster')
application = service.Application('buildmaster')
logfile = LogFile.fromFullPath(os.path.join(basedir, "twistd.log"))
application.setComponent(ILogObserver, FileLogObserver(logfile).emit)


class StandIn(service.Service):
    def startService(self):
        service.Service.startService(self)
        reactor.callWhenRunning(self.started)

    def started(self):
        log.msg("Starting BuildMaster -- buildbot.version: stand-in")
        signal.signal(signal.SIGHUP, lambda *a: reactor.callFromThread(self.reconfig))
        signal.signal(signal.SIGUSR1, lambda *a: reactor.callFromThread(self.clean_stop))
        how = mode("start")
        if how == "fail":
            log.msg("BuildMaster startup failed")
            reactor.stop()
        elif how == "ok":
            log.msg("BuildMaster is running")
        elif how == "die":
            os._exit(3)

    def reconfig(self):
        log.msg("beginning configuration update")
        log.msg("Loading configuration from '%s/master.cfg'" % basedir)
        if mode("reconfig") == "ok":
            log.msg("configuration update complete (took 0.001 seconds)")
        else:
            log.msg("bad thing in master.cfg")
            log.msg("configuration update aborted without making any changes (took 0 seconds)")

    def clean_stop(self):
        log.msg("Initiating clean shutdown")
        reactor.stop()


StandIn().setServiceParent(application)
'''


def make_basedir(tmp_path: Path, daemons: Daemons, start: str = "ok",
                 reconfig: str = "ok") -> Path:
    basedir = daemons.watch(tmp_path / "master")
    basedir.mkdir()
    (basedir / "buildbot.tac").write_text(STAND_IN_TAC)
    set_mode(basedir, start=start, reconfig=reconfig)
    return basedir


def set_mode(basedir: Path, **modes: str) -> None:
    for name, value in modes.items():
        (basedir / name).write_text(value)


def assert_stopped(basedir: Path, pid: int | None) -> None:
    assert not (basedir / "twistd.pid").exists()
    assert pid is None or not pid_alive(pid)


def test_start_reconfig_stop(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)

    started = run_cli("start", str(basedir), cwd=tmp_path)
    pid = daemons.note_pid(basedir)
    reconfigured = run_cli("reconfig", str(basedir), cwd=tmp_path)
    set_mode(basedir, reconfig="broken")
    failed_reconfig = run_cli("sighup", str(basedir), cwd=tmp_path)
    stopped = run_cli("stop", str(basedir), cwd=tmp_path)

    assert (started.returncode, started.stdout) == (0, (
        "Following twistd.log until startup finished..\n"
        "The buildmaster appears to have (re)started correctly.\n"))
    assert pid is not None
    assert reconfigured.returncode == 0
    assert reconfigured.stdout.splitlines()[0] == f"sending SIGHUP to process {pid}"
    assert reconfigured.stdout.splitlines()[1].endswith("beginning configuration update")
    assert reconfigured.stdout.splitlines()[-1] == (
        "Reconfiguration appears to have completed successfully")
    assert failed_reconfig.returncode == 1
    assert "bad thing in master.cfg" in failed_reconfig.stdout
    assert failed_reconfig.stdout.endswith(
        "Reconfiguration failed. Please inspect the master.cfg file for errors, correct\n"
        "them, then try 'buildbot reconfig' again.\n")
    assert (stopped.returncode, stopped.stdout) == (0, f"buildbot process {pid} is dead\n")
    assert_stopped(basedir, pid)


def test_start_refuses_a_running_master(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)
    assert run_cli("start", "-q", str(basedir), cwd=tmp_path).returncode == 0
    pid = daemons.note_pid(basedir)
    try:
        again = run_cli("start", str(basedir), cwd=tmp_path)

        assert (again.returncode, again.stdout) == (1, (
            f"buildmaster already running (process {pid}); use 'buildbot restart' to "
            "restart it\n"))
        assert pid is not None and pid_alive(pid)
    finally:
        run_cli("stop", str(basedir), cwd=tmp_path)


def test_start_failure_exits_1_and_leaves_no_process(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons, start="fail")

    result = run_cli("start", str(basedir), cwd=tmp_path)

    assert (result.returncode, result.stdout) == (1, (
        "Following twistd.log until startup finished..\n"
        "The buildmaster startup failed. Please see 'twistd.log' for possible reason.\n"))
    assert_stopped(basedir, None)


def test_start_notices_a_daemon_that_dies_silently(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons, start="die")

    result = run_cli("start", "--start_timeout=30", str(basedir), cwd=tmp_path)

    assert result.returncode == 1
    assert "exited during startup" in result.stdout
    pid = daemons.note_pid(basedir)  # a process killed hard leaves its pid file behind
    assert pid is not None and not pid_alive(pid)


def wait_for_pid_file(basedir: Path, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not (basedir / "twistd.pid").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_start_timeout(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons, start="silent")
    try:
        result = run_cli("start", "--start_timeout=0.5", str(basedir), cwd=tmp_path)
        # On a busy machine the daemon may not have written its pid file yet; `stop` needs it.
        assert wait_for_pid_file(basedir, 30), "the daemon never wrote twistd.pid"
        daemons.note_pid(basedir)

        assert (result.returncode, result.stdout) == (1, (
            "Following twistd.log until startup finished..\n"
            "The buildmaster took more than 0.5 seconds to start, so we were unable to\n"
            "confirm that it started correctly. Please 'tail twistd.log' and look for a line\n"
            "that says 'BuildMaster is running' to verify correct startup.\n"))
    finally:
        run_cli("stop", str(basedir), cwd=tmp_path)


def test_start_timeout_from_the_environment_must_be_a_number(tmp_path: Path,
                                                              daemons: Daemons) -> None:
    from tests.scripts.conftest import cli_env

    basedir = make_basedir(tmp_path, daemons)

    result = run_cli("start", str(basedir), cwd=tmp_path, env=cli_env(START_TIMEOUT="soon"))

    assert (result.returncode, result.stdout) == (1, "Start timeout must be a number\n")
    assert not (basedir / "twistd.pid").exists()


def test_start_with_a_broken_tac_reports_twistds_error(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)
    (basedir / "buildbot.tac").write_text(
        "application = service.Application('buildmaster')\nraise ValueError('tac is broken')\n")

    result = run_cli("start", str(basedir), cwd=tmp_path)

    assert result.returncode == 1
    assert "twistd could not start the buildmaster:" in result.stdout
    assert_stopped(basedir, None)


def test_restart_and_clean_stop(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)
    assert run_cli("start", "-q", str(basedir), cwd=tmp_path).returncode == 0
    first = daemons.note_pid(basedir)

    restarted = run_cli("restart", str(basedir), cwd=tmp_path)
    second = daemons.note_pid(basedir)
    stopped = run_cli("stop", "--clean", str(basedir), cwd=tmp_path)

    assert (restarted.returncode, restarted.stdout) == (0, (
        f"buildbot process {first} is dead\n"
        "now restarting buildbot process..\n"
        "Following twistd.log until startup finished..\n"
        "The buildmaster appears to have (re)started correctly.\n"))
    assert second != first
    assert (stopped.returncode, stopped.stdout) == (0, f"buildbot process {second} is dead\n")
    assert "Initiating clean shutdown" in (basedir / "twistd.log").read_text()
    assert_stopped(basedir, second)


def test_commands_on_a_directory_that_is_not_a_master(tmp_path: Path) -> None:
    for command in ("start", "stop", "restart"):
        result = run_cli(command, str(tmp_path), cwd=tmp_path)
        assert (result.returncode, result.stdout) == (1, (
            f"error reading '{tmp_path}/buildbot.tac': No such file or directory\n"
            f"invalid buildmaster directory '{tmp_path}'\n")), command


def test_stop_and_reconfig_when_not_running(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)

    stopped = run_cli("stop", str(basedir), cwd=tmp_path)
    reconfig = run_cli("reconfig", str(basedir), cwd=tmp_path)

    assert (stopped.returncode, stopped.stdout) == (0, "buildmaster not running\n")
    assert (reconfig.returncode, reconfig.stdout) == (1, (
        f"buildmaster not running (no live process in '{basedir}/twistd.pid')\n"))


def test_stop_removes_a_stale_pid_file(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (basedir / "twistd.pid").write_text(done.stdout.strip())

    result = run_cli("stop", str(basedir), cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "buildmaster not running\n")
    assert not (basedir / "twistd.pid").exists()


def test_stop_no_wait_and_wait(tmp_path: Path, daemons: Daemons,
                               capsys: pytest.CaptureFixture[str]) -> None:
    basedir = make_basedir(tmp_path, daemons)
    # a plain child process standing in for the daemon; a thread reaps it once signalled
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    reaper = threading.Thread(target=child.wait)
    reaper.start()
    try:
        (basedir / "twistd.pid").write_text(str(child.pid))
        options = stop_module.StopOptions()
        options.parseOptions([str(basedir)])

        rc = stop_module.stop(dict(options))

        assert (rc, capsys.readouterr().out) == (0, f"buildbot process {child.pid} is dead\n")
        assert child.returncode == -signal.SIGTERM
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        reaper.join()


def test_nodaemon_runs_in_the_foreground_until_stopped(tmp_path: Path, daemons: Daemons) -> None:
    from tests.scripts.conftest import cli_env

    basedir = make_basedir(tmp_path, daemons)
    log = basedir / "twistd.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "buildbot.scripts.runner", "start", "--nodaemon", str(basedir)],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    daemons.pids.add(proc.pid)
    try:
        # the foreground master writes its log like the daemon; wait for it to be running
        from buildbot.scripts.logwatcher import classify_line

        deadline = 30.0
        start = time.monotonic()
        while not (log.exists() and any(classify_line(line) == "buildmaster"
                                        for line in log.read_bytes().splitlines())):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - start < deadline, "the foreground master never ran"
            time.sleep(0.05)
        assert not (basedir / "twistd.pid").exists()  # no pid file in the foreground

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)

        # twistd ends a process stopped by a signal with that same signal (as supervisors
        # expect), so the exit status says SIGTERM
        assert (proc.returncode, out) == (-signal.SIGTERM, "")
        assert "Server Shut Down." in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_no_wait_only_sends_the_signal(tmp_path: Path, daemons: Daemons) -> None:
    basedir = make_basedir(tmp_path, daemons)
    assert run_cli("start", "-q", str(basedir), cwd=tmp_path).returncode == 0
    pid = daemons.note_pid(basedir)

    result = run_cli("stop", "--no-wait", str(basedir), cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "sent SIGTERM to process\n")
    assert pid is not None
    assert stop_module.wait_for_exit(pid, 30), "the master ignored SIGTERM"


@pytest_twisted.ensureDeferred
async def test_a_master_that_hangs_after_failing_is_killed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from buildbot.scripts import start as start_module

    monkeypatch.setattr(start_module, "FAILED_EXIT_WAIT", 0.3)
    # stands for a master stuck after logging its failed start-up: it ignores SIGTERM
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                              " time.sleep(60)"])
    reaper = threading.Thread(target=child.wait)
    reaper.start()
    pidfile = tmp_path / "twistd.pid"
    pidfile.write_text(str(child.pid))
    try:
        await start_module.make_sure_gone(child.pid, str(pidfile))

        assert capsys.readouterr().out == (
            f"The buildmaster process {child.pid} did not exit after its failed start-up; "
            "killing it.\n")
        assert child.returncode == -signal.SIGKILL
        assert not pidfile.exists()
    finally:
        if child.poll() is None:
            child.kill()
        reaper.join()
