"""RpmLint: check specs or rpms with `rpmlint -i`."""

from __future__ import annotations

from typing import Any

from buildbot.steps.package.util import WEObserver
from buildbot.steps.shell import Test


class RpmLint(Test):
    """Run `rpmlint -i [-f config] <fileloc>`; its `W: ` lines go to a "<n> Warnings" log.

    As a `Test`, lines matching the warning pattern make the step WARNINGS.
    """

    name = "rpmlint"
    description: Any = ("Checking for RPM/SPEC issues",)
    descriptionDone: Any = ("Finished checking RPM/SPEC issues",)
    fileloc: Any = "."
    config: Any = None

    def __init__(self, fileloc: Any = None, config: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if fileloc:
            self.fileloc = fileloc
        if config:
            self.config = config
        self.command = ["rpmlint", "-i", *(["-f", self.config] if self.config else []),
                        self.fileloc]
        self.obs = WEObserver()
        self.addLogObserver("stdio", self.obs)

    async def createSummary(self) -> None:
        # replaces the warning-counting summary: no "warnings (n)" log, no warnings-count
        warnings = self.obs.warnings
        if warnings:
            await self.addCompleteLog(f"{len(warnings)} Warnings", "\n".join(warnings))


__all__ = ["RpmLint"]
