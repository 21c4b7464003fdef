"""Repo (Android's multi-repository tool) checkout step and its download renderables."""

from __future__ import annotations

import re
from typing import Any

from zope.interface import implementer

from buildbot import config
from buildbot.interfaces import IRenderable
from buildbot.process.buildstep import BuildStepFailed
from buildbot.process.remotecommand import RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.source.vc_commands import VcCommandMixin
from buildbot.util.deferred import deferred_sleep
from buildbot.util.service import ComparableMixin

# Forms of a download in a property: "repo download proj 12/3" (as Gerrit shows it),
# "proj 12/3" and "proj/12/3"; each may appear several times.
_DOWNLOAD_FORMS = (
    re.compile(r"repo download ([^ ]+) ([0-9]+/[0-9]+)"),
    re.compile(r"([^ ]+) ([0-9]+/[0-9]+)"),
    re.compile(r"([^ ]+)/([0-9]+/[0-9]+)"),
)

# The script run (with `bash -c`) before every sync to undo what a previous build left:
# the text the worker runs is the same as Buildbot 4.3's.
_CLEANUP_SCRIPT = """\
set -v
if [ -d .repo/manifests ]
then
    # repo just refuse to run if manifest is messed up
    # so ensure we are in a known state
    cd .repo/manifests
    rm -f .git/index.lock
    git fetch origin
    git reset --hard remotes/origin/{branch}
    git config branch.default.merge {branch}
    cd ..
    ln -sf manifests/{file} manifest.xml
    cd ..
 fi
 repo forall -c rm -f .git/index.lock
 repo forall -c git clean -f -d -x 2>/dev/null
 repo forall -c git reset --hard HEAD 2>/dev/null
 rm -f {workdir}/.repo/project.list
"""

# tarball name ending -> tar compression options
_TAR_COMPRESSION = (("pigz", ["-I", "pigz"]), ("gz", ["-z"]), ("bz2", ["-j"]), ("bz", ["-j"]),
                    ("lzma", ["--lzma"]), ("lzop", ["--lzop"]))


@implementer(IRenderable)
class RepoDownloadsFromProperties(ComparableMixin):
    """Renders to the "project change/patchset" downloads found in the properties `names`."""

    parse_download_re = _DOWNLOAD_FORMS
    compare_attrs = ("names",)

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def getRenderingFor(self, props: Any) -> list[str]:
        downloads: list[str] = []
        for name in self.names:
            value = props.getProperty(name)
            if value is not None:
                downloads += self.parseDownloadProperty(value)
        return downloads

    def parseDownloadProperty(self, s: str | None) -> list[str]:
        """Every download in `s`, each form consumed before the next is looked for; a
        match is cut out of the text before looking again (so the rest may join up)."""
        found: list[str] = []

        def take(m: re.Match[str]) -> str:
            found.append(f"{m.group(1)} {m.group(2)}")
            return ""

        text = s or ""
        for form in self.parse_download_re:
            cut = 1
            while cut:
                text, cut = form.subn(take, text, count=1)
        return found


@implementer(IRenderable)
class RepoDownloadsFromChangeSource(ComparableMixin):
    """Renders to the downloads of the build's Gerrit "patchset-created" changes (of one
    `codebase`, or of all)."""

    compare_attrs = ("codebase",)

    def __init__(self, codebase: str | None = None) -> None:
        self.codebase = codebase

    def getRenderingFor(self, props: Any) -> list[str]:
        build = props.getBuild()
        changes = (build.allChanges() if self.codebase is None
                   else build.getSourceStamp(self.codebase).changes)
        downloads = []
        for change in changes:
            p = change.properties
            if p.get("event.type") == "patchset-created":
                downloads.append(f'{p["event.change.project"]} {p["event.change.number"]}/'
                                 f'{p["event.patchSet.number"]}')
        return downloads


