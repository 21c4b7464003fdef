"""Git checkout step (and GitPush, GitTag, GitCommit).

Every git operation is a `shell` command on the worker (`git ...` in the workdir), so the
worker needs git installed. Modes: `incremental` (fetch and check out in place) and `full`
with a method: `clean` (git clean -f -f -d, keeping ignored files), `fresh` (also ignored
files), `clobber` (remove and clone) or `copy` (update a `source` directory and copy it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from twisted.logger import Logger
from zope.interface import classImplements

from buildbot import config as bbconfig
from buildbot.interfaces import IRenderable, WorkerSetupError
from buildbot.process import buildstep
from buildbot.process.buildstep import BuildStep
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.worker import CompositeStepMixin
from buildbot.util.git import (
    getSshCommand,
    getSshKnownHostsContents,
    getSshWrapperScriptContents,
)
from buildbot.util.git_credential import (
    COMMANDS_USING_REMOTES,
    GitCredentialInputRenderer,
    GitCredentialOptions,
    credential_options,
    credential_store_options,
)

log = Logger()

# util may not import the interfaces: the renderer is declared renderable here
classImplements(GitCredentialInputRenderer, IRenderable)

RC_SUCCESS = 0
GIT_HASH_LENGTH = 40


def isTrueOrIsExactlyZero(v: Any) -> bool:
    """True for truthy values and for the integer 0 (so `abbrev=0` is passed on), False for
    other false values, `False` included."""
    return bool(v) or (isinstance(v, int) and v is not False)


_true_or_zero = isTrueOrIsExactlyZero


# `getDescription` keys and how `git describe` takes them: a switch (given when true), a
# value ("--match v*"), a number ("--abbrev=0", zero included) or an optional value
# ("--dirty" for True or "", "--dirty=<mark>" otherwise).
_DESCRIBE_OPTIONS = {
    "all": "switch", "always": "switch", "contains": "switch", "debug": "switch",
    "long": "switch", "exact-match": "switch", "tags": "switch", "first-parent": "switch",
    "match": "value", "exclude": "value",
    "abbrev": "number", "candidates": "number",
    "dirty": "optional",
}


def describe_args(key: str, value: Any) -> list[str] | None:
    """The `git describe` arguments for one `getDescription` entry (None: none)."""
    kind, flag = _DESCRIBE_OPTIONS[key], f"--{key}"
    if kind == "number":
        return [f"{flag}={value}"] if _true_or_zero(value) else None
    if not value and not (kind == "optional" and value == ""):
        return None
    if kind == "value":
        return [flag, value]
    if kind == "optional" and value is not True and value != "":
        return [f"{flag}={value}"]
    return [flag]


GIT_DESCRIBE_FLAGS: list[tuple[str, Any]] = [
    (key, functools.partial(describe_args, key)) for key in _DESCRIBE_OPTIONS]
git_describe_flags = GIT_DESCRIBE_FLAGS  # the reference's name


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def scp_style_to_url_syntax(address: str, port: int = 22, scheme: str = "ssh") -> str:
    """`user@host:path` as `ssh://user@host:port/path` (other addresses unchanged)."""
    if not isinstance(address, str) or any(c in address for c in ("://", "\\")) or \
            ":" not in address or address.startswith("/"):
        return address
    host, path = address.split(":", 1)
    if "/" in host or not host:
        return address
    return f"{scheme}://{host}:{port}/{path}"


def _check_ssh_options(sshPrivateKey: Any, sshHostKey: Any, sshKnownHosts: Any) -> None:
    if sshHostKey is not None and sshPrivateKey is None:
        bbconfig.error("Git: sshPrivateKey must be provided in order use sshHostKey")
    if sshKnownHosts is not None and sshPrivateKey is None:
        bbconfig.error("Git: sshPrivateKey must be provided in order use sshKnownHosts")
    if sshHostKey is not None and sshKnownHosts is not None:
        bbconfig.error("Git: only one of sshKnownHosts and sshHostKey can be provided")


# each feature flag of GitStepMixin and the first git version that has the feature
_GIT_FEATURES: dict[str, tuple[int, ...]] = {
    "supportsBranch": (1, 6, 5),
    "supportsProgress": (1, 7, 2),
    "supportsSubmoduleForce": (1, 7, 6),
    "supportsSubmoduleCheckout": (1, 7, 8),
    "supports_credential_store": (1, 7, 9),
    "supportsSshPrivateKeyAsEnvOption": (2, 3, 0),
    "supports_lsremote_symref": (2, 8, 0),
    "supportsSshPrivateKeyAsConfigOption": (2, 10, 0),
    "supportsFilters": (2, 27, 0),
}


class GitStepMixin:
    """Running git on the worker: features by version, `_dovccmd`, repository URL."""

    supportsBranch = False
    supportsProgress = False
    supportsSubmoduleForce = False
    supportsSubmoduleCheckout = False
    supportsFilters = False
    supports_lsremote_symref = False
    gitInstalled = False
    config: Any = None
    env: Any = None
    sshPrivateKey: Any = None
    sshHostKey: Any = None
    sshKnownHosts: Any = None
    git_credential_options: Any = None
    supports_credential_store = False
    _ssh_env: dict[str, str] | None = None
    # git options selecting the key (core.sshCommand) while the key exists
    _ssh_options: list[str] | None = None
    supportsSshPrivateKeyAsEnvOption = False
    supportsSshPrivateKeyAsConfigOption = False
    _ssh_dir: str | None = None
    # git options pointing at this step's credential store (set while it exists)
    _credential_config: list[str] | None = None

    def _ssh_dir_relative(self) -> str:
        step: Any = self
        workdir = str(step.workdir or "build").replace("/", "_").replace("\\", "_")
        return f".{workdir}.buildbot"

    async def _auth_dir(self) -> tuple[str, str]:
        """The directory next to the workdir holding this step's keys and credentials
        (created on first use; `cleanup_ssh` removes it): relative to the builder
        directory, and absolute."""
        step: Any = self
        relative = self._ssh_dir_relative()
        builddir = step.getProperty("builddir")
        absolute = step.build.path_module.join(builddir, relative) if builddir else relative
        if self._ssh_dir is None:
            await step.runMkdir(relative)
            self._ssh_dir = relative
        return relative, absolute

    async def setup_credentials(self) -> None:
        """Store the `git_credentials` (and `auth_credentials`) in a credential store file
        of the auth directory with `git credential approve`; the git commands that talk
        to a remote then use that store (and no other credential helper)."""
        options = self.git_credential_options
        if options is None:
            return
        if not self.supports_credential_store:
            raise WorkerSetupError("git credential-store is not supported")
        step: Any = self
        relative, absolute = await self._auth_dir()
        store = step.build.path_module.join(absolute, ".git-credentials")
        self._credential_config = credential_store_options(options, store)
        for credential in options.credentials:
            text = await step.render(credential)
            if text:
                await self._dovccmd(["credential", "approve"], initialStdin=text,
                                    workdir=relative)

    async def setup_ssh(self) -> None:
        """Write the private key (and known hosts) next to the workdir on the worker and
        point git at them through GIT_SSH_COMMAND; `cleanup_ssh` removes them."""
        if self.sshPrivateKey is None:
            return
        step: Any = self
        path = step.build.path_module
        _, absolute = await self._auth_dir()
        key_path = path.join(absolute, "ssh-key")
        await step.downloadFileContentToWorker(key_path, self.sshPrivateKey,
                                               abandonOnFailure=True, mode=0o400)
        known_hosts = None
        if self.sshHostKey is not None:
            known_hosts = getSshKnownHostsContents(self.sshHostKey)
        elif self.sshKnownHosts is not None:
            known_hosts = self.sshKnownHosts
        hosts_path = None
        if known_hosts is not None:
            hosts_path = path.join(absolute, "ssh-known-hosts")
            await step.downloadFileContentToWorker(hosts_path, known_hosts,
                                                   abandonOnFailure=True, mode=0o400)
        wrapper_path = None
        if not self.supportsSshPrivateKeyAsEnvOption:  # git < 2.3 runs a script as ssh
            wrapper_path = path.join(absolute, "ssh-wrapper.sh")
            await step.downloadFileContentToWorker(
                wrapper_path, getSshWrapperScriptContents(key_path, hosts_path),
                abandonOnFailure=True, mode=0o700)
        options: list[str] = []
        env: dict[str, str] = {}
        self.adjustCommandParamsForSshPrivateKey(options, env, key_path, wrapper_path,
                                                 hosts_path)
        self._ssh_env, self._ssh_options = env, options

    async def cleanup_ssh(self) -> None:
        if self._ssh_dir is None:
            return
        step: Any = self
        dir_, self._ssh_dir, self._ssh_env = self._ssh_dir, None, None
        self._ssh_options = None
        self._credential_config = None
        await step.runRmdir(dir_, abandonOnFailure=False)
    repourl: Any = None
    port: int = 22

    def setupGitStep(self) -> None:
        self.setupGit()
        if not self.repourl:
            bbconfig.error("Git: must provide repourl.")

    def setup_repourl(self) -> None:
        self.repourl = scp_style_to_url_syntax(self.repourl, self.port)

    def setupGit(self) -> None:
        """Forget what is known of the worker's git: no feature until `parseGitFeatures`
        reads a `git --version`."""
        self.gitInstalled = False
        for feature in _GIT_FEATURES:
            setattr(self, feature, False)

    def parseGitFeatures(self, version_stdout: str) -> None:
        m = re.match(r"^git version (\d+(\.\d+)*)", version_stdout)
        if m is None:
            self.gitInstalled = False
            return
        version = _version_tuple(m.group(1))
        self.gitInstalled = True
        for feature, since in _GIT_FEATURES.items():
            setattr(self, feature, version >= since)

    def setup_git_auth(self, ssh_private_key: Any, ssh_host_key: Any, ssh_known_hosts: Any,
                       git_credential_options: GitCredentialOptions | None = None) -> None:
        """The key, host key or known hosts, and stored credentials the git commands that
        talk to a remote use (set up on the worker when the step runs)."""
        self.sshPrivateKey, self.sshHostKey = ssh_private_key, ssh_host_key
        self.sshKnownHosts = ssh_known_hosts
        self.git_credential_options = git_credential_options

    def adjustCommandParamsForSshPrivateKey(self, command: list[str], env: dict[str, str],
                                            keyPath: str | None,
                                            sshWrapperPath: str | None = None,
                                            knownHostsPath: str | None = None) -> None:
        """Make git use ssh with `keyPath` (and `knownHostsPath`): added to `command` as the
        core.sshCommand option (git >= 2.10), else GIT_SSH_COMMAND in `env` (git >= 2.3),
        else GIT_SSH naming the wrapper script `sshWrapperPath`, which older git needs."""
        ssh = getSshCommand(keyPath, knownHostsPath)
        if self.supportsSshPrivateKeyAsConfigOption:
            command += ["-c", f"core.sshCommand={ssh}"]
            return
        if self.supportsSshPrivateKeyAsEnvOption:
            env["GIT_SSH_COMMAND"] = ssh
            return
        if sshWrapperPath is None:
            raise RuntimeError("Only SSH wrapper script is supported but path not given")
        env["GIT_SSH"] = sshWrapperPath

    async def _dovccmd(self, command: list[str], abandonOnFailure: bool = True,
                       collectStdout: bool = False, initialStdin: str | None = None,
                       workdir: str | None = None) -> Any:
        """Run `git <command>` in the workdir (or `workdir`); returns stdout
        (collectStdout) or the rc."""
        step: Any = self
        full_command = ["git"]
        for name, value in (self.config or {}).items():
            full_command += ["-c", f"{name}={value}"]
        if self._credential_config and command and command[0] in COMMANDS_USING_REMOTES:
            full_command += self._credential_config
        full_command += self._ssh_options or []
        full_command += command
        # TERM first (git leaves lock files behind when killed), the kill a second later.
        cmd = RemoteShellCommand(
            workdir if workdir is not None else step.workdir, full_command, env={**(self.env or {}), **(self._ssh_env or {})},
            logEnviron=step.logEnviron,
            timeout=step.timeout, sigtermTime=1, collectStdout=collectStdout,
            initialStdin=initialStdin)
        cmd.useLog(step.stdio_log, False)
        await step.runCommand(cmd)
        if abandonOnFailure and cmd.didFail():
            log.info("Source step failed while running command {cmd}", cmd=cmd)
            raise buildstep.BuildStepFailed()
        return cmd.stdout if collectStdout else cmd.rc

    async def checkFeatureSupport(self) -> bool:
        self.parseGitFeatures(await self._dovccmd(["--version"], collectStdout=True))
        return self.gitInstalled


# Methods of mode "full" (None: the default, "fresh").
_FULL_METHODS = ("clean", "fresh", "clobber", "copy", None)
_CLEAN_UNTRACKED = ["clean", "-f", "-f", "-d"]
_CLEAN_UNTRACKED_AND_IGNORED = [*_CLEAN_UNTRACKED, "-x"]


def _depth(shallow: Any) -> list[str]:
    # `shallow=True` means a depth of 1
    return ["--depth", str(int(shallow))] if shallow else []


def _report(problems: list[tuple[bool, str]]) -> None:
    """A configuration error for each (failed, message) whose check failed."""
    for failed, message in problems:
        if failed:
            bbconfig.error(message)


def _git_step_problems(step: Git) -> list[tuple[bool, str]]:
    """The configuration checks of a Git step (4.3's texts and order). Mode and method are
    checked only when given as strings (renderables are checked when the step runs)."""
    mode_given = isinstance(step.mode, str)
    method_given = mode_given and isinstance(step.method, str)
    return [
        (not step.repourl, "Git: must provide repourl."),
        (mode_given and not step.has_supported_mode(),
         f"Git: mode must be {' or '.join(step.supported_modes())}"),
        (method_given and step.mode == "full" and step.method not in _FULL_METHODS,
         "Git: invalid method for mode 'full'."),
        (method_given and bool(step.shallow) and (step.mode, step.method) != ("full", "clobber"),
         "Git: in mode 'full' shallow only possible with method 'clobber'."),
        (not isinstance(step.getDescription, (bool, dict)),
         "Git: getDescription must be a boolean or a dict."),
    ]


def classify_workdir(listing: list[str] | None) -> str:
    """What a checkout finds in the workdir (its `listdir`, None if missing): "update" (a
    git repository), "clone" (nothing there) or "clobber" (something else)."""
    if not listing:
        return "clone"
    return "update" if ".git" in listing else "clobber"


class Git(Source, GitStepMixin):
    """Check out `repourl` at the build's revision (or `branch`, default HEAD).

    Sets `got_revision` (and `commit-description` with `getDescription`).
    """

    name = "git"
    renderables: Sequence[str] = ("sshPrivateKey", "sshHostKey", "sshKnownHosts",
                                  "repourl", "reference", "branch", "codebase", "mode",
                                  "method", "origin")

    def __init__(self, repourl: Any = None, port: int = 22, branch: Any = "HEAD",
                 mode: Any = "incremental", method: Any = None, reference: Any = None,
                 submodules: bool = False, remoteSubmodules: bool = False, tags: bool = False,
                 shallow: Any = False, filters: Any = None, progress: bool = True,
                 retryFetch: bool = False, clobberOnFailure: bool = False,
                 getDescription: Any = False, config: Any = None, origin: Any = None,
                 sshPrivateKey: Any = None, sshHostKey: Any = None, sshKnownHosts: Any = None,
                 auth_credentials: Any = None, git_credentials: Any = None,
                 **kwargs: Any) -> None:
        # where from
        self.repourl, self.port, self.origin = repourl, port, origin
        self.branch, self.revision = branch, None
        self.reference, self.filters, self.shallow = reference, filters, shallow
        self.tags, self.prog, self.config = tags, progress, config
        self.submodules, self.remoteSubmodules = submodules, remoteSubmodules
        # how
        self.mode, self.method, self.srcdir = mode, method, "source"
        self.retryFetch, self.clobberOnFailure = retryFetch, clobberOnFailure
        # a false value other than a dict (e.g. None) means no description
        self.getDescription = getDescription if getDescription or isinstance(
            getDescription, dict) else False
        # credentials
        self.auth_credentials, self.git_credentials = auth_credentials, git_credentials
        super().__init__(mode=mode, **kwargs)
        _report(_git_step_problems(self))
        _check_ssh_options(sshPrivateKey, sshHostKey, sshKnownHosts)
        self.setup_git_auth(sshPrivateKey, sshHostKey, sshKnownHosts,
                            credential_options(auth_credentials, git_credentials, repourl))

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.setup_repourl()
        self.branch = branch or "HEAD"
        self.revision = revision
        self.method = self._getMethod()
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkFeatureSupport():
            raise WorkerSetupError("git is not installed on worker")
        await self.setup_ssh()
        try:
            await self.setup_credentials()
            return await self._update_workdir(patch)
        finally:
            await self.cleanup_ssh()

    async def _update_workdir(self, patch: Any) -> int:
        if await self.sourcedirIsPatched():
            # a patch applied by an earlier build is undone first
            await self._dovccmd(_CLEAN_UNTRACKED_AND_IGNORED)
        await self.run_mode()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return await self.parseCommitDescription()

    # -- modes and methods ------------------------------------------------------------------
    async def mode_full(self) -> None:
        # clobber and copy never reuse the workdir; clean and fresh update it in place
        # when it holds a repository
        whole_tree = {"clobber": self.clobber, "copy": self.copy}
        if self.method in whole_tree:
            await whole_tree[self.method]()
            return
        found = await self._sourcedirIsUpdatable()
        if found != "update":
            await self._replace_workdir(found)
            return
        in_place = {"clean": self.clean, "fresh": self.fresh}
        if self.method not in in_place:
            raise ValueError("Unknown method, check your configuration")
        await in_place[self.method]()

    async def mode_incremental(self) -> None:
        found = await self._sourcedirIsUpdatable()
        if found != "update":
            await self._replace_workdir(found)
            return
        await self._fetchOrFallback()
        await self._syncSubmodule(None)
        await self._updateSubmodule(None)

    async def _replace_workdir(self, found: str) -> None:
        if found == "clobber":
            await self.clobber()
            return
        log.info("No git repo present, making full clone")
        await self._fullCloneOrFallback(self.shallow)

    def _submodule_stages(self, final_clean: list[str]) -> list[Callable[[], Awaitable[Any]]]:
        # after the superproject: sync, update and clean the submodules, then clean the
        # tree once more
        stages: list[Callable[[], Awaitable[Any]]] = [
            self._syncSubmodule, self._updateSubmodule, self._cleanSubmodule]
        if self.submodules:
            stages.append(lambda: self._dovccmd(final_clean))
        return stages

    async def clean(self) -> int:
        # every stage must succeed
        stages = [lambda: self._dovccmd(_CLEAN_UNTRACKED), self._fetchOrFallback,
                  *self._submodule_stages(_CLEAN_UNTRACKED)]
        for stage in stages:
            if await stage() != RC_SUCCESS:
                raise buildstep.BuildStepFailed()
        return RC_SUCCESS

    async def clobber(self) -> Any:
        await self._doClobber()
        if await self._fullClone(shallowClone=self.shallow) != RC_SUCCESS:
            raise buildstep.BuildStepFailed()

    async def fresh(self) -> None:
        # a tree git cannot clean is replaced by a new clone
        if await self._dovccmd(_CLEAN_UNTRACKED_AND_IGNORED,
                               abandonOnFailure=False) != RC_SUCCESS:
            await self._doClobber()
            await self._fullCloneOrFallback(shallowClone=self.shallow)
        else:
            await self._fetchOrFallback()
        for stage in self._submodule_stages(_CLEAN_UNTRACKED_AND_IGNORED):
            await stage()

    async def copy(self) -> int:
        """Update the pristine `source` directory incrementally, then copy it over the
        (emptied) workdir."""
        await self.runRmdir(self.workdir, abandonOnFailure=False, timeout=self.timeout)
        target, self.workdir = self.workdir, self.srcdir
        try:
            await self.mode_incremental()
            await self.worker_command("cpdir", {"fromdir": self.srcdir, "todir": target,
                                                "logEnviron": self.logEnviron,
                                                "timeout": self.timeout})
            return RC_SUCCESS
        finally:
            self.workdir = target

    # -- properties ---------------------------------------------------------------------------
    async def parseGotRevision(self, _: Any = None) -> int:
        head = (await self._dovccmd(["rev-parse", "HEAD"], collectStdout=True)).strip()
        if len(head) != GIT_HASH_LENGTH:
            raise buildstep.BuildStepFailed()
        log.info("Got Git revision {revision}", revision=head)
        self.updateSourceProperty("got_revision", head)
        return RC_SUCCESS

    def _describe_command(self) -> list[str]:
        options = self.getDescription if isinstance(self.getDescription, dict) else {}
        command = ["describe"]
        for key, to_args in GIT_DESCRIBE_FLAGS:
            command += to_args(options.get(key)) or []
        # `--dirty` describes the work tree, so it takes no commit
        if not any(arg.startswith("--dirty") for arg in command):
            command.append("HEAD")
        return command

    async def parseCommitDescription(self, _: Any = None) -> int:
        if self.getDescription is False:
            return RC_SUCCESS
        try:
            described = await self._dovccmd(self._describe_command(), collectStdout=True)
        except buildstep.BuildStepFailed:
            return RC_SUCCESS  # nothing to describe from: the property is simply not set
        self.updateSourceProperty("commit-description", described.strip())
        return RC_SUCCESS

    # -- git operations -----------------------------------------------------------------------
    def _progress(self) -> list[str]:
        return ["--progress"] if self.prog and self.supportsProgress else []

    def _fetch_command(self, depth: Any) -> list[str]:
        tags = ["--tags"] if self.tags else []
        return ["fetch", "-f", *_depth(depth), *tags, *self._progress(), self.repourl,
                self.branch]

    async def _have_revision(self) -> bool:
        # a commit already in the repository needs no fetch (unless tags are wanted too)
        if self.tags or not self.revision:
            return False
        rc = await self._dovccmd(["cat-file", "-e", self.revision], abandonOnFailure=False)
        return bool(rc == RC_SUCCESS)

    async def _fetch(self, _: Any, shallowClone: Any, abandonOnFailure: bool = True) -> int:
        if not await self._have_revision():
            rc = await self._dovccmd(self._fetch_command(shallowClone),
                                     abandonOnFailure=abandonOnFailure)
            if rc != RC_SUCCESS:
                return int(rc)
        rc = await self._dovccmd(["checkout", "-f", self.revision or "FETCH_HEAD"],
                                 abandonOnFailure=abandonOnFailure)
        if rc == RC_SUCCESS and self.branch != "HEAD":
            # name the checked-out commit after the branch (it is detached otherwise)
            await self._dovccmd(["checkout", "-B", self.branch], abandonOnFailure=False)
        return int(rc)

    async def _fetchOrFallback(self, _: Any = None) -> int | None:
        # a failed fetch is retried once, or the tree clobbered, when configured
        fallback = self.retryFetch or self.clobberOnFailure
        rc = await self._fetch(None, shallowClone=self.shallow, abandonOnFailure=not fallback)
        if rc == RC_SUCCESS:
            return rc
        if not fallback:
            raise buildstep.BuildStepFailed()
        if self.retryFetch:
            await self._fetch(None, shallowClone=self.shallow)
        else:
            await self.clobber()
        return None

    def _clone_command(self, depth: Any) -> tuple[list[str], bool]:
        """The clone command, and whether the branch must be fetched afterwards (git too old
        for `--branch`, or a `refs/...` branch that clone cannot check out)."""
        named_branch = self.branch != "HEAD"
        branch_args: list[str] = []
        fetch_after = named_branch
        if named_branch and self.supportsBranch:
            is_ref = self.branch.startswith("refs/")
            branch_args = ["--no-checkout"] if is_ref else ["--branch", self.branch]
            fetch_after = is_ref
        optional = [*_depth(depth)]
        optional += ["--reference", self.reference] if self.reference else []
        optional += ["--origin", self.origin] if self.origin else []
        if self.filters and self.supportsFilters:
            optional += [arg for f in self.filters for arg in ("--filter", f)]
        command = ["clone", *branch_args, *optional, self.repourl, ".", *self._progress()]
        return command, fetch_after

    async def _clone(self, shallowClone: Any) -> int:
        command, fetch_after = self._clone_command(shallowClone)

        async def attempt(last: bool) -> Any:
            # only a shallow clone abandons the step by itself; a deep one falls back
            rc = await self._dovccmd(command, abandonOnFailure=bool(last and shallowClone))
            if fetch_after:
                rc = await self._fetch(None, shallowClone=shallowClone)
            return rc

        return int(await self.with_retries(attempt, before_retry=self._doClobber))

    async def _fullClone(self, shallowClone: Any = False) -> int:
        rc = await self._clone(shallowClone)
        if rc != RC_SUCCESS:
            return rc
        abandon = bool(shallowClone)
        if self.revision:
            rc = await self._dovccmd(["checkout", "-f", self.revision], abandon)
        if self.submodules:
            remote = ["--remote"] if self.remoteSubmodules else []
            rc = await self._dovccmd(["submodule", "update", "--init", "--recursive", *remote,
                                      *_depth(shallowClone)], abandon)
        return int(rc)

    async def _fullCloneOrFallback(self, shallowClone: Any) -> Any:
        rc = await self._fullClone(shallowClone)
        if rc == RC_SUCCESS:
            return rc
        if not self.clobberOnFailure:
            raise buildstep.BuildStepFailed()
        return await self.clobber()

    async def _doClobber(self) -> int:
        rc = await self.runRmdir(self.workdir, timeout=self.timeout)
        if rc != RC_SUCCESS:
            raise RuntimeError("Failed to delete directory")
        return int(rc)

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        return changes[-1].revision if changes else None

    async def _syncSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        return int(await self._dovccmd(["submodule", "sync"]))

    async def _updateSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        wanted = [("--force", self.supportsSubmoduleForce),
                  ("--checkout", self.supportsSubmoduleCheckout),
                  ("--remote", self.remoteSubmodules)]
        return int(await self._dovccmd(["submodule", "update", "--init", "--recursive",
                                        *[flag for flag, on in wanted if on]]))

    async def _cleanSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        clean = _CLEAN_UNTRACKED_AND_IGNORED if self.method == "fresh" and \
            self.mode == "full" else _CLEAN_UNTRACKED
        return int(await self._dovccmd(["submodule", "foreach", "--recursive",
                                        " ".join(["git", *clean])]))

    async def applyPatch(self, patch: tuple[int, Any, Any]) -> int:
        await self._dovccmd(["update-index", "--refresh"])
        body = patch[1].decode("utf-8") if isinstance(patch[1], bytes) else patch[1]
        return int(await self._dovccmd(["apply", "--index", "-p", str(patch[0])],
                                       initialStdin=body))

    async def _sourcedirIsUpdatable(self) -> str:
        """"update" (a git checkout), "clobber" (something else) or "clone" (empty)."""
        cmd = RemoteCommand("listdir", {"dir": self.workdir})
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        listings = cmd.updates.get("files")
        return classify_workdir(listings[0] if listings else None)


class _GitRepoStep(BuildStep, GitStepMixin, CompositeStepMixin):
    """Base of the steps acting on an existing checkout (push, tag, commit)."""

    description: Any = None
    descriptionDone: Any = None
    descriptionSuffix: Any = None
    stdio_log: Any = None

    def _setup(self, workdir: Any, repourl: Any, port: int, env: Any, timeout: int,
               logEnviron: bool, config: Any) -> None:
        self.workdir, self.env, self.logEnviron = workdir, env, logEnviron
        self.repourl, self.port, self.config = repourl, port, config
        self.timeout = timeout

    async def _start(self) -> None:
        self.stdio_log = await self.addLog("stdio")
        if not await self.checkFeatureSupport():
            raise WorkerSetupError("git is not installed on worker")


class GitPush(_GitRepoStep):
    """`git push <repourl> <branch>` (with `--force` if `force`)."""

    name = "gitpush"
    renderables = ("repourl", "branch", "sshPrivateKey", "sshHostKey", "sshKnownHosts")

    def __init__(self, workdir: Any = None, repourl: Any = None, port: int = 22,
                 branch: Any = None, force: bool = False, env: Any = None,
                 timeout: int = 20 * 60, logEnviron: bool = True, sshPrivateKey: Any = None,
                 sshHostKey: Any = None, sshKnownHosts: Any = None,
                 auth_credentials: Any = None, git_credentials: Any = None,
                 config: Any = None, **kwargs: Any) -> None:
        self._setup(workdir, repourl, port, env, timeout, logEnviron, config)
        self.branch, self.force = branch, force
        super().__init__(**kwargs)
        self.setupGitStep()
        if not self.branch:
            bbconfig.error("GitPush: must provide branch")
        _check_ssh_options(sshPrivateKey, sshHostKey, sshKnownHosts)
        self.setup_git_auth(sshPrivateKey, sshHostKey, sshKnownHosts,
                            credential_options(auth_credentials, git_credentials, repourl))

    async def run(self) -> int:
        self.setup_repourl()
        await self._start()
        await self.setup_ssh()
        try:
            await self.setup_credentials()
            force = ["--force"] if self.force else []
            return int(await self._dovccmd(["push", self.repourl, self.branch, *force]))
        finally:
            await self.cleanup_ssh()


class GitTag(_GitRepoStep):
    """`git tag` with `tagName` (annotated with `messages`, replaced with `force`)."""

    name = "gittag"
    renderables = ("repourl", "tagName", "messages")

    def __init__(self, workdir: Any = None, tagName: Any = None, annotated: bool = False,
                 messages: Any = None, force: bool = False, env: Any = None,
                 timeout: int = 20 * 60, logEnviron: bool = True, config: Any = None,
                 **kwargs: Any) -> None:
        self._setup(workdir, None, 22, env, timeout, logEnviron, config)
        self.tagName, self.annotated, self.force = tagName, annotated, force
        self.messages = messages
        super().__init__(**kwargs)
        # messages go with annotated tags, and only with them
        has_messages = bool(self.messages)
        _report([
            (not self.tagName, "GitTag: must provide tagName"),
            (self.annotated and not has_messages,
             "GitTag: must provide messages in case of annotated tag"),
            (not self.annotated and has_messages,
             "GitTag: messages are required only in case of annotated tag"),
            (has_messages and not isinstance(self.messages, list),
             "GitTag: messages should be a list"),
        ])

    async def run(self) -> int:
        await self._start()
        annotation = ["-a", self.tagName, *[a for m in self.messages for a in ("-m", m)]] \
            if self.annotated else [self.tagName]
        force = ["--force"] if self.force else []
        return int(await self._dovccmd(["tag", *annotation, *force]))


_EMPTY_COMMIT_POLICIES = ("disallow", "create-empty-commit", "ignore")


class GitCommit(_GitRepoStep):
    """Commit `paths` with `messages` (`git add` then `git commit`); with
    `emptyCommits='create-empty-commit'` an empty commit is allowed, with 'ignore' nothing
    to commit is not an error."""

    name = "gitcommit"
    renderables = ("paths", "messages")

    def __init__(self, workdir: Any = None, paths: Any = None, messages: Any = None,
                 env: Any = None, timeout: int = 20 * 60, logEnviron: bool = True,
                 emptyCommits: str = "disallow", config: Any = None, no_verify: bool = False,
                 **kwargs: Any) -> None:
        self._setup(workdir, None, 22, env, timeout, logEnviron, config)
        self.paths, self.messages = paths, messages
        self.emptyCommits, self.no_verify = emptyCommits, no_verify
        super().__init__(**kwargs)
        _report([
            (not self.messages, "GitCommit: must provide messages"),
            (not isinstance(self.messages, list), "GitCommit: messages must be a list"),
            (not self.paths, "GitCommit: must provide paths"),
            (not isinstance(self.paths, list), "GitCommit: paths must be a list"),
            (self.emptyCommits not in _EMPTY_COMMIT_POLICIES,
             ('GitCommit: emptyCommits must be one of "disallow", "create-empty-commit" and '
              '"ignore"')),
        ])

    def _commit_command(self) -> list[str]:
        options = [("--allow-empty", self.emptyCommits == "create-empty-commit"),
                   ("--no-verify", self.no_verify)]
        return ["commit", *[a for m in self.messages for a in ("-m", m)],
                *[flag for flag, on in options if on]]

    async def run(self) -> int:
        await self._start()
        # committing needs a branch (not a detached HEAD)
        branch = (await self._dovccmd(["symbolic-ref", "HEAD"], collectStdout=True)).strip()
        if not branch:
            raise buildstep.BuildStepFailed()
        await self._dovccmd(["add", *self.paths])
        if self.emptyCommits == "ignore":
            unchanged = await self._dovccmd(["diff", "--cached", "--quiet"],
                                            abandonOnFailure=False)
            if unchanged == RC_SUCCESS:
                return SUCCESS
        return int(await self._dovccmd(self._commit_command()))


__all__ = ["Git", "GitCommit", "GitPush", "GitStepMixin", "GitTag"]
