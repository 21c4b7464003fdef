"""SVNPoller: polls a Subversion repository (`svn log --xml`), and the `split_file`
helpers (`util.svn.split_file_*`) that map a repository path to (branch, file).

As in the reference, the last revision seen is kept in memory (and in `cachepath` when
given): a restarted poller starts afresh from the current revision.
"""

from __future__ import annotations

import os
import xml.dom.minidom
import xml.parsers.expat
from typing import Any
from urllib.parse import quote_plus

from twisted.logger import Logger

from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.process import run_process
from buildbot.util.misc import bytes2unicode

log = Logger()


def split_file_alwaystrunk(path: str) -> dict[str, str]:
    """Every path is a file of the default branch."""
    return {"path": path}


def split_file_branches(path: str) -> tuple[str | None, str] | None:
    """`trunk/<file>` (default branch) or `branches/<name>/<file>`; anything else ignored."""
    pieces = path.split("/")
    if len(pieces) > 1 and pieces[0] == "trunk":
        return None, "/".join(pieces[1:])
    if len(pieces) > 2 and pieces[0] == "branches":
        return "/".join(pieces[0:2]), "/".join(pieces[2:])
    return None


def split_file_projects_branches(path: str) -> dict[str, str] | None:
    """`<project>/trunk/<file>` or `<project>/branches/<name>/<file>`."""
    if "/" not in path:
        return None
    project, rest = path.split("/", 1)
    found = split_file_branches(rest)
    if not found:
        return None
    info = {"project": project, "path": found[1]}
    if found[0]:
        info["branch"] = found[0]
    return info


def _text(element: Any, tag: str) -> str:
    try:
        return "".join(t.data for t in element.getElementsByTagName(tag)[0].childNodes)
    except IndexError:
        return "unknown"


