"""ShellSequence: several shell commands in one step, each with its own result flags
(`util.ShellArg`)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from twisted.logger import Logger
from zope.interface import classImplementsOnly, implementer

from buildbot import config
from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import IRenderable
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.properties import render
from buildbot.process.results import (
    EXCEPTION,
    SUCCESS,
    ResultComputingConfigMixin,
    computeResultAndTermination,
)
from buildbot.util.deferred import ensure_deferred

log = Logger()


@implementer(IRenderable)
class ShellArg(ResultComputingConfigMixin):
    """One command of a ShellSequence: `command`, the log it writes to (`logname`; None
    drops its output) and the result flags (haltOnFailure, flunkOnFailure, ...)."""

    publicAttributes: ClassVar[list[str]] = [*ResultComputingConfigMixin.resultConfig, "command",
                                             "logname"]

    def __init__(self, command: Any = None, logname: str | None = None, **kwargs: Any) -> None:
        problems = [f"the parameter '{key}' is not handled by ShellArg"
                    for key in kwargs if key not in self.resultConfig]
        if command is None:
            problems.insert(0, f"the 'command' parameter of {type(self).__name__} "
                               "must not be None")
        for problem in problems:  # all reported when master.cfg is checked
            config.error(problem)
        self.command, self.logname = command, logname
        for key, value in kwargs.items():  # the result flags (haltOnFailure, ...)
            setattr(self, key, value)

    def validateAttributes(self) -> None:
        """Check the rendered attributes (raises ConfigErrors)."""
        if not isinstance(self.command, (str, list)):
            config.error(f"{self.command} is an invalid command, it must be a string or a list")
        if isinstance(self.command, list) and not all(isinstance(x, str) for x in self.command):
            config.error(f"{self.command} must only have strings in it")
        not_bool = [(a, getattr(self, a)) for a in self.resultConfig
                    if not isinstance(getattr(self, a), bool)]
        if not_bool:
            config.error(f"{not_bool!r} must be booleans")

    def getRenderingFor(self, build: Any) -> Any:
        """IRenderable: a copy with every public attribute rendered against `build` (4.3's
        parameter name; any IProperties provider works)."""
        return ensure_deferred(self._rendered(build))

    async def _rendered(self, build: Any) -> ShellArg:
        copied = copy.copy(self)
        copied.__class__ = _RenderedShellArg
        for attr in self.publicAttributes:
            setattr(copied, attr, await render(getattr(self, attr), build))
        return copied


class _RenderedShellArg(ShellArg):
    """A ShellArg whose attributes are rendered (no longer renderable itself)."""


classImplementsOnly(_RenderedShellArg)


class ShellSequence(ShellMixin, BuildStep):
    """Run `commands` (ShellArg objects) one after another in one step; the step's result
    merges theirs as a build merges step results, and a halting failure stops the rest."""

    last_command: Any = None
    renderables = (*BuildStep.renderables,
                   *(a for a in ShellMixin._shellMixinArgs if a != "workdir"), "commands")

    def __init__(self, commands: Any = None, **kwargs: Any) -> None:
        self.commands = commands
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)

    def shouldRunTheCommand(self, cmd: Any) -> bool:
        return bool(cmd)

    def getFinalState(self) -> str | None:
        return self._describe(True)

    async def runShellSequence(self, commands: Any) -> int:
        if commands is None:
            log.info("After rendering, ShellSequence `commands` is None")
            return EXCEPTION
        overall = SUCCESS
        for arg in commands:
            if not isinstance(arg, ShellArg):
                log.info("After rendering, ShellSequence `commands` list contains something "
                         "that is not a ShellArg")
                return EXCEPTION
            try:
                arg.validateAttributes()
            except ConfigErrors as e:
                log.info("After rendering, ShellSequence `commands` is invalid: {e}", e=e)
                return EXCEPTION
            if not self.shouldRunTheCommand(arg.command):
                continue
            self.last_command = arg.command
            cmd = await self.makeRemoteShellCommand(command=arg.command,
                                                    stdioLogName=arg.logname)
            await self.runCommand(cmd)
            overall, terminate = computeResultAndTermination(arg, cmd.results(), overall)
            if terminate:
                break
        return overall

    async def run(self) -> int:
        return await self.runShellSequence(self.commands)


__all__ = ["ShellArg", "ShellSequence"]
