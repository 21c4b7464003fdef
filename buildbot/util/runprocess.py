"""Run a local process from the master and collect its exit code and output.

    rc, out, err = await run_process(reactor, ["git", "ls-remote", url], workdir=...)

The result's shape follows what is collected: `(rc, stdout, stderr)`, `(rc, stdout)`,
`(rc, stderr)` or just `rc`. With `stderr_is_error`, any stderr output makes rc -1. A process
silent for `io_timeout` seconds, or running past `runtime_timeout`, gets SIGTERM, then SIGKILL
after `sigterm_timeout`.
"""

from __future__ import annotations

import os
import shutil
import signal
from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure

from buildbot.util.internal import internal_class


class _Collector(protocol.ProcessProtocol):
    def __init__(self, run: RunProcess) -> None:
        self.run = run

    def connectionMade(self) -> None:
        transport: Any = self.transport  # an IProcessTransport once connected
        if self.run.initial_stdin is not None:
            transport.write(self.run.initial_stdin)
        transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.run.received(1, data)

    def errReceived(self, data: bytes) -> None:
        self.run.received(2, data)

    def processEnded(self, reason: Failure) -> None:
        self.run.ended(reason)


class RunProcess:
    """One run of `command`; `start()` returns the Deferred of the result."""

    def __init__(self, reactor: Any, command: list[str | bytes], workdir: str | None = None,
                 env: dict[str, str] | None = None, collect_stdout: bool = True,
                 collect_stderr: bool = True, stderr_is_error: bool = False,
                 io_timeout: float = 300, runtime_timeout: float = 3600,
                 sigterm_timeout: float = 5, initial_stdin: bytes | None = None,
                 use_pty: bool = False) -> None:
        self.reactor = reactor
        self.command = [c.decode() if isinstance(c, bytes) else c for c in command]
        self.workdir = workdir
        self.env = {**os.environ, **(env or {})}
        self.collect_stdout = collect_stdout
        self.collect_stderr = collect_stderr
        self.stderr_is_error = stderr_is_error
        self.io_timeout = io_timeout
        self.runtime_timeout = runtime_timeout
        self.sigterm_timeout = sigterm_timeout
        self.initial_stdin = initial_stdin
        self.use_pty = use_pty
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self.got_stderr = False
        self.result_deferred: defer.Deferred[Any] = defer.Deferred()
        self._timers: dict[str, Any] = {}
        self._process: Any = None

    def start(self) -> defer.Deferred[Any]:
        program = self.command[0]
        if os.sep not in program and shutil.which(program, path=self.env.get("PATH")) is None:
            return defer.fail(FileNotFoundError(2, "No such file or directory"))
        if os.sep in program and not os.path.exists(program):
            return defer.fail(FileNotFoundError(2, "No such file or directory"))
        executable = shutil.which(program, path=self.env.get("PATH")) or program
        self._process = self.reactor.spawnProcess(
            _Collector(self), executable, self.command, env=self.env, path=self.workdir,
            usePTY=self.use_pty)
        self._timers["io"] = self.reactor.callLater(self.io_timeout, self._timed_out)
        self._timers["runtime"] = self.reactor.callLater(self.runtime_timeout, self._timed_out)
        return self.result_deferred

    def received(self, fd: int, data: bytes) -> None:
        io = self._timers.get("io")
        if io is not None and io.active():
            io.reset(self.io_timeout)
        if fd == 2:
            self.got_stderr = True
            if self.collect_stderr:
                self.stderr.append(data)
        elif self.collect_stdout:
            self.stdout.append(data)

    def _timed_out(self) -> None:
        self.send_signal(signal.SIGTERM)
        self._timers["kill"] = self.reactor.callLater(
            self.sigterm_timeout, self.send_signal, signal.SIGKILL)

    def send_signal(self, sig: int) -> None:
        try:
            self._process.signalProcess(sig)
        except Exception:  # noqa: BLE001, S110 - the process is already gone
            pass

    def ended(self, reason: Failure) -> None:
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        rc = getattr(reason.value, "exitCode", None)
        rc = -1 if rc is None else rc
        if self.stderr_is_error and self.got_stderr:
            rc = -1
        parts: list[Any] = [rc]
        if self.collect_stdout:
            parts.append(b"".join(self.stdout))
        if self.collect_stderr:
            parts.append(b"".join(self.stderr))
        self.result_deferred.callback(parts[0] if len(parts) == 1 else tuple(parts))


def create_process(*args: Any, **kwargs: Any) -> RunProcess:
    """Build a RunProcess (tests replace this to fake processes)."""
    return RunProcess(*args, **kwargs)


def run_process(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """Run a process (RunProcess's arguments) and return the Deferred of its result."""
    return create_process(*args, **kwargs).start()


RunProcessPP = internal_class(__name__, "RunProcessPP",
                              "the process protocol of RunProcess is private here")
