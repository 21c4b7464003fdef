"""Windows-only steps: Robocopy."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import EXCEPTION, FAILURE, SUCCESS, WARNINGS

log = Logger()

# Robocopy's exit code is a bit set (https://ss64.com/nt/robocopy-exit.html): 0 and 1 mean
# nothing or files copied; bits 8 and 16 are failures, 2 and 4 extra or mismatched files.
# (Robocopy.return_flags, under 4.3's name; a subclass may change it.)
_RETURN_FLAGS = {FAILURE: [8, 16], WARNINGS: [2, 4], SUCCESS: [0, 1]}

# keyword arguments Robocopy takes besides BuildStep's, with their defaults
_OPTIONS: dict[str, Any] = {"files": None, "recursive": False, "mirror": False, "move": False,
                            "exclude_dirs": None, "custom_opts": None, "verbose": False}

# boolean argument -> switches it adds, in command-line order
_SWITCHES = (("recursive", ["/E"]), ("mirror", ["/MIR"]), ("move", ["/MOVE"]))


def robocopy_result(rc: int | None, return_flags: dict[int, list[int]] = _RETURN_FLAGS) -> int:
    """The step result for a robocopy exit code: the exact success codes, then any failure
    bit, then any warning bit; anything else (or no code at all) is an exception."""
    if rc is None:
        return EXCEPTION
    if rc in return_flags[SUCCESS]:
        return SUCCESS
    hits = [result for result in (FAILURE, WARNINGS)
            if any(rc & bit for bit in return_flags[result])]
    return hits[0] if hits else EXCEPTION


class Robocopy(ShellMixin, BuildStep):
    """Copy `source` to `destination` on the worker with `robocopy ... /TEE /NP`.

    `files` limits the copy to those names, `recursive` (/E), `mirror` (/MIR) and `move`
    (/MOVE) choose the kind of copy, `exclude_files` (or its alias `exclude`) and
    `exclude_dirs` skip names, `verbose` adds /V /TS /FP and `custom_opts` any other switch.
    """

    return_flags = _RETURN_FLAGS
    renderables = ("custom_opts", "destination", "exclude_dirs", "exclude_files", "files",
                   "source")

    def __init__(self, source: Any, destination: Any, exclude: Any = None,
                 exclude_files: Any = None, **kwargs: Any) -> None:
        options = {name: kwargs.pop(name, default) for name, default in _OPTIONS.items()}
        super().__init__(**kwargs)
        self.source, self.destination, self.files = source, destination, options["files"]
        self.recursive, self.mirror, self.move = (
            options["recursive"], options["mirror"], options["move"])
        self.exclude_files, self.exclude_dirs = exclude_files or exclude, options["exclude_dirs"]
        self.custom_opts, self.verbose = options["custom_opts"], options["verbose"]

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
        result = robocopy_result(cmd.rc, self.return_flags)
        if result == EXCEPTION:
            log.info("Unknown return code for Robocopy: {rc}", rc=cmd.rc)
        return result


__all__ = ["Robocopy"]
