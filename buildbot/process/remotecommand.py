"""Master-side representation of one command running on a worker.

A `RemoteCommand` is handed to the worker connection, which passes it to the worker (over PB
as a remote reference). The worker then calls `remote_update` with output and status, and
`remote_complete` when done. Updates are applied in arrival order; output goes to the step's
logs, whose writes are batched and serialised per log.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, error
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.util.deferred import gather
from buildbot.util.lineboundaries import LineBoundaryFinder
from buildbot.util.results import FAILURE, SUCCESS
from buildbot.worker.protocols.base import new_command_id

log = Logger()


class RemoteException(Exception):
    """The worker reported a failure for the command."""


class RemoteCommand(pb.Referenceable):
    """A command to run on a worker, with the reference's constructor and attributes."""

    active = False
    rc: int | None = None
    debug = False

    def __init__(
        self,
        remote_command: str,
        args: dict[str, Any],
        ignore_updates: bool = False,
        collectStdout: bool = False,
        collectStderr: bool = False,
        decodeRC: dict[int | None, int] | None = None,
        stdioLogName: str | None = "stdio",
    ) -> None:
        self.remote_command = remote_command
        self.args = args
        self.ignore_updates = ignore_updates
        self.collectStdout = collectStdout
        self.collectStderr = collectStderr
        self.decodeRC = decodeRC if decodeRC is not None else {0: SUCCESS}
        self.stdioLogName: str = stdioLogName or "stdio"
        self.stdout = ""
        self.stderr = ""
        self.updates: dict[str, list[Any]] = {}
        self.logs: dict[str, Any] = {}
        self.delayedLogs: dict[str, tuple[Any, bool]] = {}
        self._closeWhenFinished: dict[str, bool] = {}
        self.commandID: str | None = None
        self.step: Any = None
        self.conn: Any = None
        self.builder_name: str | None = None
        self.failure_reason: str | None = None
        self.interrupted = False
        # Writes of output still in flight (forgotten once done, so a long command does not
        # accumulate them), and the first one that failed, raised when the command completes.
        self._pending_writes: set[defer.Deferred[Any]] = set()
        self._write_failure: Failure | None = None
        self._done: defer.Deferred[None] | None = None
        self._disconnect_sub: Any = None
        self._remote_failure: Any = None
        # Collected output held back because it may end with the start of a secret.
        self._collect_carry: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<RemoteCommand '{self.remote_command}' at {id(self)}>"

    # -- command ids (4.3 class methods; `run` draws its id from the same master-wide space) --
    _last_command_id: str | None = None

    @classmethod
    def generate_new_command_id(cls) -> str:
        """A fresh command id, unique in this master process."""
        cls._last_command_id = new_command_id()
        return cls._last_command_id

    @classmethod
    def get_last_generated_command_id(cls) -> str:
        """The id `generate_new_command_id` (or `run`) gave out last ("-1" before any)."""
        return cls._last_command_id if cls._last_command_id is not None else "-1"

    # -- logs --------------------------------------------------------------------------
    def useLog(self, log_: Any, closeWhenFinished: bool = False,
               logfileName: str | None = None) -> None:
        """Send output for `logfileName` (default: the log's name) to `log_`."""
        name = logfileName or log_.getName()
        self.logs[name] = log_
        self._closeWhenFinished[name] = closeWhenFinished

    def useLogDelayed(self, logfileName: str, activateCallBack: Any,
                      closeWhenFinished: bool = False) -> None:
        """Create the log named `logfileName` only when its first output arrives."""
        self.delayedLogs[logfileName] = (activateCallBack, closeWhenFinished)

    def _track(self, d: Any) -> None:
        if isinstance(d, defer.Deferred) and not d.called:
            self._pending_writes.add(d)
            d.addBoth(self._write_done, d)

    def _write_done(self, result: Any, d: defer.Deferred[Any]) -> None:
        self._pending_writes.discard(d)
        if isinstance(result, Failure) and self._write_failure is None:
            self._write_failure = result

    def _redactor(self) -> Any:
        build = getattr(self.step, "build", None)
        return getattr(build.getProperties(), "redactor", None) if build is not None else None

    def _collected(self, stream: str, data: str) -> str:
        """`data` as collected into `stdout`/`stderr`: with the build's secrets hidden,
        like the logs (a step may turn the output into a property)."""
        redactor = self._redactor()
        if not redactor:
            return data
        out, self._collect_carry[stream] = redactor.feed(self._collect_carry.get(stream, ""),
                                                          data)
        return str(out)

    def _flush_collected(self) -> None:
        redactor = self._redactor()
        for stream, carry in self._collect_carry.items():
            text = redactor.redact(carry) if redactor else carry
            if stream == "stdout":
                self.stdout += text
            else:
                self.stderr += text
        self._collect_carry.clear()

    def addStdout(self, data: str) -> Any:
        if self.collectStdout:
            self.stdout += self._collected("stdout", data)
        stdio = self.logs.get(self.stdioLogName)
        if stdio is not None:
            return stdio.addStdout(data)
        return None

    def addStderr(self, data: str) -> Any:
        if self.collectStderr:
            self.stderr += self._collected("stderr", data)
        stdio = self.logs.get(self.stdioLogName)
        if stdio is not None:
            return stdio.addStderr(data)
        return None

    def addHeader(self, data: str) -> Any:
        stdio = self.logs.get(self.stdioLogName)
        if stdio is not None:
            return stdio.addHeader(data)
        return None

    # Line-wise variants (4.3 names): `is_flushed` says `data` is the tail of the stream that
    # `remoteComplete` completed with an added newline, which the collected text leaves out.
    def add_stdout_lines(self, data: str, is_flushed: bool) -> Any:
        if self.collectStdout:
            self.stdout += self._collected("stdout", data[:-1] if is_flushed else data)
        stdio = self.logs.get(self.stdioLogName)
        return stdio.addStdout(data) if stdio is not None else None

    def add_stderr_lines(self, data: str, is_flushed: bool) -> Any:
        if self.collectStderr:
            self.stderr += self._collected("stderr", data[:-1] if is_flushed else data)
        stdio = self.logs.get(self.stdioLogName)
        return stdio.addStderr(data) if stdio is not None else None

    def add_header_lines(self, data: str) -> Any:
        return self.addHeader(data)

    def split_line(self, stream: str, text: str) -> str | None:
        """The whole lines of `stream` (a stream or a log name) completed by `text`; the rest
        is kept until more arrives, or `remoteComplete` flushes it."""
        finders = self.__dict__.setdefault("_line_finders", {})
        if stream not in finders:
            finders[stream] = LineBoundaryFinder()
        line: str | None = finders[stream].append(text)
        return line

    async def addToLog(self, logname: str, data: str) -> None:
        if logname in self.delayedLogs:
            activate, close = self.delayedLogs.pop(logname)
            new_log = await defer.maybeDeferred(activate, self)
            self.useLog(new_log, close, logname)
        target = self.logs.get(logname)
        if target is not None:
            await target.addStdout(data)
        else:
            log.warn("{cmd}: no log named {name!r} for worker output", cmd=self, name=logname)

    # -- running -----------------------------------------------------------------------
    async def run(self, step: Any, conn: Any, builder_name: str) -> RemoteCommand:
        """Start the command on the worker behind `conn` and wait for it to complete."""
        self.step, self.conn, self.builder_name = step, conn, builder_name
        # One id space per master: the msgpack handshake draws from it too.
        self.commandID = RemoteCommand.generate_new_command_id()
        self.active = True
        self._done = defer.Deferred()
        if conn is None:
            raise error.ConnectionLost("worker is not connected")
        self._disconnect_sub = conn.notifyOnDisconnect(self._connection_lost)
        try:
            await conn.remoteStartCommand(self, builder_name, self.commandID,
                                          self.remote_command, self.args)
        except Exception:
            self._finish_remote()
            raise
        await self._done
        return self

    def _finish_remote(self) -> None:
        self.active = False
        if self._disconnect_sub is not None:
            self._disconnect_sub.unsubscribe()
            self._disconnect_sub = None

    def _connection_lost(self) -> None:
        if self._done is not None and not self._done.called:
            self._finish_remote()
            self._done.errback(Failure(error.ConnectionLost("worker connection lost")))

    def remote_update_msgpack(self, updates: list[tuple[str, Any]]) -> None:
        """Apply updates in the msgpack protocol's form (`[(key, value), ...]`)."""
        from buildbot.worker.protocols.msgpack import updates_to_pb
        self.remote_update(updates_to_pb(list(updates)))

    def remote_update(self, updates: list[Any]) -> int:
        """Apply `[update_dict, n]` pairs in order (PB form); returns the highest n."""
        max_num = 0
        if self.ignore_updates:
            return max_num
        for item in updates:
            try:
                update, num = item[0], item[1]
            except (TypeError, IndexError, KeyError):
                update, num = item, 0
            max_num = max(max_num, num or 0)
            for key, value in update.items():
                if isinstance(key, bytes):
                    key = key.decode("utf-8")
                try:
                    self._track(self.remoteUpdate(key, value, False))
                except Exception:
                    log.failure("{cmd}: cannot apply update {key}", cmd=self, key=key)
        return max_num

    def remoteUpdate(self, key: str, value: Any, is_flushed: bool = False) -> Any:
        """Apply one update; plugins may override to see every key."""
        self.updates.setdefault(key, []).append(value)
        if key == "stdout":
            return self.addStdout(value)
        if key == "stderr":
            return self.addStderr(value)
        if key == "header":
            return self.addHeader(value)
        if key == "log":
            logname, data = value
            return defer.ensureDeferred(self.addToLog(logname, data))
        if key == "rc":
            self.rc = value
            return self.addHeader(f"program finished with exit code {value}\n")
        if key == "failure_reason":
            self.failure_reason = value
        return None

    def remoteComplete(self, maybeFailure: Any) -> defer.Deferred[None]:
        """Flush what `split_line` holds, close the logs to close when finished, and fail
        with RemoteException if `maybeFailure` is set (the 4.3 completion steps, for code
        that drives a command itself; `run` completes through `remote_complete`)."""
        async def complete() -> None:
            for stream, finder in self.__dict__.get("_line_finders", {}).items():
                rest = finder.flush()
                if rest is None:
                    continue
                if stream in ("stdout", "stderr", "header"):
                    await defer.maybeDeferred(self.remoteUpdate, stream, rest, True)
                else:
                    await defer.maybeDeferred(self.remoteUpdate, "log", (stream, rest), True)
            for name, close in list(self._closeWhenFinished.items()):
                target = self.logs.get(name)
                if close and target is not None and not target.isFinished():
                    if maybeFailure:
                        await defer.maybeDeferred(target.addHeader,
                                                  f"\nremoteFailed: {maybeFailure}")
                    await target.finish()
            if maybeFailure:
                raise RemoteException(self._failure_text(maybeFailure))
        return defer.ensureDeferred(complete())

    def remote_complete(self, failure: Any = None) -> defer.Deferred[None]:
        """The worker finished the command (`failure` is None on success)."""
        return defer.ensureDeferred(self._complete(failure))

    async def _complete(self, failure: Any) -> None:
        if self._done is None or self._done.called:
            return
        self._finish_remote()
        self._remote_failure = failure
        self._flush_collected()
        pending = list(self._pending_writes)
        try:
            await gather(pending)
            if self._write_failure is not None:
                self._write_failure.raiseException()
            for name, close in list(self._closeWhenFinished.items()):
                target = self.logs.get(name)
                if close and target is not None and not target.isFinished():
                    await target.finish()
        except Exception:
            if not self._done.called:
                self._done.errback(Failure())
            return
        if self._done.called:
            return
        if failure is not None:
            self._done.errback(Failure(RemoteException(self._failure_text(failure))))
        else:
            self._done.callback(None)

    @staticmethod
    def _failure_text(failure: Any) -> str:
        if isinstance(failure, (str, bytes)):
            return failure.decode() if isinstance(failure, bytes) else failure
        for attr in ("value", "type"):
            if getattr(failure, attr, None) is not None:
                return f"{getattr(failure, 'type', '')}: {getattr(failure, 'value', '')}"
        return repr(failure)

    async def interrupt(self, why: Any) -> None:
        """Ask the worker to interrupt the command (nothing happens if it is not running)."""
        if not self.active or self.conn is None:
            return
        self.interrupted = True
        try:
            await self.conn.remoteInterruptCommand(self.builder_name, self.commandID, str(why))
        except (error.ConnectionLost, pb.PBConnectionLost, pb.DeadReferenceError):
            pass

    # -- results -----------------------------------------------------------------------
    def results(self) -> int:
        """The result the exit code maps to (through `decodeRC`)."""
        if self.rc in self.decodeRC:
            return self.decodeRC[self.rc]  # type: ignore[index]  # None is a valid key
        return FAILURE

    def didFail(self) -> bool:
        return self.results() == FAILURE


