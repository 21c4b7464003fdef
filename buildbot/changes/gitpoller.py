"""GitPoller: polls a remote git repository for new commits.

The last revision seen on each branch is kept in state `lastRev` (object (name,
"GitPoller")), keyed as the reference keys it, so a restarted master (or one that replaces
a Buildbot 4.3 master) neither replays old commits nor misses new ones. The first poll of a
new poller only records where the branches are.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote as urlquote

from twisted.logger import Logger
from zope.interface import classImplements

from buildbot import config
from buildbot.changes.base import ReconfigurablePollingChangeSource
from buildbot.changes.process import run_process
from buildbot.interfaces import IRenderable
from buildbot.process.codebase import Codebase
from buildbot.process.properties import Properties
from buildbot.process.state import StateMixin
from buildbot.util.deferred import gather
from buildbot.util.git import (
    getSshCommand,
    getSshKnownHostsContents,
    getSshWrapperScriptContents,
)
from buildbot.util.git_credential import (
    COMMANDS_USING_REMOTES,
    GitCredentialInputRenderer,
    credential_options,
    credential_store_options,
)
from buildbot.util.misc import bytes2unicode

log = Logger()

# util may not import the interfaces: the renderer is declared renderable here too
classImplements(GitCredentialInputRenderer, IRenderable)

_GIT_URL = re.compile(
    r"(?P<proto>(https?://|ssh://|git://|))"
    r"((?P<user>[^:@]*)(:(?P<password>.*))?@)?"
    r"(?P<domain>[^\/:]+)(:((?P<port>[0-9]+)/)?|/)"
    r"((?P<owner>.+)/)?(?P<repo>[^/]+?)(\.git)?$")


class GitError(Exception):
    """git exited with code 128 (a repository or ref problem)."""


def _sanitize(value: str) -> str:
    return urlquote(value, "").replace("~", "%7E")


def tracker_ref(repourl: str, ref: str) -> str:
    """The local ref a remote ref is fetched into (same names as the reference, so a work
    directory left by Buildbot 4.3 is reused as is)."""
    prefix = "refs/buildbot" if ref.startswith("refs/") else "refs/buildbot/raw"
    m = _GIT_URL.match(repourl)
    if m is None:
        ident = _sanitize(repourl)
    else:
        proto = m.group("proto")[:-3] if m.group("proto") else "ssh"
        ident = f"{proto}/{_sanitize(m.group('domain'))}"
        if m.group("port") is not None:
            ident += f"%3A{int(m.group('port'))}"
        if m.group("owner") is not None:
            ident += f"/{_sanitize(m.group('owner'))}"
        ident += f"/{_sanitize(m.group('repo'))}"
    tail = ref.removeprefix("refs/")
    return f"{prefix}/{ident}/{tail}"



def _is_branch_selection(branches: Any) -> bool:
    """`branches` may be True (all), a predicate on ref names, or a list of names."""
    if branches is True or callable(branches):
        return True
    return isinstance(branches, list) and all(isinstance(name, str) for name in branches)

# The git version from which each feature flag of GitPoller (4.3's names) is true.
GIT_FEATURES: dict[str, tuple[int, ...]] = {
    "supportsBranch": (1, 6, 5), "supportsProgress": (1, 7, 2),
    "supportsSubmoduleForce": (1, 7, 6), "supportsSubmoduleCheckout": (1, 7, 8),
    "supports_credential_store": (1, 7, 9), "supportsSshPrivateKeyAsEnvOption": (2, 3, 0),
    "supports_lsremote_symref": (2, 8, 0), "supportsSshPrivateKeyAsConfigOption": (2, 10, 0),
    "supportsFilters": (2, 27, 0),
}
_GIT_VERSION = re.compile(r"git version (\d+(?:\.\d+)*)")


class GitPoller(ReconfigurablePollingChangeSource, StateMixin):
    """`changes.GitPoller(repourl, branches=None, branch=None, workdir=None, ...)`.

    No branch given: the remote's default branch; `branches=True`: every branch; a list:
    those branches; a callable: the refs it accepts; `only_tags`: every tag.
    """

    # feature flags (GIT_FEATURES), set by setupGit/parseGitFeatures
    gitInstalled: bool
    supportsBranch: bool
    supportsProgress: bool
    supportsSubmoduleForce: bool
    supportsSubmoduleCheckout: bool
    supports_credential_store: bool
    supportsSshPrivateKeyAsEnvOption: bool
    supports_lsremote_symref: bool
    supportsSshPrivateKeyAsConfigOption: bool
    supportsFilters: bool

    def __init__(self, repourl: str, **kwargs: Any) -> None:
        self.setupGit()
        self.lastRev: dict[str, str] | None = None
        self._codebase_id: int | None = None
        if kwargs.get("name") is None:
            kwargs["name"] = repourl
        super().__init__(repourl, **kwargs)

    def checkConfig(self, repourl: str, branches: Any = None,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                    branch: str | None = None, workdir: str | None = None,
                    pollInterval: float = 10 * 60, gitbin: str = "git",
                    usetimestamps: bool = True, category: Any = None,
                    codebase: Codebase | None = None, project: str | None = None,
                    fetch_refspec: Any = None, encoding: str = "utf-8",
                    name: str | None = None, pollAtLaunch: bool = False,
                    buildPushesWithNoCommits: bool = False, only_tags: bool = False,
                    sshPrivateKey: Any = None, sshHostKey: Any = None,
                    sshKnownHosts: Any = None, pollRandomDelayMin: int = 0,
                    pollRandomDelayMax: int = 0, auth_credentials: Any = None,
                    git_credentials: Any = None) -> None:
        for failed, message in (
                (only_tags and (branch or branches),
                 "GitPoller: can't specify only_tags and branch/branches"),
                (branch and branches, "GitPoller: can't specify both branch and branches"),
                (branch and not isinstance(branch, str),
                 "GitPoller: 'branch' argument must be a str"),
                (branches is not None and not _is_branch_selection(branches),
                 ("GitPoller: 'branches' argument must be one of list of str, True, or "
                  "Callable[[str], bool]"))):
            if failed:
                config.error(message)
        if sshHostKey is not None and sshPrivateKey is None:
            config.error("GitPoller: sshPrivateKey must be provided in order use sshHostKey")
        if sshKnownHosts is not None and sshPrivateKey is None:
            config.error("GitPoller: sshPrivateKey must be provided in order use "
                         "sshKnownHosts")
        if sshHostKey is not None and sshKnownHosts is not None:
            config.error("GitPoller: only one of sshKnownHosts and sshHostKey can be provided")
        if fetch_refspec is not None:
            config.error("GitPoller: fetch_refspec is no longer supported. Instead, only the "
                         "given branches are downloaded.")
        if not isinstance(codebase, (Codebase, type(None))):
            config.error(f"{type(self).__name__}: codebase must be None or instance of "
                         f"Codebase")
        super().checkConfig(name=name or repourl, pollInterval=pollInterval,
                            pollAtLaunch=pollAtLaunch, pollRandomDelayMin=pollRandomDelayMin,
                            pollRandomDelayMax=pollRandomDelayMax)

    async def reconfigService(self, repourl: str,  # type: ignore[override]  # the plugin's constructor arguments (4.3's API)
                              branches: Any = None, branch: str | None = None,
                              workdir: str | None = None, pollInterval: float = 10 * 60,
                              gitbin: str = "git", usetimestamps: bool = True,
                              category: Any = None, codebase: Codebase | None = None,
                              project: str | None = None, fetch_refspec: Any = None,
                              encoding: str = "utf-8", name: str | None = None,
                              pollAtLaunch: bool = False,
                              buildPushesWithNoCommits: bool = False, only_tags: bool = False,
                              sshPrivateKey: Any = None, sshHostKey: Any = None,
                              sshKnownHosts: Any = None, pollRandomDelayMin: int = 0,
                              pollRandomDelayMax: int = 0, auth_credentials: Any = None,
                              git_credentials: Any = None) -> None:
        if branch:
            branches = [branch]
        elif not branches:
            branches = (lambda ref: ref.startswith("refs/tags/")) if only_tags else None
        self.repourl = repourl
        self.branches: list[str] | bool | Callable[[str], bool] | None = branches
        self.encoding = encoding
        self.buildPushesWithNoCommits = buildPushesWithNoCommits
        self.gitbin = gitbin
        self.usetimestamps = usetimestamps
        self.category = category if callable(category) else bytes2unicode(
            category, encoding=encoding)
        self.codebase = codebase
        if codebase is not None:
            projectid = await self.master.data.updates.find_project_id(codebase.project,
                                                                       auto_create=False)
            if projectid is None:
                raise RuntimeError(f"Project {codebase.project} is not configured")
            self._codebase_id = await self.master.data.updates.find_codebase_id(
                projectid=projectid, name=codebase.name)
        else:
            self._codebase_id = None
        self.project = bytes2unicode(project or "", encoding=encoding)
        self.lastRev = None
        self.sshPrivateKey, self.sshHostKey = sshPrivateKey, sshHostKey
        self.sshKnownHosts = sshKnownHosts
        self.git_credential_options = credential_options(auth_credentials, git_credentials,
                                                         repourl)
        # git options naming the poll's credential store, while it exists
        self._credential_args: list[str] = []
        self._remote_args: list[str] = []  # git options for the ssh key, during a poll
        self.workdir = workdir or "gitpoller-work"
        if not os.path.isabs(self.workdir):
            self.workdir = os.path.join(self.master.basedir, self.workdir)
            log.info("gitpoller: using workdir '{workdir}'", workdir=self.workdir)
        await super().reconfigService(name=name or repourl, pollInterval=pollInterval,
                                      pollAtLaunch=pollAtLaunch,
                                      pollRandomDelayMin=pollRandomDelayMin,
                                      pollRandomDelayMax=pollRandomDelayMax)

    async def activate(self) -> None:
        self.lastRev = None
        self.setupGit()  # git may have been upgraded while we were inactive
        await super().activate()

    # -- what the installed git can do (read from `git --version` once per activation) ----
    def setupGit(self) -> None:
        """Forget what is known of git: nothing is supported until a version is parsed."""
        self.gitInstalled = False
        for flag in GIT_FEATURES:
            setattr(self, flag, False)

    def parseGitFeatures(self, version_stdout: str) -> None:
        """Set the feature flags from the output of `git --version` (unparsable output
        leaves git "not installed")."""
        found = _GIT_VERSION.match(version_stdout.strip())
        if found is None:
            return
        version = tuple(int(part) for part in found.group(1).split("."))
        self.gitInstalled = True
        for flag, since in GIT_FEATURES.items():
            setattr(self, flag, version >= since)

    def adjustCommandParamsForSshPrivateKey(self, command: list[str], env: dict[str, str],
                                            keyPath: str, sshWrapperPath: str | None = None,
                                            knownHostsPath: str | None = None) -> None:
        """Make `command` (the git arguments before the subcommand) and `env` use the key:
        through `-c core.sshCommand` where git has it, else GIT_SSH_COMMAND, else a wrapper
        script (GIT_SSH) for the oldest gits."""
        ssh = getSshCommand(keyPath, knownHostsPath)
        if self.supportsSshPrivateKeyAsConfigOption:
            command += ["-c", f"core.sshCommand={ssh}"]
        elif self.supportsSshPrivateKeyAsEnvOption:
            env["GIT_SSH_COMMAND"] = ssh
        elif sshWrapperPath is not None:
            env["GIT_SSH"] = sshWrapperPath
        else:
            raise RuntimeError("Only SSH wrapper script is supported but path not given")

    async def _learn_git_features(self) -> None:
        if self.gitInstalled:
            return
        self.parseGitFeatures(await self._dovccmd("--version", []))
        if not self.gitInstalled:
            raise OSError("Git is not installed")

    def describe(self) -> str:
        text = f"GitPoller watching the remote git repository {self.repourl}"
        if self.branches is True:
            text += ", branches: ALL"
        elif isinstance(self.branches, list):
            text += ", branches: " + ", ".join(self.branches)
        return text

    def poll_should_exit(self) -> bool:
        return not self.doPoll.running

    # -- polling ------------------------------------------------------------------------
    async def poll(self) -> None:
        assert self.workdir is not None
        await self._learn_git_features()
        try:
            await self._dovccmd("init", ["--bare", self.workdir])
        except GitError as e:
            log.info("{msg}", msg=e.args[0])
            return
        needs_auth = self.sshPrivateKey is not None or self.git_credential_options is not None
        auth_dir = tempfile.mkdtemp(prefix=".buildbot-ssh", dir=self.workdir) \
            if needs_auth else None
        try:
            env = await self._ssh_env(auth_dir if self.sshPrivateKey is not None else None)
            if auth_dir is not None:
                await self._store_credentials(auth_dir, env)
            refs, trim_heads = await self._get_refs(env)
            if not refs or self.poll_should_exit():
                return
            refspecs = [f"+{ref}:{tracker_ref(self.repourl, ref)}" for ref in refs]
            try:
                await self._dovccmd("fetch", ["--progress", self.repourl, *refspecs, "--"],
                                    path=self.workdir, env=env)
            except GitError as e:
                log.info("{msg}", msg=e.args[0])
                return
        finally:
            self._credential_args = []
            self._remote_args = []
            if auth_dir is not None:
                shutil.rmtree(auth_dir, ignore_errors=True)
        if self.lastRev is None:
            self.lastRev = await self.getState("lastRev", {})
        revs: dict[str, str] = {}
        log.info('gitpoller: processing changes from "{url}"', url=self.repourl)
        for ref in refs:
            branch = ref[len("refs/heads/"):] if trim_heads and ref.startswith("refs/heads/") \
                else ref
            try:
                if self.poll_should_exit():
                    break
                rev = await self._dovccmd("rev-parse", [tracker_ref(self.repourl, ref)],
                                          path=self.workdir)
                revs[branch] = rev
                await self._process_changes(rev, branch)
            except Exception:  # noqa: BLE001 - one branch must not stop the others
                log.failure("trying to poll branch {branch} of {url}", branch=branch,
                            url=self.repourl)
        self.lastRev = revs
        await self.setState("lastRev", self.lastRev)

    async def _store_credentials(self, auth_dir: str, env: dict[str, str] | None) -> None:
        """Put the configured HTTP credentials in a credential store file of `auth_dir`
        (`git credential approve`) and make the git commands reaching the remote use it."""
        options = self.git_credential_options
        if options is None:
            return
        self._credential_args = credential_store_options(
            options, os.path.join(auth_dir, ".git-credentials"))
        props = Properties()
        props.master = self.master
        for credential in options.credentials:
            text = await props.render(credential)
            if not text:
                continue
            argv = [self.gitbin, *self._credential_args, "credential", "approve"]
            code, _, err = await run_process(self.master.reactor, argv, auth_dir, env=env,
                                             stdin=text.encode(self.encoding))
            if code != 0:
                raise GitError(f"storing the credentials for {self.repourl} failed with "
                               f"exit code {code}: {err.decode(self.encoding, 'replace')}")

    async def _ssh_env(self, ssh_dir: str | None) -> dict[str, str] | None:
        if ssh_dir is None:
            return None
        key = await self.master.render_secrets(self.sshPrivateKey) \
            if hasattr(self.master, "render_secrets") else self.sshPrivateKey
        key_path = os.path.join(ssh_dir, "ssh-key")
        with open(key_path, "w", encoding="utf-8") as f:
            f.write(key)
        os.chmod(key_path, 0o400)
        known = self.sshKnownHosts
        if self.sshHostKey is not None:
            known = getSshKnownHostsContents(self.sshHostKey)
        known_path = None
        if known is not None:
            known_path = os.path.join(ssh_dir, "ssh-known-hosts")
            with open(known_path, "w", encoding="utf-8") as f:
                f.write(known)
        wrapper = os.path.join(ssh_dir, "ssh-wrapper.sh")
        with open(wrapper, "w", encoding="utf-8") as f:
            f.write(getSshWrapperScriptContents(key_path, known_path))
        os.chmod(wrapper, 0o700)
        env = dict(os.environ)
        self.adjustCommandParamsForSshPrivateKey(self._remote_args, env, key_path, wrapper,
                                                 known_path)
        return env

    async def _list_remote_refs(self, refs: list[str] | None,
                                env: dict[str, str] | None) -> list[str]:
        rows = await self._dovccmd("ls-remote", ["--refs", self.repourl, *(refs or [])],
                                   env=env)
        return [row.split("\t")[1] for row in rows.splitlines() if "\t" in row]

    async def _resolve_head_ref(self, env: dict[str, str] | None) -> str | None:
        rows = await self._dovccmd("ls-remote", ["--symref", self.repourl, "HEAD"], env=env)
        parts = rows.split(maxsplit=3)
        if len(parts) >= 3 and parts[0] == "ref:" and parts[2] == "HEAD":
            return parts[1]
        return None

    async def _get_refs(self, env: dict[str, str] | None) -> tuple[list[str], bool]:
        """The remote refs to fetch, and whether their `refs/heads/` prefix is dropped in
        branch names (only for an explicit list of branches, as in the reference)."""
        if callable(self.branches):
            return [r for r in await self._list_remote_refs(None, env)
                    if self.branches(r)], False
        if self.branches is True:
            return await self._list_remote_refs(["refs/heads/*"], env), False
        if self.branches:
            return await self._list_remote_refs([f"refs/heads/{b}" for b in self.branches],
                                                env), True
        head = await self._resolve_head_ref(env)
        return ([head] if head is not None else ["HEAD"]), False

    async def _log(self, fmt: str, rev: str, *extra: str) -> str:
        return await self._dovccmd("log", [*extra, "--no-walk", f"--format={fmt}", rev, "--"],
                                   path=self.workdir)

    async def _get_commit_timestamp(self, rev: str) -> int | None:
        out = await self._log("%ct", rev)
        if not self.usetimestamps:
            return None
        try:
            return int(out)
        except ValueError as e:
            # the poll's error handler logs it once, with this text
            raise ValueError(f"gitpoller: git log printed {out!r} for the commit timestamp "
                             f"of {rev}") from e

    async def _get_commit_files(self, rev: str) -> list[str]:
        out = await self._dovccmd("log", ["--name-only", "--no-walk", "--format=%n", "-m",
                                          "--first-parent", rev, "--"], path=self.workdir)

        def decode(name: str) -> str:
            m = re.match('^"(.*)"$', name)
            if m:  # git quotes names with unusual characters, C-style
                name = m.group(1).encode("latin-1", "backslashreplace").decode(
                    "unicode_escape").encode("latin-1").decode(self.encoding)
            return name

        return [decode(f) for f in out.splitlines() if f]

    async def _get_commit_author(self, rev: str) -> str:
        out = await self._log("%aN <%aE>", rev)
        if not out:
            raise OSError("could not get commit author for rev")
        return out

    async def _get_commit_committer(self, rev: str) -> str:
        out = await self._log("%cN <%cE>", rev)
        if not out:
            raise OSError("could not get commit committer for rev")
        return out

    async def _process_changes(self, newRev: str, branch: str) -> None:
        """Add a change for each commit on `branch` up to `newRev` not reachable from any
        revision seen at the last poll (oldest first)."""
        if not self.lastRev:
            return
        out = await self._dovccmd(
            "log", ["--ignore-missing", "--first-parent", "--format=%H", newRev,
                    *["^" + rev for rev in sorted(self.lastRev.values())], "--"],
            path=self.workdir)
        revs = out.split()[::-1]  # oldest first
        existing = self.lastRev.get(branch)
        # a push of commits known from other branches: the branch head itself, if asked
        if self.buildPushesWithNoCommits and not revs and existing != newRev:
            revs = [newRev]
            log.info('gitpoller: rebuilding {rev} for {what} branch "{branch}"',
                     rev=newRev, what="new" if existing is None else "updated",
                     branch=branch)
        self.lastRev[branch] = newRev
        if revs:
            log.info('gitpoller: processing {n} changes: {revs} from "{url}" branch '
                     '"{branch}"', n=len(revs), revs=revs, url=self.repourl, branch=branch)
        last_commit_id = None
        if self._codebase_id is not None and revs:
            parents = (await self._log("%P", revs[0])).split()
            if parents:
                found = await self.master.data.get(
                    ("codebases", self._codebase_id, "commits_by_revision", parents[0]))
                if found is not None:
                    last_commit_id = found["commitid"]
        short_branch = branch.removeprefix("refs/heads/")
        for rev in revs:
            timestamp, author, committer, files, comments = await gather([
                self._get_commit_timestamp(rev), self._get_commit_author(rev),
                self._get_commit_committer(rev), self._get_commit_files(rev),
                self._log("%s%n%b", rev)])
            await self.master.data.updates.addChange(
                author=author, committer=committer, revision=rev, files=files,
                comments=comments, when_timestamp=timestamp, branch=short_branch,
                project=self.project, repository=self.repourl, category=self.category,
                src="git")
            if self._codebase_id is not None:
                last_commit_id = await self.master.data.updates.add_commit(
                    codebaseid=self._codebase_id, author=author, committer=committer,
                    comments=comments, when_timestamp=timestamp, revision=rev,
                    parent_commitid=last_commit_id)
        if self._codebase_id is not None and last_commit_id is not None:
            await self.master.data.updates.update_branch(
                codebaseid=self._codebase_id, name=branch, commitid=last_commit_id,
                last_timestamp=int(self.master.reactor.seconds()))

    async def _dovccmd(self, command: str, args: list[str], path: str | None = None,
                       env: dict[str, str] | None = None) -> str:
        """Run `git <command> <args>`; its stdout, stripped. GitError on exit code 128,
        OSError on any other failure."""
        credentials = [*self._remote_args, *self._credential_args] \
            if command in COMMANDS_USING_REMOTES else []
        argv = [self.gitbin, *credentials, command, *args]
        code, out, err = await run_process(self.master.reactor, argv, path, env=env)
        stdout = out.decode(self.encoding, "replace")
        stderr = err.decode(self.encoding, "replace")
        if code != 0:
            msg = (f"command {[command, *args]} in {path} on repourl {self.repourl} failed "
                   f"with exit code {code}: {stderr}")
            if code == 128:
                raise GitError(msg)
            raise OSError(msg)
        return stdout.strip()
