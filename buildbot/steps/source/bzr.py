"""Bazaar (bzr/brz) checkout step."""

from __future__ import annotations

import posixpath
from typing import Any

from twisted.logger import Logger

from buildbot.interfaces import WorkerSetupError
from buildbot.process.buildstep import BuildStepFailed
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.source.vc_commands import VcCommandMixin, method_for_mode

log = Logger()

_FULL_METHODS = ("clean", "fresh", "clobber", "copy", None)


class Bzr(VcCommandMixin, Source):
    """Check out a Bazaar branch: `repourl`, or `baseURL` joined with the branch
    (`defaultBranch` when the source stamp has none).

    `mode="incremental"` updates a checkout (making one when there is none); `mode="full"`
    with `method` `clean` (drop ignored files too), `fresh` (default: unknown files),
    `clobber` (new checkout) or `copy` (update "source", copy it to "build"). Sets
    `got_revision` to the revision number.
    """

    name = "bzr"
    renderables = ("repourl", "baseURL")

    def __init__(self, repourl: Any = None, baseURL: Any = None, mode: Any = "incremental",
                 method: Any = None, defaultBranch: Any = None, **kwargs: Any) -> None:
        self.repourl = repourl
        self.baseURL = baseURL
        self.branch = defaultBranch
        self.mode = mode
        self.method = method
        self.revision: Any = None
        super().__init__(**kwargs)
        # 4.3 reports these as ValueError (not a collected config error); kept
        problems = [
            (bool(repourl and baseURL), "you must provide exactly one of repourl and baseURL"),
            (repourl is None and baseURL is None,
             "you must provide at least one of repourl and baseURL"),
            (baseURL is not None and defaultBranch is None,
             "you must provide defaultBranch with baseURL"),
            (not self._hasAttrGroupMember("mode", self.mode),
             f"mode {self.mode} is not one of {self._listAttrGroupMembers('mode')}"),
            (self.mode == "full" and self.method not in _FULL_METHODS,
             f"method {self.method} is not one of {list(_FULL_METHODS)}"),
        ]
        for found, message in problems:
            if found:
                raise ValueError(message)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        if branch:
            self.branch = branch
        self.revision = revision
        self.method = method_for_mode(self.mode, self.method)
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if self.repourl is None:
            self.repourl = posixpath.join(self.baseURL, self.branch)
        if not await self.checkBzr():
            raise WorkerSetupError("bzr is not installed on worker")
        if await self.sourcedirIsPatched():
            await self.bzr("clean-tree", "--ignored", "--force")
        await self._getAttrGroupMember("mode", self.mode)()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return SUCCESS

    async def bzr(self, *args: str, **kwargs: Any) -> Any:
        return await self.run_tool(["bzr", *args], **kwargs)

    def _revision_args(self) -> list[str]:
        return ["-r", self.revision] if self.revision else []

    async def mode_incremental(self) -> None:
        if await self._sourcedirIsUpdatable():
            await self.bzr("update", *self._revision_args())
        else:
            await self._doFull()

    async def mode_full(self) -> None:
        if self.method == "clobber":
            await self.clobber()
        elif self.method == "copy":
            self.workdir = "source"
            await self.copy()
        elif not await self._sourcedirIsUpdatable():
            log.info("No bzr repo present, making full checkout")
            await self._doFull()
        elif self.method in ("clean", "fresh"):
            await getattr(self, self.method)()
        else:
            raise ValueError("Unknown method, check your configuration")

    async def _clobber(self) -> None:
        if await self.remove_dir(self.workdir) != 0:
            raise RuntimeError("Failed to delete directory")

    async def clobber(self) -> None:
        await self._clobber()
        await self._doFull()

    async def copy(self) -> None:
        await self.remove_dir("build")
        await self.mode_incremental()
        await self.copy_dir("source", "build")

    async def checkBzr(self) -> bool:
        """True when `bzr --version` works; a failing one fails the step, as in 4.3."""
        return await self.tool_works(["bzr", "--version"], abandonOnFailure=True)

    async def clean(self) -> None:
        await self.bzr("clean-tree", "--ignored", "--force")
        await self.bzr("update", *self._revision_args())

    async def fresh(self) -> None:
        await self.bzr("clean-tree", "--force")
        await self.bzr("update", *self._revision_args())

    async def _doFull(self) -> Any:
        async def checkout(abandon: bool) -> Any:
            return await self.bzr("checkout", self.repourl, ".", *self._revision_args(),
                                  abandonOnFailure=abandon)
        return await self.with_retries(checkout, self._clobber)

    async def _sourcedirIsUpdatable(self) -> bool:
        return await self.pathExists(self.build.path_module.join(self.workdir, ".bzr"))

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        if not changes:
            return None
        return max(int(c.revision) for c in changes)

    async def parseGotRevision(self) -> None:
        stdout = await self.bzr("version-info", "--custom", "--template='{revno}",
                                collectStdout=True)
        # some workers end the last line of output with a newline
        revision = stdout.strip().strip("'")
        if not revision.isdigit():
            log.info("Invalid revision number")
            raise BuildStepFailed()
        log.info("Got Bazaar revision {revision}", revision=revision)
        self.updateSourceProperty("got_revision", revision)


__all__ = ["Bzr"]
