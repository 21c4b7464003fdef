"""Mercurial checkout step (`hg` commands run on the worker)."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import WorkerSetupError
from buildbot.process import buildstep
from buildbot.process.remotecommand import RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source, remove_each

log = Logger()


class Mercurial(Source):
    """Check out `repourl` with hg.

    Branches are either directories of `repourl` (`branchType='dirname'`: the branch is
    appended to the URL) or named branches in one repository (`'inrepo'`, where a branch
    change clobbers the tree unless `clobberOnBranchChange=False`). Modes: `incremental`
    (pull and update), `full` with `clean` (purge untracked), `fresh` (purge ignored too,
    the default) or `clobber` (fresh clone). Sets `got_revision`.
    """

    name = "hg"
    renderables = ("repourl",)
    possible_methods = (None, "clean", "fresh", "clobber")
    possible_branchTypes = ("inrepo", "dirname")

    def __init__(self, repourl: Any = None, mode: Any = "incremental", method: Any = None,
                 defaultBranch: Any = None, branchType: str = "dirname",
                 clobberOnBranchChange: bool = True, **kwargs: Any) -> None:
        self.repourl, self.mode, self.method = repourl, mode, method
        self.branchType, self.clobberOnBranchChange = branchType, clobberOnBranchChange
        # `branch` is what the step last checked out, `update_branch` what this build wants
        self.defaultBranch = self.branch = defaultBranch
        self.revision: Any = None
        self.update_branch: Any = None
        super().__init__(mode=mode, **kwargs)
        checks = [
            (not self.has_supported_mode(),
             f"mode {self.mode} is not one of {self._listAttrGroupMembers('mode')}"),
            (self.method not in self.possible_methods,
             f"method {self.method} is not one of {self.possible_methods}"),
            (self.branchType not in self.possible_branchTypes,
             f"branchType {self.branchType} is not one of {self.possible_branchTypes}"),
            (repourl is None, "you must provide a repourl"),
        ]
        problems = [message for failed, message in checks if failed]
        if problems:
            raise ConfigErrors(problems)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.revision = revision
        self.method = self._getMethod()
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkHg():
            raise WorkerSetupError("Mercurial is not installed on worker")
        await self.sourcedirIsPatched()
        if self.branchType == "dirname":
            # a branch is a directory next to the default one
            self.repourl += branch or ""
            self.branch, self.update_branch = self.defaultBranch, branch
        else:
            self.update_branch = branch or "default"
        await self.run_mode()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return SUCCESS

    async def mode_full(self) -> None:
        if self.method == "clobber":
            await self.clobber()
            return
        if not await self._sourcedirIsUpdatable():
            await self._clone()
            await self._update()
            return
        in_place = {"clean": self.clean, "fresh": self.fresh}
        if self.method not in in_place:
            raise ValueError("Unknown method, check your configuration")
        await in_place[self.method]()

    async def mode_incremental(self) -> None:
        if self.method is not None:
            raise ValueError(self.method)
        if await self._sourcedirIsUpdatable():
            await self._dovccmd(self.getHgPullCommand())
        else:
            await self._clone()
        await self._checkBranchChange()

    async def _purge(self, ignored_too: bool) -> None:
        # the purge extension, enabled for this command only
        await self._dovccmd(["--config", "extensions.purge=", "purge",
                             *(["--all"] if ignored_too else [])])

    async def clean(self) -> None:
        await self._purge(False)
        await self._pullUpdate()

    async def fresh(self) -> None:
        await self._purge(True)
        await self._pullUpdate()

    async def _clobber(self) -> None:
        await self.worker_command("rmdir", {"dir": self.workdir, "logEnviron": self.logEnviron},
                                  abandonOnFailure=False)

    async def clobber(self) -> None:
        await self._clobber()
        await self._clone()
        await self._update()

    async def parseGotRevision(self) -> None:
        node = (await self._dovccmd(["parents", "--template", "{node}\\n"],
                                    collectStdout=True)).strip()
        if len(node) != 40:
            raise ValueError("Incorrect revision id")
        log.info("Got Mercurial revision {revision}", revision=node)
        self.updateSourceProperty("got_revision", node)

    async def _checkBranchChange(self) -> None:
        current = await self._getCurrentBranch()
        if current == self.update_branch or not self.clobberOnBranchChange:
            await self._removeAddedFilesAndUpdate(None)
            return
        log.info("Working dir is on in-repo branch '{cur}' and build needs '{want}'. "
                 "Clobbering.", cur=current, want=self.update_branch)
        await self.clobber()

    def _rev_args(self) -> list[str]:
        # the build's revision, else the in-repo branch; a dirname branch is in the URL
        if self.revision:
            return ["--rev", self.revision]
        return ["--rev", self.update_branch] if self.branchType == "inrepo" else []

    def getHgPullCommand(self) -> list[str]:
        return ["pull", self.repourl, *self._rev_args()]

    async def _pullUpdate(self) -> None:
        await self._dovccmd(self.getHgPullCommand())
        await self._checkBranchChange()

    async def _dovccmd(self, command: list[str], collectStdout: bool = False,
                       initialStdin: str | None = None, decodeRC: Any = None,
                       abandonOnFailure: bool = True) -> Any:
        if not command:
            raise ValueError("No command specified")
        cmd = RemoteShellCommand(
            self.workdir, ["hg", "--verbose", *command], env=self.env,
            logEnviron=self.logEnviron, timeout=self.timeout, collectStdout=collectStdout,
            initialStdin=initialStdin, decodeRC=decodeRC or {0: SUCCESS})
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if abandonOnFailure and cmd.didFail():
            log.info("Source step failed while running command {cmd}", cmd=cmd)
            raise buildstep.BuildStepFailed()
        return cmd.stdout if collectStdout else cmd.rc

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        if len(changes) > 1:
            log.info("Mercurial.computeSourceRevision: warning: there are {n} changes here, "
                     "assuming the last one is the most recent", n=len(changes))
        return changes[-1].revision if changes else None

    async def _getCurrentBranch(self) -> Any:
        if self.branchType == "inrepo":
            return (await self._dovccmd(["identify", "--branch"], collectStdout=True)).strip()
        return self.branch

    async def _sourcedirIsUpdatable(self) -> bool:
        return await self.pathExists(self.build.path_module.join(self.workdir, ".hg"))

    async def _removeAddedFilesAndUpdate(self, _: Any) -> None:
        # files `hg add`ed but not committed survive `update --clean`: remove them first
        added = await self._dovccmd(["locate", "set:added()"], collectStdout=True,
                                    decodeRC={0: SUCCESS, 1: SUCCESS})
        paths = [f"{self.workdir}/{name}" for name in added.splitlines()]
        if paths:
            await self.worker_command("rmdir", {"dir": paths, "logEnviron": self.logEnviron},
                                      abandonOnFailure=False)
        await self._update()

    async def _update(self) -> None:
        await self._dovccmd(["update", "--clean", *self._rev_args()])

    async def _clone(self) -> Any:
        command = ["clone", "--noupdate", self.repourl, "."]
        return await self.with_retries(
            lambda last: self._dovccmd(command, abandonOnFailure=last),
            before_retry=self._clobber)

    async def removeFiles(self, files: list[str]) -> Any:
        """Remove `files` one rmdir each; the exit code of the first that fails, else 0."""
        async def rmdir(path: str) -> Any:
            cmd = await self.worker_command("rmdir", {"dir": path, "logEnviron": self.logEnviron},
                                            abandonOnFailure=False)
            return cmd.rc
        return await remove_each(files, rmdir)

    async def checkHg(self) -> bool:
        return bool(await self._dovccmd(["--version"]) == 0)

    async def applyPatch(self, patch: tuple[int, Any, Any]) -> Any:
        body = patch[1].decode("utf-8") if isinstance(patch[1], bytes) else patch[1]
        return await self._dovccmd(["import", "--no-commit", "-p", str(patch[0]), "-"],
                                   initialStdin=body)


__all__ = ["Mercurial"]
