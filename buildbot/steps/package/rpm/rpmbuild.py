"""RpmBuild: `rpmbuild -ba <specfile>` with the rpm directories defined on the command line."""

from __future__ import annotations

import os
from typing import Any

from buildbot import config
from buildbot.process import buildstep, logobserver

# Lines of rpmbuild output copied to the "RPM Command Log" and "RPM Errors" logs.
_COMMAND_LOG_PREFIXES = ("Provides:", "Requires(", "Requires:", "Checking for unpackaged",
                         "Wrote:", "Executing(%", "+ ", "Processing files:")
_ERROR_PREFIXES = ("   ", "RPM build errors:", "error: ")


def _read_release(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        # no release file, or not a number in it: 4.3 starts the release count at 0 then
        return 0


class RpmBuild(buildstep.ShellMixin, buildstep.BuildStep):
    """Build binary and source rpms of `specfile`.

    The six rpm directories default to the step's working directory (`` `pwd` ``), `define`
    adds macros, `dist` sets the `dist` macro. `autoRelease` numbers builds through a
    `<spec name>.release` counter file in the master's current directory (as 4.3 does);
    `vcsRevision` passes `got_revision` as the `_revision` macro.
    """

    renderables = ("dist",)
    name = "rpmbuilder"
    haltOnFailure = True
    flunkOnFailure = True
    description: Any = ("RPMBUILD",)
    descriptionDone: Any = ("RPMBUILD",)

    def __init__(self, specfile: Any = None, topdir: str = "`pwd`", builddir: str = "`pwd`",
                 rpmdir: str = "`pwd`", sourcedir: str = "`pwd`", specdir: str = "`pwd`",
                 srcrpmdir: str = "`pwd`", dist: Any = ".el6", define: Any = None,
                 autoRelease: bool = False, vcsRevision: bool = False, **kwargs: Any) -> None:
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        self.dist = dist
        macros = [("_topdir", topdir), ("_builddir", builddir), ("_rpmdir", rpmdir),
                  ("_sourcedir", sourcedir), ("_specdir", specdir), ("_srcrpmdir", srcrpmdir),
                  *(define or {}).items()]
        self.base_rpmbuild = "rpmbuild" + "".join(f' --define "{k} {v}"' for k, v in macros)
        self.specfile = specfile
        self.autoRelease = autoRelease
        self.vcsRevision = vcsRevision
        if not self.specfile:
            config.error("You must specify a specfile")
        self.rpmcmdlog: list[str] = []
        self.rpmerrors: list[str] = []
        self.addLogObserver("stdio", logobserver.LineConsumerLogObserver(self.logConsumer))

    def build_macros(self) -> dict[str, Any]:
        """The macros that vary per build: dist, and _release/_revision when asked for."""
        macros: dict[str, Any] = {"dist": self.dist}
        if self.autoRelease:
            counter = os.path.basename(self.specfile).split(".")[0] + ".release"
            release = _read_release(counter)
            macros["_release"] = release
            with open(counter, "w", encoding="utf-8") as f:
                f.write(str(release + 1))
        if self.vcsRevision:
            revision = self.getProperty("got_revision")
            if revision and not isinstance(revision, dict):  # one codebase only
                macros["_revision"] = revision
        return macros

    async def run(self) -> int:
        self.rpmbuild = self.base_rpmbuild + "".join(
            f' --define "{k} {v}"' for k, v in sorted(self.build_macros().items()))
        cmd = await self.makeRemoteShellCommand(command=f"{self.rpmbuild} -ba {self.specfile}")
        await self.runCommand(cmd)
        await self.getLog("stdio").finish()
        await self.addCompleteLog("RPM Command Log", "\n".join(self.rpmcmdlog))
        if self.rpmerrors:
            await self.addCompleteLog("RPM Errors", "\n".join(self.rpmerrors))
        return cmd.results()

    def logConsumer(self) -> Any:
        """Line consumer sorting rpmbuild output into the command log and the errors."""
        while True:
            _, line = yield
            if line.startswith(_COMMAND_LOG_PREFIXES):
                self.rpmcmdlog.append(line)
            if line.startswith(_ERROR_PREFIXES):
                self.rpmerrors.append(line)


__all__ = ["RpmBuild"]
