"""CMake: configure a project with `cmake [-G generator] [-Dname=value]... [options] [path]`."""

from __future__ import annotations

from typing import Any

from buildbot import config
from buildbot.interfaces import IRenderable
from buildbot.process.buildstep import BuildStep, ShellMixin


class CMake(ShellMixin, BuildStep):
    """Run cmake; `definitions` (a dict) become `-Dname=value`, `options` (a list) follow
    as they are, then `path`. A failure halts the build."""

    DEFAULT_CMAKE = "cmake"

    name = "cmake"
    description: Any = ["running", "cmake"]
    descriptionDone: Any = ["cmake"]
    renderables = ("cmake", "definitions", "generator", "options", "path")
    haltOnFailure = True

    def __init__(self, path: Any = None, generator: Any = None, definitions: Any = None,
                 options: Any = None, cmake: Any = DEFAULT_CMAKE, **kwargs: Any) -> None:
        # (value, accepted types besides None and renderables, message when it is not one)
        shapes = ((definitions, dict, "definitions must be a dictionary or implement IRenderable"),
                  (options, (list, tuple),
                   "options must be a list, a tuple or implement IRenderable"))
        for value, accepted, message in shapes:
            if value is not None and not isinstance(value, accepted) \
                    and not IRenderable.providedBy(value):
                config.error(message)
        super().__init__(**self.setupShellMixin(kwargs, prohibitArgs=["command"]))
        self.cmake, self.generator, self.path = cmake, generator, path
        self.definitions, self.options = definitions, options

    def _cmake_command(self) -> list[Any]:
        command = [self.cmake]
        if self.generator:
            command += ["-G", self.generator]
        command += [f"-D{name}={value}" for name, value in (self.definitions or {}).items()]
        command += list(self.options or [])
        if self.path:
            command.append(self.path)
        return command

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand(command=self._cmake_command())
        await self.runCommand(cmd)
        return cmd.results()


__all__ = ["CMake"]
