"""Steps working on the worker's file system (remove, create, copy, check), properties from
the worker's environment, and `CompositeStepMixin`, the helpers steps use to run several
file-system commands in one step."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

from buildbot.process import remotetransfer
from buildbot.process.buildstep import BuildStep, BuildStepFailed
from buildbot.process.remotecommand import RemoteCommand
from buildbot.process.results import FAILURE, SUCCESS
from buildbot.util.deferred import maybe_await


class WorkerBuildStep(BuildStep):
    """Base of the steps in this module."""


class SetPropertiesFromEnv(WorkerBuildStep):
    """Copy worker environment variables (as reported when it connected) into properties.

    On Windows workers the variable names are looked up upper-cased (the worker reports the
    environment that way); the property keeps the spelling given. Unset or empty variables
    set nothing.
    """

    name = "SetPropertiesFromEnv"
    description: Any = ("Setting",)
    descriptionDone: Any = ("Set",)

    def __init__(self, variables: Any, source: str = "WorkerEnvironment", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variables = variables
        self.source = source

    async def run(self) -> int:
        upper = self.worker.worker_system == "nt"
        environ = self.worker.worker_environ
        variables = [self.variables] if isinstance(self.variables, str) else self.variables
        lines = []
        for variable in variables:
            value = environ.get(variable.upper() if upper else variable)
            if value:
                self.build.getProperties().setProperty(variable, value, self.source,
                                                       runtime=True)
                lines.append(f"{variable} = {value!r}")
        await self.addCompleteLog("properties", "\n".join(lines))
        return SUCCESS


class FileExists(WorkerBuildStep):
    """Succeed if `file` (relative to the builder directory) is a regular file."""

    name = "FileExists"
    renderables = (*BuildStep.renderables, "file")
    haltOnFailure = True
    flunkOnFailure = True

    def __init__(self, file: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file = file

    async def run(self) -> int:
        self.checkWorkerHasCommand("stat")
        cmd = RemoteCommand("stat", {"file": self.file})
        await self.runCommand(cmd)
        if cmd.didFail():
            self.descriptionDone = ["File not found."]
            return FAILURE
        if stat.S_ISREG(cmd.updates["stat"][-1][stat.ST_MODE]):
            self.descriptionDone = ["File found."]
            return SUCCESS
        self.descriptionDone = ["Not a file."]
        return FAILURE


class CopyDirectory(WorkerBuildStep):
    """Copy the directory `src` to `dest` on the worker (`cp -R -P -p`)."""

    name = "CopyDirectory"
    description: Any = ("Copying",)
    descriptionDone: Any = ("Copied",)
    renderables = (*BuildStep.renderables, "src", "dest")
    haltOnFailure = True
    flunkOnFailure = True

    def __init__(self, src: Any, dest: Any, timeout: int = 120, maxTime: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.src = src
        self.dest = dest
        self.timeout = timeout
        self.maxTime = maxTime

    async def run(self) -> int:
        self.checkWorkerHasCommand("cpdir")
        limit = {"maxTime": self.maxTime} if self.maxTime else {}
        cmd = RemoteCommand("cpdir", {"fromdir": self.src, "todir": self.dest,
                                      "timeout": self.timeout, **limit})
        await self.runCommand(cmd)
        failed = cmd.didFail()
        what = ["Copying", self.src, "to", self.dest, "failed."] if failed \
            else ["Copied", self.src, "to", self.dest]
        self.descriptionDone = what
        return FAILURE if failed else SUCCESS


class _DirectoryStep(WorkerBuildStep):
    """Runs the worker command `worker_command` on the directory `dir`."""

    worker_command = ""
    failed_text = ""
    renderables = (*BuildStep.renderables, "dir")
    haltOnFailure = True
    flunkOnFailure = True

    def __init__(self, dir: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dir = dir

    async def run(self) -> int:
        self.checkWorkerHasCommand(self.worker_command)
        cmd = RemoteCommand(self.worker_command, {"dir": self.dir})
        await self.runCommand(cmd)
        if cmd.didFail():
            self.descriptionDone = [self.failed_text]
            return FAILURE
        return SUCCESS


class RemoveDirectory(_DirectoryStep):
    """Delete the directory tree `dir` (relative to the builder directory)."""

    name = "RemoveDirectory"
    description: Any = ("Deleting",)
    descriptionDone: Any = ("Deleted",)
    worker_command = "rmdir"
    failed_text = "Delete failed."


class MakeDirectory(_DirectoryStep):
    """Create the directory `dir` and its parents (relative to the builder directory)."""

    name = "MakeDirectory"
    description: Any = ("Creating",)
    descriptionDone: Any = ("Created",)
    worker_command = "mkdir"
    failed_text = "Create failed."


class CompositeStepMixin:
    """Run file-system commands and small transfers from inside one step.

    Output of these commands goes to the log set by `addLogForRemoteCommands` (none before).
    Each helper raises BuildStepFailed on failure when `abandonOnFailure` is true.
    """

    rc_log: Any = None

    def _step(self) -> Any:
        return self

    def workerPathToMasterPath(self, path: str) -> str:
        parts: list[str] = list(self._step().worker.path_module.split(path))
        return os.path.join(*parts)

    async def addLogForRemoteCommands(self, logname: str) -> Any:
        """Send the output of the following commands to a new log named `logname`."""
        self.rc_log = await self._step().addLog(logname)
        return self.rc_log

    async def runRemoteCommand(self, cmd: str, args: dict[str, Any],
                               abandonOnFailure: bool = True,
                               evaluateCommand: Callable[[RemoteCommand], Any] =
                               lambda cmd: cmd.didFail()) -> Any:
        """Run worker command `cmd`; return `evaluateCommand(command)`."""
        command = RemoteCommand(cmd, args)
        if self.rc_log is not None:
            command.useLog(self.rc_log, False)
        await self._step().runCommand(command)
        if abandonOnFailure and command.didFail():
            raise BuildStepFailed()
        return await maybe_await(evaluateCommand(command))

    def _log_environ(self) -> Any:
        return getattr(self, "logEnviron", True)

    async def runRmdir(self, dir: Any, timeout: int | None = None, **kwargs: Any) -> Any:
        """Remove a directory (or a list of them) on the worker."""
        args: dict[str, Any] = {"dir": dir, "logEnviron": self._log_environ()}
        if timeout:
            args["timeout"] = timeout
        return await self.runRemoteCommand("rmdir", args, **kwargs)

    async def runRmFile(self, path: str, timeout: int | None = None, **kwargs: Any) -> Any:
        """Remove one file on the worker."""
        args: dict[str, Any] = {"path": path, "logEnviron": self._log_environ()}
        if timeout:
            args["timeout"] = timeout
        return await self.runRemoteCommand("rmfile", args, **kwargs)

    async def pathExists(self, path: str) -> bool:
        """Whether `path` (relative to the builder directory) exists on the worker."""
        return bool(await self.runRemoteCommand(
            "stat", {"file": path, "logEnviron": self._log_environ()}, abandonOnFailure=False,
            evaluateCommand=lambda cmd: not cmd.didFail()))

    async def runMkdir(self, _dir: str, **kwargs: Any) -> Any:
        """Create a directory and its parents on the worker."""
        return await self.runRemoteCommand(
            "mkdir", {"dir": _dir, "logEnviron": self._log_environ()}, **kwargs)

    async def runGlob(self, path: str, **kwargs: Any) -> list[str]:
        """Absolute paths on the worker matching the pattern `path`."""
        result: list[str] = await self.runRemoteCommand(
            "glob", {"path": path, "logEnviron": self._log_environ()},
            evaluateCommand=lambda cmd: cmd.updates["files"][-1], **kwargs)
        return result

    async def getFileContentFromWorker(self, filename: str,
                                       abandonOnFailure: bool = False) -> str | None:
        """The text of `filename` (relative to the step's workdir), None if unreadable."""
        step = self._step()
        step.checkWorkerHasCommand("uploadFile")
        writer = remotetransfer.StringFileWriter()
        args = {"workdir": step.workdir, "writer": writer, "maxsize": None,
                "blocksize": 32 * 1024, "workersrc": filename}
        result: str | None = await self.runRemoteCommand(
            "uploadFile", args, abandonOnFailure=abandonOnFailure,
            evaluateCommand=lambda cmd: None if cmd.didFail() else writer.buffer)
        return result

    async def downloadFileContentToWorker(self, workerdest: str, strfile: str | bytes,
                                          abandonOnFailure: bool = False,
                                          mode: int | None = None,
                                          workdir: str | None = None) -> Any:
        """Write `strfile` to `workerdest` (relative to `workdir`, default the step's)."""
        step = self._step()
        step.checkWorkerHasCommand("downloadFile")
        reader = remotetransfer.StringFileReader(strfile)
        args = {"workdir": workdir if workdir is not None else step.workdir, "maxsize": None,
                "mode": mode, "reader": reader, "blocksize": 32 * 1024,
                "workerdest": workerdest}
        return await self.runRemoteCommand(
            "downloadFile", args, abandonOnFailure=abandonOnFailure,
            evaluateCommand=lambda cmd: None if cmd.didFail() else reader)


__all__ = [
    "CompositeStepMixin", "CopyDirectory", "FileExists", "MakeDirectory", "RemoveDirectory",
    "SetPropertiesFromEnv", "WorkerBuildStep",
]