class Repo(VcCommandMixin, Source):
    """`repo init` + `repo sync` of `manifestURL` (`manifestBranch`, `manifestFile`), then
    `repo download` of `repoDownloads` (Gerrit changes; those of the manifest project
    itself are fetched and cherry-picked in .repo/manifests).

    A failed sync of an existing tree is retried once from scratch. `tarball` keeps a copy of
    .repo to start new trees from, refreshed when older than `updateTarballAge` seconds.
    `manifestOverrideUrl` (a file in the workdir or a URL) replaces the manifest. Sets
    `repo_downloaded` ("change/patchset commit ..." of what was downloaded).
    """

    name = "repo"
    renderables = ("manifestURL", "manifestBranch", "manifestFile", "tarball", "jobs",
                   "syncAllBranches", "updateTarballAge", "manifestOverrideUrl",
                   "repoDownloads", "depth", "submodules")
    ref_not_found_re = re.compile(r"fatal: Couldn't find remote ref")
    cherry_pick_error_re = re.compile(
        r"Automatic cherry-pick failed|error: fatal: possibly due to conflict resolution.")
    re_change = re.compile(r".* refs/changes/\d\d/(\d+)/(\d+) -> FETCH_HEAD$")
    re_head = re.compile(r"^HEAD is now at ([0-9a-f]+)...")
    mirror_sync_retry = 10  # attempts when a change is not on the mirror yet ...
    mirror_sync_sleep = 60  # ... one minute apart

    def __init__(self, manifestURL: Any = None, manifestBranch: Any = "master",
                 manifestFile: Any = "default.xml", tarball: Any = None, jobs: Any = None,
                 syncAllBranches: Any = False, updateTarballAge: Any = 7 * 24.0 * 3600.0,
                 manifestOverrideUrl: Any = None, repoDownloads: Any = None, depth: Any = 0,
                 submodules: Any = False, syncQuietly: bool = False, **kwargs: Any) -> None:
        self.manifestURL = manifestURL
        self.manifestBranch = manifestBranch
        self.manifestFile = manifestFile
        self.tarball = tarball
        self.jobs = jobs
        self.syncAllBranches = syncAllBranches
        self.updateTarballAge = updateTarballAge
        self.manifestOverrideUrl = manifestOverrideUrl
        self.repoDownloads = repoDownloads if repoDownloads is not None else []
        self.depth = depth
        self.submodules = submodules
        self.syncQuietly = syncQuietly
        self.manifestDownloads: list[list[str]] = []
        self.lastCommand: Any = None
        self.willRetryInCaseOfFailure = True
        self.repo_downloaded = ""
        super().__init__(**kwargs)
        if self.manifestURL is None:
            config.error("Repo: manifestURL is required")

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        return changes[-1].revision if changes else None

    def filterManifestPatches(self) -> None:
        """Split off downloads of the manifest project: repo cannot download those, so they
        become `git fetch` + `git cherry-pick` commands run in .repo/manifests."""
        others, manifest_cmds = [], []
        for download in self.repoDownloads:
            project, change_ps = download.split(" ")[-2:]
            if self.manifestURL.endswith(("/" + project, "/" + project + ".git")):
                change, ps = (int(x) for x in change_ps.split("/"))
                ref = f"refs/changes/{change % 100:02}/{change}/{ps}"
                manifest_cmds += [["git", "fetch", self.manifestURL, ref],
                                  ["git", "cherry-pick", "FETCH_HEAD"]]
            else:
                others.append(download)
        self.repoDownloads = others
        self.manifestDownloads = manifest_cmds

    # -- commands --------------------------------------------------------------------------
    async def _Cmd(self, command: list[Any], abandonOnFailure: bool = True,
                   workdir: str | None = None, **kwargs: Any) -> Any:
        """Run `command`, announced in the log; only the first command logs the
        environment. A failure (when abandoning) names the command in the summary."""
        await self.stdio_log.addHeader(f'Starting command: {" ".join(command)}\n')
        self.description = " ".join(command[:2])
        logged = self.logEnviron
        self.logEnviron = False
        cmd_rc = await self._run_recorded(command, workdir, logged, kwargs)
        if abandonOnFailure and self.lastCommand.didFail():
            self.descriptionDone = f'repo failed at: {" ".join(command[:2])}'
            await self.stdio_log.addStderr(
                f"Source step failed while running command {self.lastCommand}\n")
            raise BuildStepFailed()
        return cmd_rc

    async def _run_recorded(self, command: list[Any], workdir: str | None, log_environ: bool,
                            kwargs: dict[str, Any]) -> Any:
        cmd = RemoteShellCommand(workdir if workdir is not None else self.workdir, command,
                                 env=self.env, logEnviron=log_environ, timeout=self.timeout,
                                 **kwargs)
        self.lastCommand = cmd
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        return cmd.rc

    async def _repoCmd(self, command: list[Any], abandonOnFailure: bool = True,
                       **kwargs: Any) -> Any:
        return await self._Cmd(["repo", *command], abandonOnFailure=abandonOnFailure, **kwargs)

    def repoDir(self) -> str:
        result: str = self.build.path_module.join(self.workdir, ".repo")
        return result

    async def sourcedirIsUpdateable(self) -> bool:
        return await self.pathExists(self.repoDir())

    # -- the checkout ----------------------------------------------------------------------
    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        return await self.doStartVC()

    async def doStartVC(self) -> int:
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        self.filterManifestPatches()
        if self.repoDownloads:
            await self.stdio_log.addHeader(
                "will download:\nrepo download " + "\nrepo download ".join(self.repoDownloads)
                + "\n")
        self.willRetryInCaseOfFailure = True
        try:
            await self.doRepoSync()
        except BuildStepFailed as e:
            if not self.willRetryInCaseOfFailure:
                raise
            await self.stdio_log.addStderr(
                f"got issue at first try:\n{e}\nRetry after clobber...")
            await self.doRepoSync(forceClobber=True)
        await self.maybeUpdateTarball()
        # from here on a clobber would not help
        await self.doRepoDownloads()
        return SUCCESS

    async def doClobberStart(self) -> None:
        await self.runRmdir(self.workdir)
        await self.runMkdir(self.workdir)
        await self.maybeExtractTarball()

    async def doRepoSync(self, forceClobber: bool = False) -> None:
        if forceClobber or not await self.sourcedirIsUpdateable():
            self.willRetryInCaseOfFailure = False  # starting from scratch already
            await self.doClobberStart()
        await self.doCleanup()
        init = ["init", "-u", self.manifestURL, "-b", self.manifestBranch,
                "-m", self.manifestFile, "--depth", str(self.depth)]
        if self.submodules:
            init.append("--submodules")
        await self._repoCmd(init)
        if self.manifestOverrideUrl:
            await self.override_manifest()
        pm = self.build.path_module
        for command in self.manifestDownloads:
            await self._Cmd(command, workdir=pm.join(self.workdir, ".repo", "manifests"))
        sync = ["sync", "--force-sync"]
        if self.jobs:
            sync.append(f"-j{self.jobs}")
        if not self.syncAllBranches:
            sync.append("-c")
        if self.syncQuietly:
            sync.append("-q")
        self.description = "repo sync"
        await self.stdio_log.addHeader(
            f"synching manifest {self.manifestFile} from branch {self.manifestBranch} "
            f"from {self.manifestURL}\n")
        await self._repoCmd(sync)
        await self._repoCmd(["manifest", "-r", "-o", "manifest-original.xml"])

    async def override_manifest(self) -> None:
        url = self.manifestOverrideUrl
        await self.stdio_log.addHeader(f"overriding manifest with {url}\n")
        pm = self.build.path_module
        if await self.pathExists(pm.join(self.workdir, url)):
            await self._Cmd(["cp", "-f", url, "manifest_override.xml"])
        else:
            await self._Cmd(["wget", url, "-O", "manifest_override.xml"])
        await self._Cmd(["ln", "-sf", "../manifest_override.xml", "manifest.xml"],
                        workdir=pm.join(self.workdir, ".repo"))

    def _findErrorMessages(self, error_re: Any) -> bool:
        for stream in ("stderr", "stdout"):
            text = getattr(self.lastCommand, stream, None)
            if isinstance(text, str) and re.search(error_re, text) is not None:
                return True
        return False

    def _sleep(self, delay: float) -> Any:
        return deferred_sleep(self.master.reactor, delay)

    async def _download(self, download: str) -> None:
        await self.stdio_log.addHeader(f"downloading changeset {download}\n")
        attempts = self.mirror_sync_retry + 1
        while attempts > 0:
            await self._repoCmd(["download", *download.split(" ")], abandonOnFailure=False,
                                collectStdout=True, collectStderr=True)
            if not self._findErrorMessages(self.ref_not_found_re):
                break
            attempts -= 1
            await self.stdio_log.addStderr(f"failed downloading changeset {download}\n")
            await self.stdio_log.addHeader("wait one minute for mirror sync\n")
            await self._sleep(self.mirror_sync_sleep)
        if attempts == 0:
            self.descriptionDone = f"repo: change {download} does not exist"
            raise BuildStepFailed()
        if self.lastCommand.didFail() or self._findErrorMessages(self.cherry_pick_error_re):
            # the diff of the tree shows the conflicts in the log
            await self._repoCmd(["forall", "-c", "git", "diff", "HEAD"], abandonOnFailure=False)
            self.descriptionDone = f"download failed: {download}"
            raise BuildStepFailed()
        stderr = getattr(self.lastCommand, "stderr", None)
        if isinstance(stderr, str):
            change = head = None
            for line in stderr.split("\n"):
                change = change or self.re_change.match(line)
                head = head or self.re_head.match(line)
            if change and head:
                self.repo_downloaded += f"{change.group(1)}/{change.group(2)} {head.group(1)} "

    async def doRepoDownloads(self) -> None:
        self.repo_downloaded = ""
        for download in self.repoDownloads:
            await self._download(download)
        self.setProperty("repo_downloaded", self.repo_downloaded, "Source")

    # -- tarball of .repo ------------------------------------------------------------------
    def computeTarballOptions(self) -> list[str]:
        for ending, options in _TAR_COMPRESSION:
            if self.tarball.endswith(ending):
                return ["tar", *options]
        return ["tar"]

    async def maybeExtractTarball(self) -> None:
        if not self.tarball:
            return
        if await self._Cmd([*self.computeTarballOptions(), "-xvf", self.tarball],
                           abandonOnFailure=False):
            # a broken tarball: drop it and what it extracted
            await self._Cmd(["rm", "-f", self.tarball], abandonOnFailure=False)
            await self.runRmdir(self.repoDir(), abandonOnFailure=False)

    async def maybeUpdateTarball(self) -> None:
        if not self.tarball or self.updateTarballAge is None:
            return
        # the tarball path is absolute: the worker's stat command cannot be used
        res = await self._Cmd(["stat", "-c%Y", self.tarball], collectStdout=True,
                              abandonOnFailure=False)
        age = 0
        if not res:
            tarball_mtime = int(self.lastCommand.stdout)
            await self._Cmd(["stat", "-c%Y", "."], collectStdout=True)
            age = int(self.lastCommand.stdout) - tarball_mtime
        if not res and age <= self.updateTarballAge:
            return
        if await self._Cmd([*self.computeTarballOptions(), "-cvf", self.tarball, ".repo"],
                           abandonOnFailure=False):
            await self._Cmd(["rm", "-f", self.tarball], abandonOnFailure=False)

    def _getCleanupCommand(self) -> str:
        """The cleanup script run before each sync."""
        return _CLEANUP_SCRIPT.format(branch=self.manifestBranch, file=self.manifestFile,
                                      workdir=self.workdir)

    async def doCleanup(self) -> Any:
        return await self._Cmd(["bash", "-c", self._getCleanupCommand()],
                               abandonOnFailure=False)


__all__ = ["Repo", "RepoDownloadsFromChangeSource", "RepoDownloadsFromProperties"]
