"""Steps that run on the master: a local shell command, setting properties, checks and
logging a rendered value."""

from __future__ import annotations

import os
import pprint
import re
import signal
from typing import Any, ClassVar

from twisted.internet import defer, protocol
from twisted.python.failure import Failure

from buildbot.process.buildstep import BuildStep
from buildbot.process.results import CANCELLED, FAILURE, SUCCESS
from buildbot.util.deferred import gather

_ENV_REFERENCE = re.compile(r"\${([0-9a-zA-Z_]*)}")


def master_command_env(env: dict[str, Any] | None) -> dict[str, str]:
    """The environment of a MasterShellCommand process.

    None: the master's own environment. A dict: exactly its variables (as in the reference,
    the master's environment is not inherited), list values joined with `os.pathsep`,
    `${NAME}` replaced from the master's environment, None values dropped.
    """
    if env is None:
        return dict(os.environ)
    out: dict[str, str] = {}
    for key, value in env.items():
        if isinstance(value, list):
            value = os.pathsep.join(value)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RuntimeError(  # noqa: TRY004 (the reference raises this type)
                f"'env' values must be strings or lists; key '{key}' is incorrect")
        out[key] = _ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1), ""), value)
    return out


class _MasterProcess(protocol.ProcessProtocol):
    """Feeds a local process's output into the step's stdio log."""

    def __init__(self, stdio: Any) -> None:
        self.stdio = stdio
        self.writes: list[defer.Deferred[None]] = []
        self.ended: defer.Deferred[tuple[int | None, int | None]] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.writes.append(self.stdio.addStdout(data))

    def errReceived(self, data: bytes) -> None:
        self.writes.append(self.stdio.addStderr(data))

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback((getattr(reason.value, "exitCode", None),
                             getattr(reason.value, "signal", None)))


class MasterShellCommand(BuildStep):
    """Run a command on the master (not on the worker); output goes to the stdio log.

    The process runs in `workdir` if given, else in the master's current directory. It is
    killed (`interruptSignal`) when the step is interrupted, and after `runtime_timeout`
    seconds.
    """

    name = "MasterShellCommand"
    description: Any = "Running"
    descriptionDone: Any = "Ran"
    descriptionSuffix = None
    renderables = (*BuildStep.renderables, "command", "env")
    haltOnFailure = True
    flunkOnFailure = True

    # keyword arguments for the local process (not BuildStep's), with their defaults
    _process_options: ClassVar[dict[str, Any]] = {
        "env": None, "usePTY": 0, "interruptSignal": "KILL", "logEnviron": True,
        "runtime_timeout": 3600}

    def __init__(self, command: Any, **kwargs: Any) -> None:
        options = {name: kwargs.pop(name, default)
                   for name, default in self._process_options.items()}
        super().__init__(**kwargs)
        self.command = command
        self.env, self.logEnviron, self.usePTY = (
            options["env"], options["logEnviron"], options["usePTY"])
        self.interruptSignal = options["interruptSignal"]
        self.runtime_timeout = options["runtime_timeout"]
        self.process: Any = None
        # The workdir given in master.cfg, not the build's default (a worker path).
        self.masterWorkdir = self.workdir

    async def run(self) -> int:
        command = self.command
        if isinstance(command, bytes):
            command = command.decode()
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        stdio = await self.addLog("stdio")
        shown = command.strip() if isinstance(command, str) else " ".join(command)
        await stdio.addHeader(shown + "\n\n")
        await stdio.addHeader("** RUNNING ON BUILDMASTER **\n")
        await stdio.addHeader(f" in dir {os.getcwd()}\n")
        await stdio.addHeader(f" argv: {argv}\n")
        env = master_command_env(self.env)
        if self.logEnviron:
            await stdio.addHeader(f" env: {env!r}\n")
        if self.stopped:
            return CANCELLED

        from twisted.internet import reactor as _reactor

        reactor: Any = _reactor
        proto = _MasterProcess(stdio)
        self.process = reactor.spawnProcess(
            proto, argv[0], [str(a) for a in argv], env=env, path=self.masterWorkdir,
            usePTY=bool(self.usePTY))
        timer = reactor.callLater(
            self.runtime_timeout, self._kill) if self.runtime_timeout else None
        try:
            rc, sig = await proto.ended
        finally:
            if timer is not None and timer.active():
                timer.cancel()
            self.process = None
        await gather(proto.writes)
        if sig is not None:
            await stdio.addHeader(f"signal {sig}\n")
            self.descriptionDone = [f"killed ({sig})"]
            return FAILURE
        if rc != 0:
            # The reference prints the signal (None) here; the exit status is meant.
            await stdio.addHeader(f"exit status {rc}\n")
            self.descriptionDone = [f"failed ({rc})"]
            return FAILURE
        return SUCCESS

    def _kill(self) -> None:
        if self.process is None:
            return
        name = str(self.interruptSignal)
        signum = getattr(signal, name if name.startswith("SIG") else "SIG" + name,
                         signal.SIGKILL)
        try:
            self.process.signalProcess(signum)
        except OSError:
            pass  # already gone

    async def _interrupt(self, reason: Any) -> None:
        await super()._interrupt(reason)
        self._kill()


class SetProperty(BuildStep):
    """Set the build property `property` to `value` (both renderable)."""

    name = "SetProperty"
    description: Any = ("Setting",)
    descriptionDone: Any = ("Set",)
    renderables = (*BuildStep.renderables, "property", "value")

    def __init__(self, property: Any, value: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.property = property
        self.value = value

    async def run(self) -> int:
        self.build.getProperties().setProperty(self.property, self.value, self.name,
                                               runtime=True)
        return SUCCESS


class SetProperties(BuildStep):
    """Set every property of the dict `properties` (or a renderable giving one)."""

    name = "SetProperties"
    description: Any = ("Setting Properties..",)
    descriptionDone: Any = ("Properties Set",)
    renderables = (*BuildStep.renderables, "properties")

    def __init__(self, properties: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.properties = properties

    async def run(self) -> int:
        for key, value in (self.properties or {}).items():
            self.setProperty(key, value, self.name, runtime=True)
        return SUCCESS


class Assert(BuildStep):
    """SUCCESS if the rendered `check` is true, FAILURE otherwise."""

    name = "Assert"
    description: Any = ("Checking..",)
    descriptionDone: Any = ("checked",)
    renderables = (*BuildStep.renderables, "check")

    def __init__(self, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        # The summary shows the check as written in master.cfg (not its rendered value).
        self.descriptionDone = [f"checked {self.check!r}"]

    async def run(self) -> int:
        return SUCCESS if self.check else FAILURE


class LogRenderable(BuildStep):
    """Write the rendered `content`, pretty-printed, to a log named "Output"."""

    name = "LogRenderable"
    description: Any = ("Logging",)
    descriptionDone: Any = ("Logged",)
    renderables = (*BuildStep.renderables, "content")

    def __init__(self, content: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.content = content

    async def run(self) -> int:
        await self.addCompleteLog(name="Output", text=pprint.pformat(self.content))
        return SUCCESS


__all__ = ["Assert", "LogRenderable", "MasterShellCommand", "SetProperties", "SetProperty"]
