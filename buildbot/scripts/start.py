"""`buildbot start`: run the master under twistd, as a daemon or in the foreground."""

from __future__ import annotations

import contextlib
import os
import signal
import site
import subprocess
import sys
import tempfile
from typing import IO, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from buildbot.scripts import base
from buildbot.scripts.polling import PollingClock, run_polling
from buildbot.scripts.logwatcher import (
    BuildmasterStartupError,
    BuildmasterTimeoutError,
    LogWatcher,
    ProcessDiedError,
    ReconfigError,
)

TWISTD_BOOTSTRAP = "from twisted.scripts import twistd; twistd.run()"
DEFAULT_START_TIMEOUT = 10.0
#: How long a master that failed to start gets to exit before it is killed.
FAILED_EXIT_WAIT = 10.0
EXIT_POLL_INTERVAL = 0.1


class StartOptions(base.BasedirOptions):
    """Options of `buildbot start`."""

    synopsis = "Usage:    buildbot start [<basedir>]"
    optFlags = [
        ["quiet", "q", "Do not follow twistd.log; return once the daemon is launched"],
        ["nodaemon", None, "Run in the foreground instead of as a daemon"],
    ]
    optParameters = [
        ["start_timeout", None, None,
         ("Seconds without start-up progress in twistd.log before giving up "
          "(default: $START_TIMEOUT, else 10)")],
    ]


def start_timeout(config: dict[str, Any]) -> float | None:
    """The start timeout from --start_timeout or $START_TIMEOUT (default 10 s).

    Returns None (after printing why) when the value is not a number.
    """
    value = config.get("start_timeout")
    if value is None:
        value = os.environ.get("START_TIMEOUT")
    if value is None:
        return DEFAULT_START_TIMEOUT
    try:
        return float(value)
    except ValueError:
        print("Start timeout must be a number")
        return None


def running_pid(basedir: str) -> int | None:
    """The pid of a live master owning `<basedir>/twistd.pid`, if any.

    A pid file left by a dead master is removed (twistd would mistake an exited but not
    yet reaped master for a running one).
    """
    pidfile = os.path.join(basedir, "twistd.pid")
    try:
        pid = base.read_pid_file(pidfile)
    except ValueError:
        return None  # twistd reports a corrupt pid file itself
    if pid is None:
        return None
    if base.process_exists(pid):
        return pid
    with contextlib.suppress(OSError):
        os.unlink(pidfile)
    return None


def child_environment() -> dict[str, str]:
    """The environment for twistd: ours, plus the path of this `buildbot` package when it
    does not come from site-packages (a source checkout), so the daemon runs the same code."""
    import buildbot

    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(buildbot.__file__)))
    installed = {os.path.abspath(p) for p in site.getsitepackages() + [site.getusersitepackages()]}
    if package_parent not in installed:
        paths = [package_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


class _TwistdLauncher:
    """twistd's launcher process, its output going to a temporary file; `ended` fires with
    (exit code, output) once it has exited (polled on `clock`)."""

    POLL_INTERVAL = 0.02

    def __init__(self, clock: Any, argv: list[str], env: dict[str, str], cwd: str) -> None:
        self._clock = clock
        self._output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  # closed in _poll
        self._process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=self._output, stderr=subprocess.STDOUT)
        self.ended: defer.Deferred[tuple[int, str]] = defer.Deferred()
        self._clock.callLater(self.POLL_INTERVAL, self._poll)

    def _poll(self) -> None:
        code = self._process.poll()
        if code is None:
            self._clock.callLater(self.POLL_INTERVAL, self._poll)
            return
        if code < 0:
            code = 1  # killed by a signal
        self._output.seek(0)
        output = self._output.read().decode("utf-8", "replace")
        self._output.close()
        self.ended.callback((code, output))


def launch_daemon(basedir: str, clock: Any) -> defer.Deferred[tuple[int, str]]:
    """Spawn twistd on buildbot.tac in `basedir`; fires once it has daemonized (or failed).

    twistd's launcher process waits until the daemon has started the application, then
    exits 0, or prints the error and exits 1. Its output goes to a file, not a pipe: the
    daemon it forks keeps the launcher's standard streams until it detaches them.
    """
    argv = [sys.executable, "-c", TWISTD_BOOTSTRAP,
            "--no_save", "--logfile=twistd.log", "--python=buildbot.tac"]
    return _TwistdLauncher(clock, argv, child_environment(), basedir).ended


