"""Monotone checkout step."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import WorkerSetupError
from buildbot.process.buildstep import BuildStepFailed
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source, remove_each
from buildbot.steps.source.vc_commands import (
    VcCommandMixin,
    full_copy_mode_errors,
    required_errors,
)

log = Logger()

# `mtn db info` answers that make the worker's database unusable as it is
_DB_MIGRATE = ("migration needed",)
_DB_RECREATE = ("too new, cannot use", "database has no tables")
_DB_INVALID = ("not a monotone database",)


class Monotone(VcCommandMixin, Source):
    """Pull `branch` of `repourl` into a database `db.mtn` in the builder directory, then
    check it out or update the workdir from it.

    `mode="incremental"` updates (checking out when there is no workspace); `mode="full"`
    with `method` `clean` (remove unknown files), `fresh` (unknown and ignored), `clobber` or
    `copy` (default: update "source", copy to "build"). `progress=True` shows a ticker while
    pulling. `got_revision` is the workspace's revision id.
    """

    name = "monotone"
    renderables = ("repourl",)
    possible_methods = ("clobber", "copy", "fresh", "clean")

    def __init__(self, repourl: Any = None, branch: Any = None, progress: bool = False,
                 mode: Any = "incremental", method: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repourl, self.branch, self.progress = repourl, branch, progress
        self.mode, self.method = mode, method
        # what `mtn pull` takes: the server URL and the branch pattern, as one argument
        self.sourcedata = f"{repourl}?{branch}"
        self.database = "db.mtn"  # in the builder directory, shared by every build
        self.revision: Any = None
        errors = full_copy_mode_errors(self, self.possible_methods) + required_errors(
            repourl=repourl, branch=branch)
        if errors:
            raise ConfigErrors(errors)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.revision = revision
        # the URL may have been a renderable: pull from what it rendered to
        self.sourcedata = f"{self.repourl}?{self.branch}"
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkMonotone():
            raise WorkerSetupError("Monotone is not installed on worker")
        await self._checkDb()
        await self._retryPull()
        # a workspace about to be thrown away needs no reverting
        keeps_workspace = self.mode != "full" or self.method not in ("clobber", "copy")
        if keeps_workspace and await self.sourcedirIsPatched():
            await self.clean()
        await self._getAttrGroupMember("mode", self.mode)()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return SUCCESS

    async def checkMonotone(self) -> bool:
        """Whether `mtn --version` works on the worker."""
        return await self.tool_works(["mtn", "--version"])

    async def removeFiles(self, files: list[str]) -> Any:
        """Remove `files` one rmdir each; true (the failure) at the first that fails, else 0."""
        return await remove_each(files, lambda path: self.runRmdir(path, abandonOnFailure=False))

    async def mtn(self, *args: Any, **kwargs: Any) -> Any:
        return await self.run_tool(["mtn", *args], **kwargs)

    async def mode_full(self) -> None:
        if self.method == "clobber":
            await self.clobber()
        elif self.method == "copy":
            await self.copy()
        elif not await self._sourcedirIsUpdatable():
            await self.clobber()
        elif self.method in ("clean", "fresh"):
            await self.clean(ignore_ignored=self.method == "clean")
            await self._update()
        else:
            raise ValueError("Unknown method, check your configuration")

    async def mode_incremental(self) -> None:
        if await self._sourcedirIsUpdatable():
            await self._update()
        else:
            await self.clobber()

    async def clobber(self) -> None:
        await self.runRmdir(self.workdir)
        await self._checkout()

    async def copy(self) -> int:
        await self.remove_dir(self.workdir, with_timeout=True)
        self.workdir = "source"
        await self.mode_incremental()
        await self.copy_dir("source", "build", with_timeout=True)
        self.workdir = "build"
        return 0

    async def clean(self, ignore_ignored: bool = True) -> None:
        """Remove files unknown to monotone (and ignored ones unless `ignore_ignored`)."""
        kinds = ["unknown"] if ignore_ignored else ["unknown", "ignored"]
        files: list[str] = []
        for kind in kinds:
            stdout = await self.mtn("ls", kind, collectStdout=True)
            if stdout:
                files += [f"{self.workdir}/{name}" for name in stdout.strip().split("\n")]
        if not files:
            return
        if self.workerVersionIsOlderThan("rmdir", "2.14"):
            failed = await self.removeFiles(files)
        else:
            failed = await self.runRmdir(files, abandonOnFailure=False)
        if failed:
            log.info("Failed removing files")
            raise BuildStepFailed()

    async def _checkout(self, abandonOnFailure: bool = False) -> Any:
        command = ["checkout", self.workdir, "--db", self.database]
        if self.revision:
            command += ["--revision", self.revision]
        return await self.mtn(*command, "--branch", self.branch, workdir=".",
                              abandonOnFailure=abandonOnFailure)

    async def _update(self, abandonOnFailure: bool = False) -> Any:
        return await self.mtn("update", "--revision", self.revision or "h:" + self.branch,
                              "--branch", self.branch, abandonOnFailure=abandonOnFailure)

    async def _pull(self, abandonOnFailure: bool = False) -> Any:
        ticker = "--ticker=dot" if self.progress else "--ticker=none"
        return await self.mtn("pull", self.sourcedata, "--db", self.database, ticker,
                              workdir=".", abandonOnFailure=abandonOnFailure)

    async def _retryPull(self) -> None:
        await self.with_retries(self._pull)

    async def parseGotRevision(self) -> int:
        revision = (await self.mtn("automate", "select", "w:", collectStdout=True)).strip()
        if len(revision) != 40:
            raise BuildStepFailed()
        log.info("Got Monotone revision {revision}", revision=revision)
        self.updateSourceProperty("got_revision", revision)
        return 0

    async def _checkDb(self) -> None:
        """Create the database, migrate it, or replace one this mtn cannot read."""
        needs_init = True
        if await self.pathExists(self.database):
            info = await self.mtn("db", "info", "--db", self.database, workdir=".",
                                  collectStdout=True)
            if any(text in info for text in _DB_MIGRATE):
                log.info("Older format database found, migrating it")
                await self.mtn("db", "migrate", "--db", self.database, workdir=".")
                needs_init = False
            elif any(text in info for text in _DB_RECREATE):
                await self.runRmdir(self.database)
            elif any(text in info for text in _DB_INVALID):
                # not ours to delete: fail instead
                raise BuildStepFailed()
            else:
                log.info("Database exists and compatible")
                needs_init = False
        else:
            log.info("Database does not exist")
        if needs_init:
            await self.mtn("db", "init", "--db", self.database, workdir=".")

    async def _sourcedirIsUpdatable(self) -> bool:
        exists = await self.pathExists(self.build.path_module.join(self.workdir, "_MTN"))
        if not exists:
            log.info("Workdir does not exist, falling back to a fresh clone")
        return exists


__all__ = ["Monotone"]
