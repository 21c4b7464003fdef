"""DebLintian: check a .deb or .changes file with lintian."""

from __future__ import annotations

from typing import Any

from buildbot.process import buildstep
from buildbot.process.results import FAILURE, SUCCESS, WARNINGS
from buildbot.steps.maxq import MaxQObserver  # 4.3 defines this observer in lintian too
from buildbot.steps.package.util import WEObserver, take_arguments


class DebLintian(buildstep.ShellMixin, buildstep.BuildStep):
    """`lintian -v <fileloc> [--suppress-tags tag ...]`: `E: ` lines (or a non-zero exit) fail,
    `W: ` lines warn; both are copied to "<n> Errors" / "<n> Warnings" logs. A failure only
    warns the build (flunkOnFailure False, warnOnFailure True)."""

    name = "lintian"
    description: Any = "Lintian running"
    descriptionDone: Any = "Lintian"
    fileloc: Any = None
    suppressTags: Any = ()
    flunkOnFailure = False
    warnOnFailure = True

    def __init__(self, fileloc: Any = None, suppressTags: Any = None, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs)
        super().__init__(**kwargs)
        take_arguments(self, {"fileloc": "You must specify a fileloc"}, fileloc=fileloc,
                       suppressTags=suppressTags)
        self.command = ["lintian", "-v", self.fileloc]
        self.command += [arg for tag in self.suppressTags or []
                         for arg in ("--suppress-tags", tag)]
        self.obs = WEObserver()
        self.addLogObserver("stdio", self.obs)

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand()
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        warnings, errors = self.obs.warnings, self.obs.errors
        for found, label in ((warnings, "Warnings"), (errors, "Errors")):
            if found:
                await self.addCompleteLog(f"{len(found)} {label}", "\n".join(found))
        if cmd.rc != 0 or errors:
            return FAILURE
        return WARNINGS if warnings else SUCCESS


__all__ = ["DebLintian", "MaxQObserver"]