def report_watch_failure(error: Exception, timeout: float) -> None:
    """Print what a failed start-up watch means for the user."""
    if isinstance(error, BuildmasterTimeoutError):
        base.print_wrapped(
            f"The buildmaster took more than {timeout} seconds to start, so we were unable to "
            "confirm that it started correctly. Please 'tail twistd.log' and look for a line "
            "that says 'BuildMaster is running' to verify correct startup.")
    elif isinstance(error, ReconfigError):
        base.print_wrapped(
            "The buildmaster appears to have encountered an error in the master.cfg config "
            "file during startup. Please inspect and fix master.cfg, then restart the "
            "buildmaster.")
    elif isinstance(error, BuildmasterStartupError):
        base.print_wrapped(
            "The buildmaster startup failed. Please see 'twistd.log' for possible reason.")
    elif isinstance(error, ProcessDiedError):
        base.print_wrapped(
            "The buildmaster process exited during startup without saying why. "
            "Please see 'twistd.log' for possible reason.")
    else:
        base.print_wrapped(
            "Unable to confirm that the buildmaster started correctly. You may need to stop "
            "it, fix the config file, and restart.")
        print(f"{type(error).__name__}: {error}")


def _ignore_cancellation(failure: Failure) -> None:
    failure.trap(defer.CancelledError)  # unannotated Twisted


def _sleep(clock: Any, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    clock.callLater(seconds, d.callback, None)
    return d


async def wait_for_exit(pid: int, seconds: float, clock: Any = None) -> bool:
    """Poll (on `clock`, by default the reactor, never blocking it) until process `pid` is
    gone; False on timeout."""
    if clock is None:
        clock = base.get_reactor()
    for _ in range(int(seconds / EXIT_POLL_INTERVAL)):
        if not base.process_exists(pid):
            return True
        await _sleep(clock, EXIT_POLL_INTERVAL)
    return not base.process_exists(pid)


async def make_sure_gone(pid: int, pidfile: str, clock: Any = None) -> None:
    """After a failed start-up, leave no master process behind: a master that logged its
    failure but does not exit (a hang during shutdown) is killed."""
    if await wait_for_exit(pid, FAILED_EXIT_WAIT, clock):
        return
    print(f"The buildmaster process {pid} did not exit after its failed start-up; killing it.")
    os.kill(pid, signal.SIGKILL)
    await wait_for_exit(pid, FAILED_EXIT_WAIT, clock)
    with contextlib.suppress(OSError, ValueError):
        if base.read_pid_file(pidfile) == pid:
            os.unlink(pidfile)


async def start_daemon(config: dict[str, Any], timeout: float, clock: PollingClock) -> int:
    """Launch the daemon and, unless quiet, follow twistd.log until start-up ends."""
    basedir = config["basedir"]
    pidfile = os.path.join(basedir, "twistd.pid")
    daemon_pid: int | None = None  # known once twistd has daemonized

    def still_alive() -> bool:
        return daemon_pid is None or base.process_exists(daemon_pid)

    watcher: LogWatcher | None = None
    if not config.get("quiet"):
        watcher = LogWatcher(os.path.join(basedir, "twistd.log"), timeout=timeout,
                             clock=clock, still_alive=still_alive)
        watcher.open()  # before the spawn, so no line of this start-up is missed
    launched = launch_daemon(basedir, clock)
    watched: defer.Deferred[str] | None = None
    if watcher is not None:
        print("Following twistd.log until startup finished..")
        watched = defer.Deferred.fromCoroutine(watcher.watch())

    code, output = await launched
    if code != 0:
        if watcher is not None and watched is not None:
            watched.addErrback(_ignore_cancellation)
            watcher.stop()
        print("twistd could not start the buildmaster:")
        print(output.rstrip("\n") or f"(twistd exited with status {code})")
        return 1
    # twistd writes the pid file before it reports success
    daemon_pid = base.read_pid_file(pidfile)
    if watched is None:
        return 0
    try:
        await watched
    except Exception as e:
        report_watch_failure(e, timeout)
        if daemon_pid is not None and not isinstance(e, BuildmasterTimeoutError):
            await make_sure_gone(daemon_pid, pidfile, clock)
        return 1
    print("The buildmaster appears to have (re)started correctly.")
    return 0


def launch_no_daemon(basedir: str) -> None:
    """Run twistd in this process, in the foreground, until the master stops."""
    os.chdir(basedir)
    sys.path.insert(0, os.path.abspath(basedir))
    sys.argv = ["twistd", "--no_save", "--nodaemon", "--logfile=twistd.log",
                "--python=buildbot.tac"]
    if sys.platform != "win32":
        sys.argv.append("--pidfile=")
    from twisted.scripts import twistd

    twistd.run()  # unannotated Twisted


def start(config: dict[str, Any]) -> int:
    """Entry point of `buildbot start`."""
    basedir = config["basedir"]
    if not base.is_buildmaster_dir(basedir):
        return 1
    if config.get("nodaemon"):
        launch_no_daemon(basedir)
        return 0
    pid = running_pid(basedir)
    if pid is not None:
        # The reference spawns twistd anyway and reports a start-up timeout.
        print(f"buildmaster already running (process {pid}); "
              "use 'buildbot restart' to restart it")
        return 1
    timeout = start_timeout(config)
    if timeout is None:
        return 1
    # No reactor: waiting needs none, and its import (TLS included) would delay the spawn.
    return run_polling(lambda clock: start_daemon(config, timeout, clock))
