"""Shell steps: ShellCommand and the classic compile/test/configure family."""

from __future__ import annotations

from typing import Any

from buildbot import config
from buildbot.process.buildstep import _COMMON_PARMS, BuildStep, ShellMixin


class ShellCommand(ShellMixin, BuildStep):
    """Run a command on the worker; the result comes from its exit code (`decodeRC`)."""

    name = "shell"
    renderables = tuple(BuildStep.renderables) + tuple(
        a for a in ShellMixin._shellMixinArgs if a != "workdir")

    def __init__(self, **kwargs: Any) -> None:
        if type(self) is ShellCommand:
            if "command" not in kwargs or kwargs["command"] is None:
                config.error("ShellCommand's `command' argument is not specified")
            bad = [k for k in kwargs
                   if k not in ShellMixin._shellMixinArgs and k not in _COMMON_PARMS]
            if bad:
                config.error(f"Invalid argument(s) passed to ShellCommand: {', '.join(bad)}")
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        return cmd.results()


class Configure(ShellCommand):
    name = "configure"
    haltOnFailure = True
    flunkOnFailure = True
    description = ["configuring"]
    descriptionDone = ["configure"]
    command = ["./configure"]


class Test(ShellCommand):
    name = "test"
    warnOnFailure = True
    description = ["testing"]
    descriptionDone = ["test"]
    command = ["make", "test"]
