"""MaxQ: run a MaxQ web test directory with `run_maxq.py` and count its failures."""

from __future__ import annotations

from typing import Any

from buildbot import config
from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import FAILURE, SUCCESS


class MaxQObserver(logobserver.LogLineObserver):
    """Counts `TEST FAILURE:` lines."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def outLineReceived(self, line: str) -> None:
        if line.startswith("TEST FAILURE:"):
            self.failures += 1


class MaxQ(ShellMixin, BuildStep):
    """`run_maxq.py TESTDIR`; failures reported in the output, or a failing exit code
    (counted as one failure), fail the step."""

    flunkOnFailure = True
    name = "maxq"
    binary = "run_maxq.py"
    failures = 0

    def __init__(self, testdir: Any = None, **kwargs: Any) -> None:
        super().__init__(**self.setupShellMixin(kwargs))
        if not testdir:
            config.error("please pass testdir")
        self.testdir = testdir
        self.observer = MaxQObserver()
        self.addLogObserver("stdio", self.observer)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand(command=[self.binary, self.testdir])
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        self.failures = self.observer.failures or (1 if cmd.didFail() else 0)
        return FAILURE if self.failures else SUCCESS

    def getResultSummary(self) -> dict[str, str]:
        return {"step": f"{self.failures} maxq failures" if self.failures else "success"}


__all__ = ["MaxQ"]
