"""Run a local process from the master and collect its exit code and output.

    rc, out, err = await run_process(reactor, ["git", "ls-remote", url], workdir=...)

The result's shape follows what is collected: `(rc, stdout, stderr)`, `(rc, stdout)`,
`(rc, stderr)` or just `rc`. With `stderr_is_error`, any stderr output kills the process and
makes rc -1. A process silent for `io_timeout` seconds, or running past `runtime_timeout`,
gets SIGTERM, then SIGKILL after `sigterm_timeout`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import defer, error, protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.util.internal import internal_class

log = Logger()


class _Collector(protocol.ProcessProtocol):
    def __init__(self, run: RunProcess) -> None:
        self.run = run

    def connectionMade(self) -> None:
        transport: Any = self.transport  # an IProcessTransport once connected
        if self.run.initial_stdin is not None:
            transport.write(self.run.initial_stdin)
        transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.run.add_stdout(data)

    def errReceived(self, data: bytes) -> None:
        self.run.add_stderr(data)

    def processEnded(self, reason: Failure) -> None:
        status = reason.value
        self.run.process_ended(getattr(status, "signal", None), getattr(status, "exitCode", None))


Consumer = Callable[[bytes], Any]


class RunProcess:
    """One run of `command`; `start()` returns the Deferred of the result.

    `collect_stdout`/`collect_stderr` are True (collect into the result), False (drop) or a
    callable given each chunk as it arrives (streamed, not part of the result). `env` is
    added to the master's environment; a None value removes that variable.

    Stopping a process (a timeout, or stderr with `stderr_is_error`) goes through `kill`:
    SIGTERM, then after `sigterm_timeout` seconds `interrupt_signal` if it still lives; if
    it has not ended `TIMEOUT_KILL` seconds after that, the result fails with RuntimeError.
    A killed process always reports rc -1, whatever its exit status.
    """

    TIMEOUT_KILL = 5  # seconds to wait for the end of a process sent `interrupt_signal`
    interrupt_signal = "KILL"

    def __init__(self, reactor: Any, command: list[str | bytes], workdir: str | None = None,
                 env: dict[str, str | None] | None = None,
                 collect_stdout: bool | Consumer = True, collect_stderr: bool | Consumer = True,
                 stderr_is_error: bool = False, io_timeout: float | None = 300,
                 runtime_timeout: float | None = 3600, sigterm_timeout: float | None = 5,
                 initial_stdin: bytes | None = None, use_pty: bool = False) -> None:
        self.reactor = reactor
        self.command = [c.decode() if isinstance(c, bytes) else c for c in command]
        self.workdir = workdir
        self.environ = env
        self.stderr_is_error = stderr_is_error
        self.io_timeout = io_timeout
        self.runtime_timeout = runtime_timeout
        self.sigterm_timeout = sigterm_timeout
        self.initial_stdin = initial_stdin
        self.use_pty = use_pty
        self.collect_stdout = collect_stdout is True
        self.collect_stderr = collect_stderr is True
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self._sinks: dict[str, Consumer | None] = {
            "stdout": self.stdout.append if collect_stdout is True else
            (collect_stdout if callable(collect_stdout) else None),
            "stderr": self.stderr.append if collect_stderr is True else
            (collect_stderr if callable(collect_stderr) else None),
        }
        self.killed = False
        self.result_rc: int | None = None
        self.result_signal: Any = None
        self.result_deferred: defer.Deferred[Any] | None = None
        self._timers: dict[str, Any] = {}
        self.process: Any = None
        self._protocol: _Collector | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.command!r}>"

    def get_os_env(self) -> Mapping[str, str]:
        """The environment `env` is added to (the master's own; tests override it)."""
        return os.environ

    def resolve_environment(self, env: dict[str, str | None] | None) -> dict[str, str]:
        """The child's environment: `get_os_env()` updated by `env`, None values removed."""
        merged: dict[str, str | None] = {**self.get_os_env(), **(env or {})}
        return {k: v for k, v in merged.items() if v is not None}

    def start(self) -> defer.Deferred[Any]:
        self.result_deferred = defer.Deferred()
        env = self.resolve_environment(self.environ)
        if self.workdir is not None:  # spawnProcess leaves PWD as the master's
            env["PWD"] = os.path.abspath(self.workdir)
        program = self.command[0]
        executable = program if os.sep in program else \
            shutil.which(program, path=env.get("PATH"))
        if executable is None or not os.path.exists(executable):
            return defer.fail(FileNotFoundError(2, "No such file or directory", program))
        self._protocol = _Collector(self)
        try:
            self.process = self.reactor.spawnProcess(
                self._protocol, executable, self.command, env=env, path=self.workdir,
                usePTY=self.use_pty)
        except OSError as e:  # e.g. a workdir that does not exist
            return defer.fail(e)
        if self.io_timeout:
            self._arm("io", self.io_timeout, self.io_timed_out)
        if self.runtime_timeout:
            self._arm("runtime", self.runtime_timeout, self.runtime_timed_out)
        return self.result_deferred

    def _arm(self, which: str, seconds: float, then: Callable[[], None]) -> None:
        self._disarm(which)
        self._timers[which] = self.reactor.callLater(seconds, then)

    def _disarm(self, *which: str) -> None:
        for name in which or tuple(self._timers):
            timer = self._timers.pop(name, None)
            if timer is not None and timer.active():
                timer.cancel()

    def _output(self, stream: str, data: bytes) -> None:
        sink = self._sinks[stream]
        if sink is not None:
            sink(data)
        io = self._timers.get("io")
        if io is not None and io.active():
            io.reset(self.io_timeout)

    def add_stdout(self, data: bytes) -> None:
        """The process wrote `data` on stdout."""
        self._output("stdout", data)

    def add_stderr(self, data: bytes) -> None:
        """The process wrote `data` on stderr (which ends it, with `stderr_is_error`)."""
        self._output("stderr", data)
        if self.stderr_is_error and not self.killed:
            self.kill("command produced stderr which is interpreted as error")

    def _settle(self) -> defer.Deferred[Any] | None:
        # The result fires once: a process ending after kill_timed_out gave up is only logged.
        self._disarm()
        d, self.result_deferred = self.result_deferred, None
        if d is None:
            log.error("{run}: command finished twice", run=self)
        return d

    def process_ended(self, sig: Any, rc: int | None) -> None:
        """The process is gone: `sig` is the signal that ended it or None, `rc` its status."""
        self.result_signal, self.result_rc = sig, rc
        if self.killed and rc == 0:
            log.info("{run}: killed, but exited with status 0; reporting a failure", run=self)
        if self.killed or sig is not None or rc is None:
            rc = -1
        d = self._settle()
        if d is None:
            return
        parts: list[Any] = [rc]
        if self.collect_stdout:
            parts.append(b"".join(self.stdout))
        if self.collect_stderr:
            parts.append(b"".join(self.stderr))
        d.callback(parts[0] if len(parts) == 1 else tuple(parts))

    def failed(self, why: Any) -> None:
        """End the run with the error `why` (an exception or Failure) instead of a result."""
        d = self._settle()
        if d is not None:
            d.errback(why)

    def io_timed_out(self) -> None:
        self._timers.pop("io", None)
        self.kill(f"{self}: command timed out: {self.io_timeout} seconds without output")

    def runtime_timed_out(self) -> None:
        self._timers.pop("runtime", None)
        self.kill(f"{self}: command timed out: {self.runtime_timeout} seconds elapsed")

    def is_dead(self) -> bool:
        """True once the process no longer exists (it may not have been reaped yet)."""
        pid = getattr(self.process, "pid", None)
        if pid is None:
            return True
        try:
            os.kill(int(pid), 0)  # signal 0 only checks that the pid exists
        except OSError:
            return True
        return False

    def send_signal(self, interrupt_signal: Any) -> bool:
        """Send `interrupt_signal` ("TERM", "KILL", or a number); False if it could not be."""
        log.info("{run}: sending signal {sig}", run=self, sig=interrupt_signal)
        try:
            self.process.signalProcess(interrupt_signal)
        except error.ProcessExitedAlready:  # it ended on its own meanwhile; nothing to do
            log.info("{run}: process exited already, not signalled", run=self)
            return False
        except OSError as e:
            log.warn("{run}: could not signal the process: {err}", run=self, err=e)
            return False
        return True

    def kill(self, msg: str) -> None:
        """Stop the process, saying why in the log (see the class docstring for the steps)."""
        log.info("{run}: killing process because {msg}", run=self, msg=msg)
        self._disarm()
        self.killed = True
        if self.sigterm_timeout is None:  # no grace period: the hard signal at once
            self.check_process_was_killed()
            return
        self.send_signal("TERM")
        self._arm("sigterm", self.sigterm_timeout, self.check_process_was_killed)

    def check_process_was_killed(self) -> None:
        """After the grace period: send `interrupt_signal` to a process still alive."""
        self._timers.pop("sigterm", None)
        if not self.is_dead() and not self.send_signal(self.interrupt_signal):
            log.warn("{run}: failed to kill the process", run=self)
        self.cleanup_killed_process()

    def cleanup_killed_process(self) -> None:
        """Close our ends of the pipes, and give up on the process after `TIMEOUT_KILL`."""
        transport: Any = self._protocol.transport if self._protocol is not None else None
        if transport is not None:  # an IProcessTransport
            transport.loseConnection()
        if self.result_deferred is not None:
            self._arm("kill", self.TIMEOUT_KILL, self.kill_timed_out)

    def kill_timed_out(self) -> None:
        self._timers.pop("kill", None)
        log.warn("{run}: the process would not die; giving up on it", run=self)
        self.failed(RuntimeError(f"SIG{self.interrupt_signal} failed to kill process"))


def create_process(*args: Any, **kwargs: Any) -> RunProcess:
    """Build a RunProcess (tests replace this to fake processes)."""
    return RunProcess(*args, **kwargs)


def run_process(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """Run a process (RunProcess's arguments) and return the Deferred of its result."""
    return create_process(*args, **kwargs).start()


RunProcessPP = internal_class(__name__, "RunProcessPP",
                              "the process protocol of RunProcess is private here")