class SVNPoller(ReconfigurablePollingChangeSource):
    """`changes.SVNPoller(repourl, split_file=None, svnuser=None, svnpasswd=None, ...)`."""

    last_change: int | None = None
    loop = None  # 4.3 has this attribute, always None (its polling loop is `doPoll`)
    _prefix: str | None = None

    def __init__(self, repourl: str, **kwargs: Any) -> None:
        if kwargs.get("name") is None:
            kwargs["name"] = repourl
        super().__init__(repourl, **kwargs)

    def checkConfig(self, repourl: str, split_file: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    svnuser: Any = None, svnpasswd: Any = None, pollInterval: float = 10 * 60,
                    histmax: int = 100, svnbin: str = "svn", revlinktmpl: str = "",
                    category: Any = None, project: str = "", cachepath: str | None = None,
                    extra_args: list[str] | None = None, name: str | None = None,
                    pollAtLaunch: bool = False, pollRandomDelayMin: int = 0,
                    pollRandomDelayMax: int = 0) -> None:
        super().checkConfig(name=name or repourl, pollInterval=pollInterval,
                            pollAtLaunch=pollAtLaunch, pollRandomDelayMin=pollRandomDelayMin,
                            pollRandomDelayMax=pollRandomDelayMax)

    async def reconfigService(self, repourl: str, split_file: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              svnuser: Any = None, svnpasswd: Any = None,
                              pollInterval: float = 10 * 60, histmax: int = 100,
                              svnbin: str = "svn", revlinktmpl: str = "", category: Any = None,
                              project: str = "", cachepath: str | None = None,
                              extra_args: list[str] | None = None, name: str | None = None,
                              pollAtLaunch: bool = False, pollRandomDelayMin: int = 0,
                              pollRandomDelayMax: int = 0) -> None:
        self.repourl = repourl.rstrip("/") if repourl.endswith("/") else repourl
        self.extra_args = extra_args
        self.split_file = split_file or split_file_alwaystrunk
        self.svnuser, self.svnpasswd = svnuser, svnpasswd
        self.revlinktmpl = revlinktmpl
        self.svnbin = svnbin
        self.histmax = histmax
        self.category = category if callable(category) else bytes2unicode(category)
        self.project = bytes2unicode(project)
        self.cachepath = cachepath
        if self.cachepath and os.path.exists(self.cachepath):
            try:
                with open(self.cachepath, encoding="utf-8") as f:
                    self.last_change = int(f.read().strip())
                log.info("SVNPoller: SVNPoller({url}) setting last_change to {rev}",
                         url=self.repourl, rev=self.last_change)
            except (OSError, ValueError):
                self.cachepath = None
                log.failure("SVNPoller: SVNPoller({url}) cache file corrupt or unwriteable; "
                            "skipping and not using", url=self.repourl)
        await super().reconfigService(name=name, pollInterval=pollInterval,
                                      pollAtLaunch=pollAtLaunch,
                                      pollRandomDelayMin=pollRandomDelayMin,
                                      pollRandomDelayMax=pollRandomDelayMax)

    def describe(self) -> str:
        return f"SVNPoller: watching {self.repourl}"

    def _svn_args(self) -> list[str]:
        args = ["--non-interactive"]
        if self.svnuser:
            args.append(f"--username={self.svnuser}")
        if self.svnpasswd is not None:
            args.append(f"--password={self.svnpasswd}")
        return args + list(self.extra_args or [])

    async def _svn(self, *args: str) -> str:
        code, out, err = await run_process(self.master.reactor, [self.svnbin, *args])
        if code != 0 or err.strip():
            raise OSError(f"{self}: svn {args[0]} failed ({code}): {err.decode(errors='replace')}")
        return out.decode("utf-8", "replace")

    async def poll(self) -> None:
        log.info("SVNPoller: polling {project}", project=self.project)
        try:
            if not self._prefix:
                self._prefix = await self.get_prefix()
            entries = self.parse_logs(await self.get_logs())
            await self.submit_changes(self.create_changes(self.get_new_logentries(entries)))
            self.finished_ok()
        except Exception:  # noqa: BLE001 - logged (4.3's text); the next poll retries
            log.failure("SVNPoller: Error in  while polling", url=self.repourl)

    async def get_prefix(self) -> str:
        """The path of `repourl` below the repository root."""
        output = await self._svn("info", "--xml", *self._svn_args(), self.repourl)
        doc = xml.dom.minidom.parseString(output)
        roots = doc.getElementsByTagName("root")
        if not roots:
            return ""
        root = "".join(getattr(c, "data", "") for c in roots[0].childNodes)
        if not self.repourl.startswith(root):
            raise RuntimeError("Configured repourl doesn't match svn root")
        prefix = self.repourl[len(root):].lstrip("/")
        log.info("SVNPoller: repourl={url}, root={root}, so prefix={prefix}",
                 url=self.repourl, root=root, prefix=prefix)
        return prefix

    async def get_logs(self) -> str:
        return await self._svn("log", "--xml", "--verbose", *self._svn_args(),
                               f"--limit={self.histmax}", self.repourl)

    def parse_logs(self, output: str) -> list[Any]:
        try:
            doc = xml.dom.minidom.parseString(output)
        except xml.parsers.expat.ExpatError as e:
            # same type as before (callers may catch it); the poll's error handler logs it
            raise xml.parsers.expat.ExpatError(
                f"SVNPoller: svn log output is not XML ({e}): {output[:500]!r}") from e
        return list(doc.getElementsByTagName("logentry"))

    def get_new_logentries(self, logentries: list[Any]) -> list[Any]:
        """The entries newer than the last seen revision, oldest first (none on the first
        poll, which only records the current revision)."""
        last = self.last_change
        new: list[Any] = []
        newest = int(logentries[0].getAttribute("revision")) if logentries else None
        if logentries and last is not None and last != newest:
            for el in logentries:
                if int(el.getAttribute("revision")) == last:
                    break
                new.append(el)
            new.reverse()
        self.last_change = newest
        return new

    def _transform_path(self, path: str) -> dict[str, Any] | None:
        prefix = self._prefix or ""
        if not path.startswith(prefix):
            log.info("SVNPoller: ignoring path '{path}' which doesn't start with prefix "
                     "'{prefix}'", path=path, prefix=prefix)
            return None
        relative = path[len(prefix):].lstrip("/")
        where = self.split_file(relative)
        if not where:
            return None
        if isinstance(where, tuple):
            where = {"branch": where[0], "path": where[1]}
        return dict(where)

    async def submit_changes(self, changes: list[dict[str, Any]]) -> None:
        """Store the changes made by create_changes, in order."""
        for chdict in changes:
            await self.master.data.updates.addChange(src="svn", **chdict)

    def finished_ok(self) -> None:
        """A poll went through: remember the newest revision in `cachepath`, if any."""
        if self.cachepath:
            with open(self.cachepath, "w", encoding="utf-8") as f:
                f.write(str(self.last_change))
        log.info("SVNPoller: finished polling")

    def create_changes(self, new_logentries: list[Any]) -> list[dict[str, Any]]:
        """One change per (revision, branch) touched."""
        changes = []
        for el in new_logentries:
            revision = str(el.getAttribute("revision"))
            revlink = self.revlinktmpl % quote_plus(revision) \
                if self.revlinktmpl and revision else ""
            author, comments = _text(el, "author"), _text(el, "msg")
            paths = el.getElementsByTagName("paths")
            if not paths:
                log.info("ignoring commit with no paths")
                continue
            branches: dict[Any, dict[str, Any]] = {}
            for p in paths[0].getElementsByTagName("path"):
                path = "".join(t.data for t in p.childNodes).lstrip("/")
                if p.getAttribute("kind") == "dir" and not path.endswith("/"):
                    path += "/"
                where = self._transform_path(path)
                if not where:
                    continue
                info = branches.setdefault(where.get("branch"),
                                           {"files": [], "dirs": 0,
                                            "action": p.getAttribute("action")})
                filename = where["path"]
                if filename == "" or filename.endswith("/"):
                    info["dirs"] += 1
                    filename = filename[:-1] if filename else filename
                info["files"].append(filename)
                for key in ("repository", "project", "codebase"):
                    if key in where:
                        info[key] = where[key]
            for branch, info in branches.items():
                if info["action"] == "D" and info["dirs"] == 1 and info["files"] == [""]:
                    log.info("Ignoring deletion of branch '{branch}'", branch=branch)
                    continue
                changes.append({
                    "author": author, "committer": None, "files": info["files"],
                    "comments": comments, "revision": revision, "branch": branch,
                    "revlink": revlink, "category": self.category,
                    "repository": info.get("repository", self.repourl),
                    "project": info.get("project", self.project),
                    "codebase": info.get("codebase")})
        return changes