class RemoteShellCommand(RemoteCommand):
    """A `shell` command with the reference's arguments."""

    def __init__(
        self,
        workdir: str,
        command: Any,
        env: dict[str, Any] | None = None,
        want_stdout: bool = True,
        want_stderr: bool = True,
        timeout: int | None = 20 * 60,
        maxTime: int | None = None,
        max_lines: int | None = None,
        sigtermTime: int | None = None,
        logfiles: dict[str, Any] | None = None,
        usePTY: bool | None = None,
        logEnviron: bool = True,
        collectStdout: bool = False,
        collectStderr: bool = False,
        interruptSignal: str | None = None,
        initialStdin: str | None = None,
        decodeRC: dict[int | None, int] | None = None,
        stdioLogName: str | None = "stdio",
    ) -> None:
        self.command = command
        self.fake_command = command
        args = {
            "workdir": workdir,
            "env": env,
            "want_stdout": bool(want_stdout),
            "want_stderr": bool(want_stderr),
            "logfiles": logfiles or {},
            "timeout": timeout,
            "maxTime": maxTime,
            "max_lines": max_lines,
            "sigtermTime": sigtermTime,
            "usePTY": bool(usePTY),
            "logEnviron": logEnviron,
            "initial_stdin": initialStdin,
            "command": command,
        }
        if interruptSignal is not None:
            args["interruptSignal"] = interruptSignal
        super().__init__("shell", args, collectStdout=collectStdout,
                         collectStderr=collectStderr, decodeRC=decodeRC,
                         stdioLogName=stdioLogName)

    def __repr__(self) -> str:
        # Shown in the master's log: without the build's secrets.
        text = f"<RemoteShellCommand '{self.fake_command!r}'>"
        redactor = self._redactor()
        return redactor.redact(text) if redactor else text


class LoggedRemoteCommand(RemoteCommand):
    """The old name of RemoteCommand, kept for plugins."""
