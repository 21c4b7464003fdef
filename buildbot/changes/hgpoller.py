"""HgPoller: polls a remote Mercurial repository (pulls into a local clone in `workdir`).

The head seen on each branch/bookmark is kept in state `lastRev` (object (name,
"HgPoller")) as local revision numbers, as the reference keeps it; the first poll of a
branch only records its head.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from buildbot import config
from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.process import run_process
from buildbot.process.state import StateMixin
from buildbot.util.misc import bytes2unicode

log = Logger()


def _no_revlink(branch: str, revision: str) -> str:
    return ""


class HgPoller(ReconfigurablePollingChangeSource, StateMixin):
    """`changes.HgPoller(repourl, branch=None, branches=None, bookmarks=None, workdir, ...)`
    (default branch: `default`; `workdir` is required)."""

    # 4.3's name for the class of the state object (`lastRev` lives under (name, HgPoller))
    db_class_name = "HgPoller"

    def __init__(self, repourl: str, **kwargs: Any) -> None:
        self.lastRev: dict[str, str] = {}
        self.initLock = defer.DeferredLock()
        super().__init__(repourl, **kwargs)

    @staticmethod
    def build_name(name: str | None, repourl: str, bookmarks: list[str] | None,
                   branches: list[str] | None) -> str:
        # the URL followed by the bookmarks, then the branches, all "_"-separated
        parts = [repourl, *(bookmarks or []), *(branches or [])]
        return name if name is not None else "_".join(parts)

    @staticmethod
    def build_branches(branch: str | None, branches: list[str] | None) -> list[str]:
        return [branch] if branch else (branches or [])

    def checkConfig(self, repourl: str, branch: str | None = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    branches: list[str] | None = None, bookmarks: list[str] | None = None,
                    workdir: str | None = None, pollInterval: float = 10 * 60,
                    hgbin: str = "hg", usetimestamps: bool = True, category: Any = None,
                    project: str = "", encoding: str = "utf-8", name: str | None = None,
                    pollAtLaunch: bool = False,
                    revlink: Callable[[str, str], str] = _no_revlink,
                    pollRandomDelayMin: int = 0, pollRandomDelayMax: int = 0) -> None:
        checks = [(bool(branch and branches), "HgPoller: can't specify both branch and branches"),
                  (not callable(revlink), "You need to provide a valid callable for revlink"),
                  (workdir is None, "workdir is mandatory for now in HgPoller")]
        for failed, message in checks:
            if failed:
                config.error(message)
        super().checkConfig(
            name=self.build_name(name, repourl, bookmarks,
                                 self.build_branches(branch, branches)),
            pollInterval=pollInterval, pollAtLaunch=pollAtLaunch,
            pollRandomDelayMin=pollRandomDelayMin, pollRandomDelayMax=pollRandomDelayMax)

    async def reconfigService(self, repourl: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              branch: str | None = None, branches: list[str] | None = None,
                              bookmarks: list[str] | None = None, workdir: str | None = None,
                              pollInterval: float = 10 * 60, hgbin: str = "hg",
                              usetimestamps: bool = True, category: Any = None,
                              project: str = "", encoding: str = "utf-8",
                              name: str | None = None, pollAtLaunch: bool = False,
                              revlink: Callable[[str, str], str] = _no_revlink,
                              pollRandomDelayMin: int = 0, pollRandomDelayMax: int = 0
                              ) -> None:
        self.repourl = repourl
        self.branches = self.build_branches(branch, branches)
        self.bookmarks = bookmarks or []
        if not self.branches and not self.bookmarks:
            self.branches = ["default"]
        self.encoding = encoding
        self.hgbin = hgbin
        self.workdir = workdir
        self.usetimestamps = usetimestamps
        self.category = category if callable(category) else bytes2unicode(category)
        self.project = project
        self.lastRev = {}
        self.revlink_callable = revlink
        await super().reconfigService(
            name=name, pollInterval=pollInterval, pollAtLaunch=pollAtLaunch,
            pollRandomDelayMin=pollRandomDelayMin, pollRandomDelayMax=pollRandomDelayMax)

    async def activate(self) -> None:
        self.lastRev = await self.getState("lastRev", {})
        await super().activate()

    def describe(self) -> str:
        return (f"HgPoller watching the remote Mercurial repository '{self.repourl}', "
                f"branches: {', '.join(self.branches)}, in workdir '{self.workdir}' ")

    def poll(self) -> defer.Deferred[None]:
        return self.initLock.run(lambda: defer.ensureDeferred(self._poll_locked()))

    async def _poll_locked(self) -> None:
        await self._getChanges()
        await self._processChanges()

    def _absWorkdir(self) -> str:
        assert self.workdir is not None
        if os.path.isabs(self.workdir):
            return self.workdir
        return os.path.join(self.master.basedir, self.workdir)

    async def _hg(self, *args: str, path: str | None = None) -> tuple[int, str, str]:
        code, out, err = await run_process(self.master.reactor, [self.hgbin, *args],
                                           path or self._absWorkdir())
        return code, out.decode(self.encoding, "replace"), err.decode(self.encoding,
                                                                       "replace")

    async def _getChanges(self) -> None:
        if not os.path.exists(os.path.join(self._absWorkdir(), ".hg")):
            log.info("hgpoller: initializing working dir from {url}", url=self.repourl)
            os.makedirs(self._absWorkdir(), exist_ok=True)
            code, _, err = await self._hg("init", self._absWorkdir())
            if code != 0:
                raise OSError(f"{self}: repository init failed with exit code {code}: {err}")
        log.info("{poller}: polling hg repo at {url}", poller=self, url=self.repourl)
        args = ["pull"]
        for b in self.branches:
            args += ["-b", b]
        for b in self.bookmarks:
            args += ["-B", b]
        await self._hg(*args, self.repourl)

    async def _getHead(self, branch: str) -> str | None:
        code, out, _ = await self._hg("heads", branch, "--template={rev}" + os.linesep)
        if code != 0:
            log.error("{poller}: could not find revision {branch} in repository {url}",
                      poller=self, branch=branch, url=self.repourl)
            return None
        if not out.strip():
            return None
        if len(out.split()) > 1:
            log.error("{poller}: caught several heads in branch {branch} from repository "
                      "{url}. Staying at previous revision. You should wait until the "
                      "situation is normal again due to a merge or directly strip if remote "
                      "repo gets stripped later.", poller=self, branch=branch, url=self.repourl)
            return None
        return out.strip()

    async def _processChanges(self) -> None:
        for branch in self.branches + self.bookmarks:
            rev = await self._getHead(branch)
            if rev is not None:
                await self._processBranchChanges(rev, branch)

    async def _getRevNodeList(self, revset: str) -> list[list[str]]:
        code, out, err = await self._hg("log", "-r", revset, r"--template={rev}:{node}\n")
        if code != 0:
            raise OSError(f"{self}: could not get rev node list: {code}")
        return [rn.split(":", 1) for rn in out.strip().split()]

    async def _getRevDetails(self, rev: str) -> tuple[float | None, str, list[str], str]:
        template = os.linesep.join(("--template={date|hgdate}", "{author}",
                                    "{files % '{file}" + os.pathsep + "'}", "{desc|strip}"))
        code, out, _ = await self._hg("log", "-r", rev, template)
        if code != 0:
            raise RuntimeError(f"{self}: got error {code} when getting details for revision "
                               f"{rev}")
        date, author, files, comments = out.split(os.linesep, 3)
        stamp = float(date.split()[0]) if self.usetimestamps else None
        return stamp, author.strip(), files.split(os.pathsep)[:-1], comments.strip()

    async def _setCurrentRev(self, rev: str, branch: str = "default") -> None:
        self.lastRev[branch] = str(rev)
        await self.setState("lastRev", self.lastRev)

    async def _processBranchChanges(self, new_rev: str, branch: str) -> None:
        prev_rev = self.lastRev.get(branch)
        if new_rev == prev_rev:
            return
        if prev_rev is None:
            await self._setCurrentRev(new_rev, branch)
            return
        nodes = await self._getRevNodeList(f"{prev_rev}::{new_rev}")
        if not nodes:  # not a descendant (history rewritten): just the new head
            nodes = await self._getRevNodeList(new_rev)
        else:
            del nodes[0]
        log.info("hgpoller: processing {n} changes in branch {branch!r}", n=len(nodes),
                 branch=branch)
        for _, node in nodes:
            timestamp, author, files, comments = await self._getRevDetails(node)
            await self.master.data.updates.addChange(
                author=author, committer=None, revision=str(node),
                revlink=self.revlink_callable(branch, str(node)), files=files,
                comments=comments, when_timestamp=int(timestamp) if timestamp else None,
                branch=branch, category=self.category, project=self.project,
                repository=self.repourl, src="hg")
            await self._setCurrentRev(new_rev, branch)
