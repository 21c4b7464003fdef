"""Darcs checkout step."""

from __future__ import annotations

from typing import Any

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import WorkerSetupError
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.source.vc_commands import (
    VcCommandMixin,
    full_copy_mode_errors,
    required_errors,
)


class Darcs(VcCommandMixin, Source):
    """Get `repourl` with darcs.

    `mode="incremental"` pulls into an existing repository (getting one when missing);
    `mode="full"` either re-gets it (`method="clobber"`) or keeps a pristine copy in
    "source" and copies it to "build" (`method="copy"`, the default). A revision is a darcs
    context, sent to the worker as `.darcs-context`. `got_revision` is the text of the
    latest change (`darcs changes --max-count=1`).
    """

    name = "darcs"
    renderables = ("repourl",)
    possible_methods = ("clobber", "copy")

    def __init__(self, repourl: Any = None, mode: Any = "incremental", method: Any = None,
                 **kwargs: Any) -> None:
        self.repourl = repourl
        self.method = method
        self.mode = mode
        self.revision: Any = None
        super().__init__(**kwargs)
        errors = full_copy_mode_errors(self, self.possible_methods) + required_errors(
            repourl=repourl)
        if errors:
            raise ConfigErrors(errors)

    async def checkDarcs(self) -> bool:
        """Whether `darcs --version` works on the worker."""
        return await self.tool_works(["darcs", "--version"])

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.revision = revision
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkDarcs():
            raise WorkerSetupError("Darcs is not installed on worker")
        if await self.sourcedirIsPatched():
            await self.copy()
        await self._getAttrGroupMember("mode", self.mode)()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return SUCCESS

    async def mode_full(self) -> None:
        await (self.clobber() if self.method == "clobber" else self.copy())

    async def mode_incremental(self) -> None:
        if await self._sourcedirIsUpdatable():
            await self.run_tool(["darcs", "pull", "--all", "--verbose"])
        else:
            # the worker created the directory for `darcs --version`; `darcs get` refuses
            # an existing one (4.3 fails here)
            await self.runRmdir(self.workdir)
            await self._checkout()

    async def copy(self) -> None:
        await self.remove_dir(self.workdir, with_timeout=True)
        self.workdir = "source"
        await self.mode_incremental()
        await self.copy_dir("source", "build", with_timeout=True)
        self.workdir = "build"

    async def clobber(self) -> None:
        await self.runRmdir(self.workdir)
        await self._checkout()

    async def _clone(self, abandonOnFailure: bool = False) -> Any:
        command = ["darcs", "get", "--verbose", "--lazy", "--repo-name", self.workdir]
        if self.revision:
            # next to where `darcs get` runs (4.3 writes it into the workdir, which then
            # exists and is refused by darcs get)
            await self.downloadFileContentToWorker(".darcs-context", self.revision,
                                                   workdir=".")
            command += ["--context", ".darcs-context"]
        command.append(self.repourl)
        return await self.run_tool(command, workdir=".", abandonOnFailure=abandonOnFailure)

    async def _checkout(self) -> Any:
        return await self.with_retries(self._clone, lambda: self.runRmdir(self.workdir))

    async def parseGotRevision(self) -> None:
        revision = await self.run_tool(["darcs", "changes", "--max-count=1"],
                                       collectStdout=True)
        self.updateSourceProperty("got_revision", revision)

    async def _sourcedirIsUpdatable(self) -> bool:
        return await self.pathExists(self.build.path_module.join(self.workdir, "_darcs"))


__all__ = ["Darcs"]
