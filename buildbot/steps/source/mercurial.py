"""Mercurial checkout step (`hg` commands run on the worker)."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import WorkerSetupError
from buildbot.process import buildstep
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.util.deferred import deferred_sleep

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
        self.repourl = repourl
        self.defaultBranch = self.branch = defaultBranch
        self.branchType = branchType
        self.method = method
        self.clobberOnBranchChange = clobberOnBranchChange
        self.mode = mode
        self.revision: Any = None
        self.update_branch: Any = None
        super().__init__(mode=mode, **kwargs)
        errors = []
        if not self._hasAttrGroupMember("mode", self.mode):
            errors.append(f"mode {self.mode} is not one of {self._listAttrGroupMembers('mode')}")
        if self.method not in self.possible_methods:
            errors.append(f"method {self.method} is not one of {self.possible_methods}")
        if self.branchType not in self.possible_branchTypes:
            errors.append(
                f"branchType {self.branchType} is not one of {self.possible_branchTypes}")
        if repourl is None:
            errors.append("you must provide a repourl")
        if errors:
            raise ConfigErrors(errors)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.revision = revision
        self.method = self._getMethod()
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkHg():
            raise WorkerSetupError("Mercurial is not installed on worker")
        await self.sourcedirIsPatched()
        if self.branchType == "dirname":
            self.repourl = self.repourl + (branch or "")
            self.branch = self.defaultBranch
            self.update_branch = branch
        else:
            self.update_branch = branch or "default"
        await self._getAttrGroupMember("mode", self.mode)()
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
        elif self.method == "clean":
            await self.clean()
        elif self.method == "fresh":
            await self.fresh()
        else:
            raise ValueError("Unknown method, check your configuration")

    async def mode_incremental(self) -> None:
        if self.method is not None:
            raise ValueError(self.method)
        if await self._sourcedirIsUpdatable():
            await self._dovccmd(self.getHgPullCommand())
        else:
            await self._clone()
        await self._checkBranchChange()

    async def clean(self) -> None:
        await self._dovccmd(["--config", "extensions.purge=", "purge"])
        await self._pullUpdate()

    async def _clobber(self) -> None:
        cmd = RemoteCommand("rmdir", {"dir": self.workdir, "logEnviron": self.logEnviron})
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)

    async def clobber(self) -> None:
        await self._clobber()
        await self._clone()
        await self._update()

    async def fresh(self) -> None:
        await self._dovccmd(["--config", "extensions.purge=", "purge", "--all"])
        await self._pullUpdate()

    async def parseGotRevision(self) -> None:
        revision = (await self._dovccmd(["parents", "--template", "{node}\\n"],
                                        collectStdout=True)).strip()
        if len(revision) != 40:
            raise ValueError("Incorrect revision id")
        log.info("Got Mercurial revision {revision}", revision=revision)
        self.updateSourceProperty("got_revision", revision)

    async def _checkBranchChange(self) -> None:
        current = await self._getCurrentBranch()
        if current != self.update_branch and self.clobberOnBranchChange:
            log.info("Working dir is on in-repo branch '{cur}' and build needs '{want}'. "
                     "Clobbering.", cur=current, want=self.update_branch)
            await self.clobber()
            return
        await self._removeAddedFilesAndUpdate(None)

    def getHgPullCommand(self) -> list[str]:
        command = ["pull", self.repourl]
        if self.revision:
            command += ["--rev", self.revision]
        elif self.branchType == "inrepo":
            command += ["--rev", self.update_branch]
        return command

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
        if not changes:
            return None
        if len(changes) > 1:
            log.info("Mercurial.computeSourceRevision: warning: there are {n} changes here, "
                     "assuming the last one is the most recent", n=len(changes))
        return changes[-1].revision

    async def _getCurrentBranch(self) -> Any:
        if self.branchType == "dirname":
            return self.branch
        return (await self._dovccmd(["identify", "--branch"], collectStdout=True)).strip()

    def _getMethod(self) -> Any:
        if self.method is not None and self.mode != "incremental":
            return self.method
        if self.mode == "full":
            return "fresh"
        return None

    async def _sourcedirIsUpdatable(self) -> bool:
        return await self.pathExists(self.build.path_module.join(self.workdir, ".hg"))

    async def _removeAddedFilesAndUpdate(self, _: Any) -> None:
        stdout = await self._dovccmd(["locate", "set:added()"], collectStdout=True,
                                     decodeRC={0: SUCCESS, 1: SUCCESS})
        files = [self.workdir + "/" + name for name in stdout.splitlines()]
        if files:
            cmd = RemoteCommand("rmdir", {"dir": files, "logEnviron": self.logEnviron})
            cmd.useLog(self.stdio_log, False)
            await self.runCommand(cmd)
        await self._update()

    async def _update(self) -> None:
        command = ["update", "--clean"]
        if self.revision:
            command += ["--rev", self.revision]
        elif self.branchType == "inrepo":
            command += ["--rev", self.update_branch]
        await self._dovccmd(command)

    async def _clone(self) -> Any:
        abandon = self.retry[1] <= 0 if self.retry else True
        res = await self._dovccmd(["clone", "--noupdate", self.repourl, "."],
                                  abandonOnFailure=abandon)
        while self.retry and not self.stopped and res != 0:
            delay, repeats = self.retry
            if repeats <= 0:
                break
            log.info("Checkout failed, trying {n} more times after {delay} seconds",
                     n=repeats, delay=delay)
            self.retry = (delay, repeats - 1)
            await deferred_sleep(self.master.reactor, delay)
            await self._clobber()
            res = await self._dovccmd(["clone", "--noupdate", self.repourl, "."],
                                      abandonOnFailure=self.retry[1] <= 0)
        return res

    async def checkHg(self) -> bool:
        return bool(await self._dovccmd(["--version"]) == 0)

    async def applyPatch(self, patch: tuple[int, Any, Any]) -> Any:
        body = patch[1].decode("utf-8") if isinstance(patch[1], bytes) else patch[1]
        return await self._dovccmd(["import", "--no-commit", "-p", str(patch[0]), "-"],
                                   initialStdin=body)


__all__ = ["Mercurial"]
