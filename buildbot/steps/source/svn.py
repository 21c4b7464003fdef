"""Subversion checkout step (`svn` commands run on the worker)."""

from __future__ import annotations

import re
import xml.dom.minidom
import xml.parsers.expat
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urlparse, urlunparse

from twisted.logger import Logger

from buildbot.config.errors import ConfigErrors
from buildbot.interfaces import WorkerSetupError
from buildbot.process import buildstep
from buildbot.process.remotecommand import RemoteShellCommand
from buildbot.steps.source.base import Source, remove_each

log = Logger()

_COLLAPSE = re.compile(r"([^/]+/\.\./?|/\./|//|/\.$|/\.\.$|^/\.\.)")
_AUTHORITY = re.compile(r"^(?:([^@]+)@)?([^:]+)(?::(.+))?$")
_DEFAULT_PORTS = {"http": "80", "https": "443", "svn": "3690"}


def _parse_xml(text: str) -> Any:
    try:
        return xml.dom.minidom.parseString(text)
    except xml.parsers.expat.ExpatError as e:
        raise buildstep.BuildStepFailed() from e


class SVN(Source):
    """Check out `repourl` with svn.

    Modes: `incremental` (svn update), `full` with `clean` (remove unversioned files),
    `fresh` (also ignored ones; the default), `clobber` (fresh checkout), `copy` (update a
    `source` directory and copy it) or `export` (svn export from it). Files listed in
    `keep_on_purge` survive clean/fresh. The password is hidden in logs. Sets
    `got_revision` (the last changed revision with `preferLastChangedRev`).
    """

    name = "svn"
    renderables = ("repourl", "password")
    possible_methods = ("clean", "fresh", "clobber", "copy", "export", None)

    def __init__(self, repourl: Any = None, mode: Any = "incremental", method: Any = None,
                 username: Any = None, password: Any = None, extra_args: Any = None,
                 keep_on_purge: Any = None, depth: Any = None,
                 preferLastChangedRev: bool = False, **kwargs: Any) -> None:
        self.repourl, self.mode, self.method = repourl, mode, method
        # options added to every svn command
        self.username, self.password = username, password
        self.depth, self.extra_args = depth, extra_args
        self.keep_on_purge = keep_on_purge or []
        self.preferLastChangedRev = preferLastChangedRev
        self.revision: Any = None
        # As in the reference, `mode` does not reach Source: the description is always
        # "updating"/"update".
        super().__init__(**kwargs)
        checks = [
            (not self.has_supported_mode(),
             f"mode {self.mode} is not one of {self._listAttrGroupMembers('mode')}"),
            (self.method not in self.possible_methods,
             f"method {self.method} is not one of {self.possible_methods}"),
            (repourl is None, "you must provide repourl"),
        ]
        problems = [message for failed, message in checks if failed]
        if problems:
            raise ConfigErrors(problems)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.revision = revision
        self.method = self._getMethod()
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if self.password is not None:
            # shown as XXXXXX in logs
            self.password = ("obfuscated", self.password, "XXXXXX")
        if not await self.checkSvn():
            raise WorkerSetupError("SVN is not installed on worker")
        if await self.sourcedirIsPatched():
            await self.purge(False)
        await self.run_mode()
        if patch:
            await self.patch(patch)
        return await self.parseGotRevision()

    def _revision_args(self) -> list[str]:
        return ["--revision", str(self.revision)] if self.revision else []

    def _update_command(self) -> list[Any]:
        return ["update", *self._revision_args()]

    async def mode_full(self) -> None:
        whole_tree = {"clobber": self.clobber, "copy": self.copy, "export": self.copy}
        if self.method in whole_tree:
            await whole_tree[self.method]()
        elif not await self._sourcedirIsUpdatable():
            await self.clobber()
        elif self.method in ("clean", "fresh"):
            await getattr(self, self.method)()

    async def mode_incremental(self) -> None:
        if await self._sourcedirIsUpdatable():
            await self._dovccmd(self._update_command())
        else:
            await self.clobber()

    async def clobber(self) -> None:
        await self.runRmdir(self.workdir, timeout=self.timeout)
        await self._checkout()

    async def fresh(self) -> None:
        await self.purge(True)
        await self._dovccmd(self._update_command())

    async def clean(self) -> None:
        await self.purge(False)
        await self._dovccmd(self._update_command())

    def _export_command(self, checkout_dir: str) -> list[Any]:
        credentials = ["--username", self.username] if self.username else []
        if self.password is not None:
            credentials += ["--password", self.password]
        return ["svn", "export", *self._revision_args(), *credentials,
                *(self.extra_args or []), checkout_dir, self.workdir]

    async def copy(self) -> None:
        """Update a pristine `source` checkout (per codebase), then copy or export it into
        the emptied workdir."""
        await self.runRmdir(self.workdir, timeout=self.timeout)
        checkout_dir = "source"
        if self.codebase:
            checkout_dir = self.build.path_module.join(checkout_dir, self.codebase)
        target, self.workdir = self.workdir, checkout_dir
        try:
            await self.mode_incremental()
        finally:
            self.workdir = target
        if self.method == "copy":
            await self.worker_command("cpdir", {"fromdir": checkout_dir, "todir": target,
                                                "logEnviron": self.logEnviron})
            return
        cmd = RemoteShellCommand("", self._export_command(checkout_dir), env=self.env,
                                 logEnviron=self.logEnviron, timeout=self.timeout)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if cmd.didFail():
            raise buildstep.BuildStepFailed()

    async def _dovccmd(self, command: list[Any], collectStdout: bool = False,
                       collectStderr: bool = False, abandonOnFailure: bool = True) -> Any:
        assert command, "No command specified"
        command = [*command, "--non-interactive", "--no-auth-cache"]
        if self.username:
            command += ["--username", self.username]
        if self.password is not None:
            command += ["--password", self.password]
        if self.depth:
            command += ["--depth", self.depth]
        command += list(self.extra_args or [])
        cmd = RemoteShellCommand(self.workdir, ["svn", *command], env=self.env,
                                 logEnviron=self.logEnviron, timeout=self.timeout,
                                 collectStdout=collectStdout, collectStderr=collectStderr)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if cmd.didFail() and abandonOnFailure:
            log.info("Source step failed while running command {cmd}", cmd=cmd)
            raise buildstep.BuildStepFailed()
        # what was asked for: (stdout, stderr), one of them, or the exit code
        collected = [out for wanted, out in ((collectStdout, cmd.stdout),
                                             (collectStderr, cmd.stderr)) if wanted]
        if not collected:
            return cmd.rc
        return collected[0] if len(collected) == 1 else tuple(collected)

    async def _sourcedirIsUpdatable(self) -> bool:
        """True if the workdir is a working copy of `repourl`."""
        if not await self.pathExists(self.build.path_module.join(self.workdir, ".svn")):
            return False
        stdout, stderr = await self._dovccmd(["info", "--xml"], collectStdout=True,
                                             collectStderr=True, abandonOnFailure=False)
        if "E155037:" in stderr:  # a previous operation was interrupted
            return False
        try:
            doc = _parse_xml(stdout)
        except buildstep.BuildStepFailed:
            await self.stdio_log.addHeader("Corrupted xml, aborting step")
            raise
        url = doc.getElementsByTagName("url")[0].firstChild.nodeValue
        return bool(url == self.svnUriCanonicalize(self.repourl))

    async def parseGotRevision(self) -> int:
        directory = "source" if (self.mode == "full" and self.method == "export") \
            else self.workdir
        cmd = RemoteShellCommand(directory, ["svn", "info", "--xml"], env=self.env,
                                 logEnviron=self.logEnviron, timeout=self.timeout,
                                 collectStdout=True)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        try:
            doc = _parse_xml(cmd.stdout)
        except buildstep.BuildStepFailed:
            await self.stdio_log.addHeader("Corrupted xml, aborting step")
            raise
        revision = None
        if self.preferLastChangedRev:
            try:
                revision = doc.getElementsByTagName("commit")[0].attributes["revision"].value
            except (KeyError, IndexError):
                log.info("SVN.parseGotRevision unable to detect Last Changed Rev in output of "
                         "svn info")
        if revision is None:
            try:
                revision = doc.getElementsByTagName("entry")[0].attributes["revision"].value
            except (KeyError, IndexError) as e:
                log.info("SVN.parseGotRevision unable to detect revision in output of svn info")
                raise buildstep.BuildStepFailed() from e
        await self.stdio_log.addHeader(f"Got SVN revision {revision}")
        self.updateSourceProperty("got_revision", revision)
        return cmd.rc if cmd.rc is not None else 0

    async def purge(self, ignore_ignores: bool) -> None:
        """Remove unversioned files (and ignored ones with `ignore_ignores`)."""
        command = ["status", "--xml"]
        if ignore_ignores:
            command.append("--no-ignore")
        stdout = await self._dovccmd(command, collectStdout=True)
        files = [self.build.path_module.join(self.workdir, name)
                 for name in self.getUnversionedFiles(stdout, self.keep_on_purge)]
        if files:
            rc = await self.runRmdir(files, abandonOnFailure=False, timeout=self.timeout)
            if rc:
                log.info("Failed removing files")
                raise buildstep.BuildStepFailed()

    @staticmethod
    def getUnversionedFiles(xmlStr: str, keep_on_purge: list[str]) -> Iterator[str]:
        doc = _parse_xml(xmlStr)
        for entry in doc.getElementsByTagName("entry"):
            (wc_status,) = entry.getElementsByTagName("wc-status")
            if wc_status.getAttribute("item") in ("external", "missing"):
                continue
            name = entry.getAttribute("path")
            if name in keep_on_purge or name == "":
                continue
            yield name

    async def removeFiles(self, files: list[str]) -> Any:
        """Remove `files` one rmdir each; true (the failure) at the first that fails, else 0."""
        return await remove_each(files, lambda path: self.runRmdir(
            path, abandonOnFailure=False, timeout=self.timeout))

    async def checkSvn(self) -> bool:
        cmd = RemoteShellCommand(self.workdir, ["svn", "--version"], env=self.env,
                                 logEnviron=self.logEnviron, timeout=self.timeout)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        return cmd.rc == 0

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        if not changes or None in [c.revision for c in changes]:
            return None
        return max(int(c.revision) for c in changes)

    @staticmethod
    def svnUriCanonicalize(uri: str) -> str:
        """`uri` as svn prints it: lower-case scheme and host, default port dropped,
        `.`/`..`/`//` collapsed, percent-encoding normalised, no trailing slash."""
        if not uri or uri == "/":
            return uri
        scheme, authority, path, params, query, fragment = urlparse(uri)
        scheme = scheme.lower()
        if authority:
            m = _AUTHORITY.match(authority)
            if not m:
                return uri
            userinfo, host, port = m.groups()
            host = host.removesuffix(".")
            authority = host.lower()
            if userinfo:
                authority = f"{userinfo}@{authority}"
            if port and port != _DEFAULT_PORTS.get(scheme):
                authority = f"{authority}:{port}"
        if scheme in ("http", "https", "svn"):
            while True:
                collapsed = _COLLAPSE.sub("/", path, 1)
                if collapsed == path:
                    break
                path = collapsed
        path = quote(unquote(path), "!$&'()*+,-./:=@_~", encoding="latin-1")
        out = urlunparse((scheme, authority, path, params, query, fragment))
        if out != "/" and out.endswith("/") and out[-2] != "/":
            return out[:-1]
        return out

    async def _checkout(self) -> None:
        command = ["checkout", self.repourl, ".", *self._revision_args()]

        async def clear() -> None:
            await self.runRmdir(self.workdir, timeout=self.timeout)

        await self.with_retries(lambda last: self._dovccmd(command, abandonOnFailure=last),
                                before_retry=clear)


__all__ = ["SVN"]
