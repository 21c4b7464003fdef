"""Windows-only steps: Robocopy."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS, WARNINGS

log = Logger()

# Robocopy's exit code is a bit set (https://ss64.com/nt/robocopy-exit.html): 0 and 1 mean
# nothing or files copied; bits 8 and 16 are failures, 2 and 4 extra or mismatched files.
_FAILURE_BITS = 8 | 16
_WARNING_BITS = 2 | 4

# boolean argument -> switches it adds, in command-line order
_SWITCHES = (("recursive", ["/E"]), ("mirror", ["/MIR"]), ("move", ["/MOVE"]))


def robocopy_result(rc: int | None) -> int:
    """The step result for a robocopy exit code."""
    if rc in (0, 1):
        return SUCCESS
    if rc is not None and rc & _FAILURE_BITS:
        return FAILURE
    if rc is not None and rc & _WARNING_BITS:
        return WARNINGS
    return EXCEPTION


class Robocopy(ShellMixin, BuildStep):
    """Copy `source` to `destination` on the worker with `robocopy ... /TEE /NP`.

    `files` limits the copy to those names, `recursive` (/E), `mirror` (/MIR) and `move`
    (/MOVE) choose the kind of copy, `exclude_files` (or its alias `exclude`) and
    `exclude_dirs` skip names, `verbose` adds /V /TS /FP and `custom_opts` any other switch.
    """

    renderables = ("custom_opts", "destination", "exclude_dirs", "exclude_files", "files",
                   "source")

    def __init__(self, source: Any, destination: Any, exclude: Any = None,
                 exclude_files: Any = None, **kwargs: Any) -> None:
        self.source = source
        self.destination = destination
        self.files = kwargs.pop("files", None)
        self.recursive = kwargs.pop("recursive", False)
        self.mirror = kwargs.pop("mirror", False)
        self.move = kwargs.pop("move", False)
        self.exclude_files = exclude_files or exclude
        self.exclude_dirs = kwargs.pop("exclude_dirs", None)
        self.custom_opts = kwargs.pop("custom_opts", None)
        self.verbose = kwargs.pop("verbose", False)
        super().__init__(**kwargs)

    def robocopy_command(self) -> list[Any]:
        command = ["robocopy", self.source, self.destination, *(self.files or [])]
        for attr, switches in _SWITCHES:
            if getattr(self, attr):
                command += switches
        if self.exclude_files:
            command += ["/XF", *self.exclude_files]
        if self.exclude_dirs:
            command += ["/XD", *self.exclude_dirs]
        if self.verbose:
            command += ["/V", "/TS", "/FP"]
        command += [*(self.custom_opts or []), "/TEE", "/NP"]
        return command

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand(command=self.robocopy_command())
        await self.runCommand(cmd)
        result = robocopy_result(cmd.rc)
        if result == EXCEPTION:
            log.info("Unknown return code for Robocopy: {rc}", rc=cmd.rc)
        return result


__all__ = ["Robocopy"]
