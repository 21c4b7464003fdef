"""CVS checkout step."""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any

from twisted.logger import Logger

from buildbot.interfaces import WorkerSetupError
from buildbot.process.remotecommand import RemoteCommand
from buildbot.process.remotetransfer import StringFileWriter
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.source.vc_commands import VcCommandMixin, method_for_mode

log = Logger()

# ":pserver:user:secret@host" -> ":pserver:user@host" (CVS/Root may lack the password)
_PSERVER_PASSWORD = re.compile(r"(:pserver:[^:]*):[^@]*(@.*)")


def entries_have_sticky_dates(entries: str) -> bool:
    """Whether a CVS/Entries file pins some file to a date (`D...` in the last field);
    such a checkout cannot simply be updated."""
    for line in entries.splitlines():
        if line != "D" and line.split("/")[-1].startswith("D"):
            return True
    return False


class CVS(VcCommandMixin, Source):
    """Check out `cvsmodule` from `cvsroot` (optionally on `branch`, at a date revision).

    `mode="incremental"` runs `cvs update -dP` in a matching checkout (a new checkout
    otherwise); `mode="full"` with `method` `clean` or `fresh` (default) first discards local
    changes with `cvsdiscard` (fresh also ignored files), `clobber` checks out anew and `copy`
    updates "source" and copies it. `login` is sent to `cvs login` first. `got_revision` is
    the checkout time (UTC), as CVS has no tree revision.
    """

    name = "cvs"
    renderables = ("cvsroot",)

    def __init__(self, cvsroot: Any = None, cvsmodule: Any = "", mode: Any = "incremental",
                 method: Any = None, branch: Any = None, global_options: Any = None,
                 extra_options: Any = None, login: Any = None, **kwargs: Any) -> None:
        self.cvsroot = cvsroot
        self.cvsmodule = cvsmodule
        self.branch = branch
        self.global_options = list(global_options or [])
        self.extra_options = list(extra_options or [])
        self.login = login
        self.mode = mode
        self.method = method
        self.srcdir = "source"
        self.revision: Any = None
        if not self._hasAttrGroupMember("mode", self.mode):
            raise ValueError(
                f"mode {self.mode} is not one of {self._listAttrGroupMembers('mode')}")
        super().__init__(**kwargs)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.branch = branch
        self.revision = revision
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        self.method = method_for_mode(self.mode, self.method)
        if not await self.checkCvs():
            raise WorkerSetupError("CVS is not installed on worker")
        await self.checkLogin()
        if await self.sourcedirIsPatched():
            await self.purge(False)
        await self._getAttrGroupMember("mode", self.mode)()
        if patch:
            await self.patch(patch)
        self.parseGotRevision()
        return SUCCESS

    async def checkCvs(self) -> bool:
        """True when `cvs --version` works; a failing one fails the step, as in 4.3."""
        return await self.tool_works(["cvs", "--version"], abandonOnFailure=True)

    async def checkLogin(self) -> None:
        """`cvs login` with the `login` password on stdin, when one is configured."""
        if self.login:
            await self.cvs("-d", self.cvsroot, "login", initialStdin=self.login + "\n")

    async def cvs(self, *args: Any, **kwargs: Any) -> Any:
        return await self.run_tool(["cvs", *args], **kwargs)

    async def mode_incremental(self) -> Any:
        if await self._sourcedirIsUpdatable():
            return await self.doUpdate()
        return await self.clobber()

    async def mode_full(self) -> Any:
        if self.method == "clobber":
            return await self.clobber()
        if self.method == "copy":
            return await self.copy()
        if not await self._sourcedirIsUpdatable():
            log.info("CVS repo not present, making full checkout")
            return await self.doCheckout(self.workdir)
        by_method = {"clean": self.clean, "fresh": self.fresh}
        if self.method not in by_method:
            raise ValueError("Unknown method, check your configuration")
        return await by_method[self.method]()

    async def clean(self) -> Any:
        """Discard local changes, keep ignored files, then update."""
        await self.purge(False)
        return await self.doUpdate()

    async def fresh(self) -> Any:
        """Discard local changes and ignored files, then update."""
        await self.purge(True)
        return await self.doUpdate()

    async def _clobber(self) -> None:
        if await self.remove_dir(self.workdir, with_timeout=True):
            raise RuntimeError("Failed to delete directory")

    async def clobber(self) -> Any:
        await self._clobber()
        return await self.doCheckout(self.workdir)

    async def copy(self) -> int:
        await self.remove_dir(self.workdir, with_timeout=True)
        target, self.workdir = self.workdir, self.srcdir
        await self.mode_incremental()
        await self.copy_dir(self.srcdir, target, with_timeout=True)
        self.workdir = target
        return SUCCESS

    async def purge(self, ignore_ignores: bool) -> None:
        """Discard local changes (`cvsdiscard`, with `--ignore` also ignored files)."""
        await self.run_tool(["cvsdiscard", *(["--ignore"] if ignore_ignores else [])])

    async def doCheckout(self, dir: str) -> Any:
        command = [*self.global_options, "-d", self.cvsroot, "-z3", "checkout", "-d", dir,
                   *self.extra_options]
        if self.branch:
            command += ["-r", self.branch]
        if self.revision:
            command += ["-D", self.revision]
        command.append(self.cvsmodule)

        async def checkout(abandon: bool) -> Any:
            return await self.cvs(*command, workdir="", abandonOnFailure=abandon)
        return await self.with_retries(checkout, self._clobber)

    async def doUpdate(self) -> Any:
        command = ["-z3", "update", "-dP"]
        # 'cvs update -r HEAD -D <date>' gives no files (buildbot bug #2351)
        if self.branch and not (self.branch == "HEAD" and self.revision):
            command += ["-r", self.branch]
        if self.revision:
            command += ["-D", self.revision]
        return await self.cvs(*command)

    async def _read_cvs_file(self, name: str) -> str | None:
        """The content of CVS/<name> in the workdir, None when it cannot be read."""
        writer = StringFileWriter()
        cmd = RemoteCommand("uploadFile", {
            "workdir": self.build.path_module.join(self.workdir, "CVS"), "writer": writer,
            "maxsize": None, "blocksize": 32 * 1024, "workersrc": name}, ignore_updates=True)
        await self.runCommand(cmd)
        if cmd.rc is not None and cmd.rc != 0:
            return None
        return writer.buffer

    async def _sourcedirIsUpdatable(self) -> bool:
        root = await self._read_cvs_file("Root")
        if root is None or root.strip() not in (
                self.cvsroot, _PSERVER_PASSWORD.sub(r"\1\2", self.cvsroot)):
            return False
        module = await self._read_cvs_file("Repository")
        if module is None or module.strip() != self.cvsmodule:
            return False
        entries = await self._read_cvs_file("Entries")
        return entries is not None and not entries_have_sticky_dates(entries)

    def parseGotRevision(self) -> None:
        now = time.gmtime(self.master.reactor.seconds())
        self.updateSourceProperty("got_revision", time.strftime("%Y-%m-%d %H:%M:%S +0000", now))

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        if not changes:
            return None
        last_change = max(c.when for c in changes)
        last_submit = max(br.submittedAt for br in self.build.requests)
        return formatdate((last_change + last_submit) / 2)


__all__ = ["CVS"]
