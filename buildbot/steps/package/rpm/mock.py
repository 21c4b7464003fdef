"""Mock steps: build source rpms and rebuild them in a mock chroot."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from buildbot.process import buildstep, logobserver
from buildbot.steps.package.util import property_from_lines, take_arguments

_MOCK_LOGS = ("build.log", "root.log", "state.log")


class MockStateObserver(logobserver.LogLineObserver):
    """Follows mock's state.log ("Start: x" / "Finish: x") into the step's description
    suffix "[x]"."""

    _state_re = re.compile(r"^.*(Start|Finish): (.*)$")

    def outLineReceived(self, line: str) -> None:
        m = self._state_re.search(line.strip())
        if m is None:
            return
        self.step.descriptionSuffix = [f"[{m.group(2)}]"] if m.group(1) == "Start" else None
        self.step.updateSummary()


class Mock(buildstep.ShellMixin, buildstep.CommandMixin, buildstep.BuildStep):
    """Run `mock --root <root> [--resultdir <dir>]`; mock's build.log, root.log and state.log
    (under `resultdir`) become logs of the step, their old copies removed first."""

    name = "mock"
    renderables = ("root", "resultdir")
    haltOnFailure = True
    flunkOnFailure = True
    mock_logfiles = _MOCK_LOGS
    root: Any = None
    resultdir: Any = None

    def __init__(self, root: Any = None, resultdir: Any = None, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        take_arguments(self, {"root": "You must specify a mock root"}, root=root,
                       resultdir=resultdir)
        self.command = ["mock", "--root", self.root,
                        *(["--resultdir", self.resultdir] if self.resultdir else [])]

    async def run(self) -> int:
        pm = self.build.path_module
        self.logfiles = dict(self.logfiles or {})
        for name in self.mock_logfiles:
            self.logfiles[name] = pm.join(self.resultdir, name) if self.resultdir else name
        self.addLogObserver("state.log", MockStateObserver())
        # the removal's output goes to stdio, created first as in 4.3
        await self.addLog("stdio")
        await self.runRmdir([pm.join("build", self.logfiles[n]) for n in self.mock_logfiles])  # type: ignore[arg-type]  # rmdir takes a list too
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        return cmd.results()

    def getResultSummary(self) -> dict[str, str]:
        self.descriptionSuffix = None
        return super().getResultSummary()


class MockBuildSRPM(Mock):
    """`mock --buildsrpm --spec <spec> --sources <sources>`; sets the property `srpm` from
    the "Wrote: .../x.src.rpm" line."""

    name = "mockbuildsrpm"
    description: Any = ("mock buildsrpm",)
    descriptionDone: Any = ("mock buildsrpm",)
    spec: Any = None
    sources: Any = "."

    def __init__(self, spec: Any = None, sources: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        take_arguments(self, {"spec": "You must specify a spec file",
                              "sources": "You must specify a sources dir"},
                       spec=spec, sources=sources)
        self.command += ["--buildsrpm", "--spec", self.spec, "--sources", self.sources]
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self.logConsumer))

    def logConsumer(self) -> Generator[None, tuple[str, str], None]:
        """Consumer of the output's (stream, line) pairs: `srpm` from "Wrote: .../x.src.rpm"."""
        return property_from_lines(self, r"Wrote: .*/([^/]*.src.rpm)", "srpm", "MockBuildSRPM")


class MockRebuild(Mock):
    """`mock --rebuild <srpm>`."""

    name = "mock"
    description: Any = ("mock rebuilding srpm",)
    descriptionDone: Any = ("mock rebuild srpm",)
    srpm: Any = None

    def __init__(self, srpm: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        take_arguments(self, {"srpm": "You must specify a srpm"}, srpm=srpm)
        self.command += ["--rebuild", self.srpm]


__all__ = ["Mock", "MockBuildSRPM", "MockRebuild", "MockStateObserver"]
