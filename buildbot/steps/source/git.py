"""Git checkout step (and GitPush, GitTag, GitCommit).

Every git operation is a `shell` command on the worker (`git ...` in the workdir), so the
worker needs git installed. Modes: `incremental` (fetch and check out in place) and `full`
with a method: `clean` (git clean -f -f -d, keeping ignored files), `fresh` (also ignored
files), `clobber` (remove and clone) or `copy` (update a `source` directory and copy it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from twisted.logger import Logger

from buildbot import config as bbconfig
from buildbot.interfaces import WorkerSetupError
from buildbot.process import buildstep
from buildbot.process.buildstep import BuildStep
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.worker import CompositeStepMixin
from buildbot.util.deferred import deferred_sleep

log = Logger()

RC_SUCCESS = 0
GIT_HASH_LENGTH = 40


def isTrueOrIsExactlyZero(v: Any) -> bool:
    """True for truthy values and for the integer 0 (so `abbrev=0` is passed on), False for
    other false values, `False` included."""
    return bool(v) or (isinstance(v, int) and v is not False)


_true_or_zero = isTrueOrIsExactlyZero


# getDescription dict key -> `git describe` arguments for its value (None: nothing)
GIT_DESCRIBE_FLAGS: list[tuple[str, Any]] = [
    ("all", lambda v: ["--all"] if v else None),
    ("always", lambda v: ["--always"] if v else None),
    ("contains", lambda v: ["--contains"] if v else None),
    ("debug", lambda v: ["--debug"] if v else None),
    ("long", lambda v: ["--long"] if v else None),
    ("exact-match", lambda v: ["--exact-match"] if v else None),
    ("tags", lambda v: ["--tags"] if v else None),
    ("first-parent", lambda v: ["--first-parent"] if v else None),
    ("match", lambda v: ["--match", v] if v else None),
    ("exclude", lambda v: ["--exclude", v] if v else None),
    ("abbrev", lambda v: [f"--abbrev={v}"] if _true_or_zero(v) else None),
    ("candidates", lambda v: [f"--candidates={v}"] if _true_or_zero(v) else None),
    ("dirty", lambda v: ["--dirty"] if (v is True or v == "") else None),
    ("dirty", lambda v: [f"--dirty={v}"] if (v and v is not True) else None),
]
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


def _refuse_auth_options(**options: Any) -> None:
    # HTTP credentials (a git credential store on the worker) are not implemented yet;
    # refusing them beats a checkout that fails later with an authentication error.
    given = [name for name, value in options.items() if value is not None]
    if given:
        bbconfig.error(f"Git: {', '.join(given)} not supported by this master yet")


def _check_ssh_options(sshPrivateKey: Any, sshHostKey: Any, sshKnownHosts: Any) -> None:
    if sshHostKey is not None and sshPrivateKey is None:
        bbconfig.error("Git: sshPrivateKey must be provided in order use sshHostKey")
    if sshKnownHosts is not None and sshPrivateKey is None:
        bbconfig.error("Git: sshPrivateKey must be provided in order use sshKnownHosts")
    if sshHostKey is not None and sshKnownHosts is not None:
        bbconfig.error("Git: only one of sshKnownHosts and sshHostKey can be provided")


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
    _ssh_env: dict[str, str] | None = None
    _ssh_dir: str | None = None

    def _ssh_dir_relative(self) -> str:
        step: Any = self
        workdir = str(step.workdir or "build").replace("/", "_").replace("\\", "_")
        return f".{workdir}.buildbot"

    async def setup_ssh(self) -> None:
        """Write the private key (and known hosts) next to the workdir on the worker and
        point git at them through GIT_SSH_COMMAND; `cleanup_ssh` removes them."""
        if self.sshPrivateKey is None:
            return
        step: Any = self
        path = step.build.path_module
        builddir = step.getProperty("builddir")
        relative = self._ssh_dir_relative()
        absolute = path.join(builddir, relative) if builddir else relative
        await step.runMkdir(relative)
        self._ssh_dir = relative
        key_path = path.join(absolute, "ssh-key")
        await step.downloadFileContentToWorker(key_path, self.sshPrivateKey,
                                               abandonOnFailure=True, mode=0o400)
        command = f"ssh -o BatchMode=yes -i '{key_path}'"
        known_hosts = None
        if self.sshHostKey is not None:
            known_hosts = f"* {self.sshHostKey}"
        elif self.sshKnownHosts is not None:
            known_hosts = self.sshKnownHosts
        if known_hosts is not None:
            hosts_path = path.join(absolute, "ssh-known-hosts")
            await step.downloadFileContentToWorker(hosts_path, known_hosts,
                                                   abandonOnFailure=True, mode=0o400)
            command += f" -o 'UserKnownHostsFile={hosts_path}'"
        self._ssh_env = {"GIT_SSH_COMMAND": command}

    async def cleanup_ssh(self) -> None:
        if self._ssh_dir is None:
            return
        step: Any = self
        dir_, self._ssh_dir, self._ssh_env = self._ssh_dir, None, None
        await step.runRmdir(dir_, abandonOnFailure=False)
    repourl: Any = None
    port: int = 22

    def setupGitStep(self) -> None:
        if not self.repourl:
            bbconfig.error("Git: must provide repourl.")

    def setup_repourl(self) -> None:
        self.repourl = scp_style_to_url_syntax(self.repourl, self.port)

    def parseGitFeatures(self, version_stdout: str) -> None:
        m = re.match(r"^git version (\d+(\.\d+)*)", version_stdout)
        if m is None:
            self.gitInstalled = False
            return
        version = _version_tuple(m.group(1))
        self.gitInstalled = True
        self.supportsBranch = version >= (1, 6, 5)
        self.supportsProgress = version >= (1, 7, 2)
        self.supportsSubmoduleForce = version >= (1, 7, 6)
        self.supportsSubmoduleCheckout = version >= (1, 7, 8)
        self.supports_lsremote_symref = version >= (2, 8, 0)
        self.supportsFilters = version >= (2, 27, 0)

    async def _dovccmd(self, command: list[str], abandonOnFailure: bool = True,
                       collectStdout: bool = False, initialStdin: str | None = None) -> Any:
        """Run `git <command>` in the workdir; returns stdout (collectStdout) or the rc."""
        step: Any = self
        full_command = ["git"]
        for name, value in (self.config or {}).items():
            full_command += ["-c", f"{name}={value}"]
        full_command += command
        # TERM first (git leaves lock files behind when killed), the kill a second later.
        cmd = RemoteShellCommand(
            step.workdir, full_command, env={**(self.env or {}), **(self._ssh_env or {})},
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
        if not getDescription and not isinstance(getDescription, dict):
            getDescription = False
        self.branch = branch
        self.method = method
        self.repourl = repourl
        self.port = port
        self.reference = reference
        self.retryFetch = retryFetch
        self.submodules = submodules
        self.remoteSubmodules = remoteSubmodules
        self.tags = tags
        self.shallow = shallow
        self.filters = filters
        self.clobberOnFailure = clobberOnFailure
        self.mode = mode
        self.prog = progress
        self.getDescription = getDescription
        self.config = config
        self.srcdir = "source"
        self.origin = origin
        self.sshPrivateKey = sshPrivateKey
        self.sshHostKey = sshHostKey
        self.sshKnownHosts = sshKnownHosts
        self.auth_credentials = auth_credentials
        self.git_credentials = git_credentials
        self.revision: Any = None
        super().__init__(mode=mode, **kwargs)
        self.setupGitStep()
        if isinstance(self.mode, str):
            if not self._hasAttrGroupMember("mode", self.mode):
                bbconfig.error(
                    f"Git: mode must be {' or '.join(self._listAttrGroupMembers('mode'))}")
            if isinstance(self.method, str):
                if self.mode == "full" and self.method not in ("clean", "fresh", "clobber",
                                                               "copy", None):
                    bbconfig.error("Git: invalid method for mode 'full'.")
                if self.shallow and (self.mode != "full" or self.method != "clobber"):
                    bbconfig.error(
                        "Git: in mode 'full' shallow only possible with method 'clobber'.")
        if not isinstance(self.getDescription, (bool, dict)):
            bbconfig.error("Git: getDescription must be a boolean or a dict.")
        _check_ssh_options(sshPrivateKey, sshHostKey, sshKnownHosts)
        _refuse_auth_options(auth_credentials=auth_credentials,
                             git_credentials=git_credentials)

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
            return await self._run_vc_steps(patch)
        finally:
            await self.cleanup_ssh()

    async def _run_vc_steps(self, patch: Any) -> int:
        if await self.sourcedirIsPatched():
            await self._dovccmd(["clean", "-f", "-f", "-d", "-x"])
        await self._getAttrGroupMember("mode", self.mode)()
        if patch:
            await self.patch(patch)
        await self.parseGotRevision()
        return await self.parseCommitDescription()

    # -- modes and methods ------------------------------------------------------------------
    async def mode_full(self) -> None:
        if self.method == "clobber":
            await self.clobber()
            return
        if self.method == "copy":
            await self.copy()
            return
        action = await self._sourcedirIsUpdatable()
        if action == "clobber":
            await self.clobber()
        elif action == "clone":
            log.info("No git repo present, making full clone")
            await self._fullCloneOrFallback(self.shallow)
        elif self.method == "clean":
            await self.clean()
        elif self.method == "fresh":
            await self.fresh()
        else:
            raise ValueError("Unknown method, check your configuration")

    async def mode_incremental(self) -> None:
        action = await self._sourcedirIsUpdatable()
        if action == "clobber":
            await self.clobber()
            return
        if action == "clone":
            log.info("No git repo present, making full clone")
            await self._fullCloneOrFallback(shallowClone=self.shallow)
            return
        await self._fetchOrFallback()
        await self._syncSubmodule(None)
        await self._updateSubmodule(None)

    async def clean(self) -> int:
        clean_command = ["clean", "-f", "-f", "-d"]
        for step in (lambda: self._dovccmd(clean_command), self._fetchOrFallback,
                     self._syncSubmodule, self._updateSubmodule, self._cleanSubmodule):
            if await step() != RC_SUCCESS:
                raise buildstep.BuildStepFailed()
        if self.submodules and await self._dovccmd(clean_command) != RC_SUCCESS:
            raise buildstep.BuildStepFailed()
        return RC_SUCCESS

    async def clobber(self) -> Any:
        await self._doClobber()
        if await self._fullClone(shallowClone=self.shallow) != RC_SUCCESS:
            raise buildstep.BuildStepFailed()

    async def fresh(self) -> None:
        clean_command = ["clean", "-f", "-f", "-d", "-x"]
        if await self._dovccmd(clean_command, abandonOnFailure=False) == RC_SUCCESS:
            await self._fetchOrFallback()
        else:
            await self._doClobber()
            await self._fullCloneOrFallback(shallowClone=self.shallow)
        await self._syncSubmodule()
        await self._updateSubmodule()
        await self._cleanSubmodule()
        if self.submodules:
            await self._dovccmd(clean_command)

    async def copy(self) -> int:
        await self.runRmdir(self.workdir, abandonOnFailure=False, timeout=self.timeout)
        old_workdir = self.workdir
        self.workdir = self.srcdir
        try:
            await self.mode_incremental()
            cmd = RemoteCommand("cpdir", {"fromdir": self.srcdir, "todir": old_workdir,
                                          "logEnviron": self.logEnviron,
                                          "timeout": self.timeout})
            cmd.useLog(self.stdio_log, False)
            await self.runCommand(cmd)
            if cmd.didFail():
                raise buildstep.BuildStepFailed()
            return RC_SUCCESS
        finally:
            self.workdir = old_workdir

    # -- properties ---------------------------------------------------------------------------
    async def parseGotRevision(self, _: Any = None) -> int:
        revision = (await self._dovccmd(["rev-parse", "HEAD"], collectStdout=True)).strip()
        if len(revision) != GIT_HASH_LENGTH:
            raise buildstep.BuildStepFailed()
        log.info("Got Git revision {revision}", revision=revision)
        self.updateSourceProperty("got_revision", revision)
        return RC_SUCCESS

    async def parseCommitDescription(self, _: Any = None) -> int:
        if isinstance(self.getDescription, bool) and not self.getDescription:
            return RC_SUCCESS
        cmd = ["describe"]
        if isinstance(self.getDescription, dict):
            for opt, make in GIT_DESCRIBE_FLAGS:
                args = make(self.getDescription.get(opt, None))
                if args:
                    cmd.extend(args)
        if not any(arg.startswith("--dirty") for arg in cmd):
            cmd.append("HEAD")
        try:
            desc = (await self._dovccmd(cmd, collectStdout=True)).strip()
            self.updateSourceProperty("commit-description", desc)
        except buildstep.BuildStepFailed:
            pass  # no tag to describe from: the property is simply not set
        return RC_SUCCESS

    # -- git operations -----------------------------------------------------------------------
    async def _fetch(self, _: Any, shallowClone: Any, abandonOnFailure: bool = True) -> int:
        fetch_required = True
        # a revision already present needs no fetch (unless tags are wanted)
        if not self.tags and self.revision and await self._dovccmd(
                ["cat-file", "-e", self.revision], abandonOnFailure=False) == RC_SUCCESS:
            fetch_required = False
        if fetch_required:
            command = ["fetch", "-f"]
            if shallowClone:
                command += ["--depth", str(int(shallowClone))]
            if self.tags:
                command.append("--tags")
            if self.prog and self.supportsProgress:
                command.append("--progress")
            command += [self.repourl, self.branch]
            res = await self._dovccmd(command, abandonOnFailure=abandonOnFailure)
            if res != RC_SUCCESS:
                return res
        rev = self.revision or "FETCH_HEAD"
        res = await self._dovccmd(["checkout", "-f", rev], abandonOnFailure=abandonOnFailure)
        # name the checked-out commit after the branch (detached otherwise)
        if res == RC_SUCCESS and self.branch != "HEAD":
            await self._dovccmd(["checkout", "-B", self.branch], abandonOnFailure=False)
        return res

    async def _fetchOrFallback(self, _: Any = None) -> int | None:
        abandon = not self.retryFetch and not self.clobberOnFailure
        res = await self._fetch(None, shallowClone=self.shallow, abandonOnFailure=abandon)
        if res == RC_SUCCESS:
            return res
        if self.retryFetch:
            await self._fetch(None, shallowClone=self.shallow)
        elif self.clobberOnFailure:
            await self.clobber()
        else:
            raise buildstep.BuildStepFailed()
        return None

    async def _clone(self, shallowClone: Any) -> int:
        command = ["clone"]
        switch_to_branch = self.branch != "HEAD"
        if self.supportsBranch and self.branch != "HEAD":
            if self.branch.startswith("refs/"):
                command += ["--no-checkout"]
            else:
                switch_to_branch = False
                command += ["--branch", self.branch]
        if shallowClone:
            command += ["--depth", str(int(shallowClone))]
        if self.reference:
            command += ["--reference", self.reference]
        if self.origin:
            command += ["--origin", self.origin]
        if self.filters and self.supportsFilters:
            for f in self.filters:
                command += ["--filter", f]
        command += [self.repourl, "."]
        if self.prog and self.supportsProgress:
            command.append("--progress")
        abandon = self.retry[1] <= 0 if self.retry else True
        res = await self._dovccmd(command, abandonOnFailure=bool(abandon and shallowClone))
        if switch_to_branch:
            res = await self._fetch(None, shallowClone=shallowClone)
        done = self.stopped or res == RC_SUCCESS
        if self.retry and not done:
            delay, repeats = self.retry
            if repeats > 0:
                log.info("Checkout failed, trying {n} more times after {delay} seconds",
                         n=repeats, delay=delay)
                self.retry = (delay, repeats - 1)
                await deferred_sleep(self.master.reactor, delay)
                await self._doClobber()
                res = await self._clone(shallowClone)
        return res

    async def _fullClone(self, shallowClone: Any = False) -> int:
        res = await self._clone(shallowClone)
        if res != RC_SUCCESS:
            return res
        if self.revision:
            res = await self._dovccmd(["checkout", "-f", self.revision], bool(shallowClone))
        if self.submodules:
            args = ["submodule", "update", "--init", "--recursive"]
            if self.remoteSubmodules:
                args.append("--remote")
            if shallowClone:
                args += ["--depth", str(int(shallowClone))]
            res = await self._dovccmd(args, bool(shallowClone))
        return res

    async def _fullCloneOrFallback(self, shallowClone: Any) -> Any:
        res = await self._fullClone(shallowClone)
        if res != RC_SUCCESS:
            if not self.clobberOnFailure:
                raise buildstep.BuildStepFailed()
            res = await self.clobber()
        return res

    async def _doClobber(self) -> int:
        rc = await self.runRmdir(self.workdir, timeout=self.timeout)
        if rc != RC_SUCCESS:
            raise RuntimeError("Failed to delete directory")
        return rc

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        return changes[-1].revision if changes else None

    async def _syncSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        return await self._dovccmd(["submodule", "sync"])

    async def _updateSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        command = ["submodule", "update", "--init", "--recursive"]
        if self.supportsSubmoduleForce:
            command.append("--force")
        if self.supportsSubmoduleCheckout:
            command.append("--checkout")
        if self.remoteSubmodules:
            command.append("--remote")
        return await self._dovccmd(command)

    async def _cleanSubmodule(self, _: Any = None) -> int:
        if not self.submodules:
            return RC_SUCCESS
        subcommand = "git clean -f -f -d"
        if self.mode == "full" and self.method == "fresh":
            subcommand += " -x"
        return await self._dovccmd(
            ["submodule", "foreach", "--recursive", subcommand])

    def _getMethod(self) -> Any:
        if self.method is not None and self.mode != "incremental":
            return self.method
        if self.mode == "full":
            return "fresh"
        return None

    async def applyPatch(self, patch: tuple[int, Any, Any]) -> int:
        await self._dovccmd(["update-index", "--refresh"])
        body = patch[1].decode("utf-8") if isinstance(patch[1], bytes) else patch[1]
        return await self._dovccmd(
            ["apply", "--index", "-p", str(patch[0])], initialStdin=body)

    async def _sourcedirIsUpdatable(self) -> str:
        """"update" (a git checkout), "clobber" (something else) or "clone" (empty)."""
        cmd = RemoteCommand("listdir", {"dir": self.workdir})
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if "files" not in cmd.updates:
            return "clone"
        files = cmd.updates["files"][0]
        if ".git" in files:
            return "update"
        return "clobber" if files else "clone"


class _GitRepoStep(BuildStep, GitStepMixin, CompositeStepMixin):
    """Base of the steps acting on an existing checkout (push, tag, commit)."""

    description: Any = None
    descriptionDone: Any = None
    descriptionSuffix: Any = None
    stdio_log: Any = None

    def _setup(self, workdir: Any, repourl: Any, port: int, env: Any, timeout: int,
               logEnviron: bool, config: Any) -> None:
        self.workdir = workdir
        self.repourl = repourl
        self.port = port
        self.env = env
        self.timeout = timeout
        self.logEnviron = logEnviron
        self.config = config

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
        self.branch = branch
        self.force = force
        self.sshPrivateKey = sshPrivateKey
        self.sshHostKey = sshHostKey
        self.sshKnownHosts = sshKnownHosts
        super().__init__(**kwargs)
        self.setupGitStep()
        if not self.branch:
            bbconfig.error("GitPush: must provide branch")
        _check_ssh_options(sshPrivateKey, sshHostKey, sshKnownHosts)
        _refuse_auth_options(auth_credentials=auth_credentials,
                             git_credentials=git_credentials)

    async def run(self) -> int:
        self.setup_repourl()
        await self._start()
        cmd = ["push", self.repourl, self.branch]
        if self.force:
            cmd.append("--force")
        await self.setup_ssh()
        try:
            return await self._dovccmd(cmd)
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
        self.tagName = tagName
        self.annotated = annotated
        self.messages = messages
        self.force = force
        super().__init__(**kwargs)
        if not self.tagName:
            bbconfig.error("GitTag: must provide tagName")
        if self.annotated and not self.messages:
            bbconfig.error("GitTag: must provide messages in case of annotated tag")
        if not self.annotated and self.messages:
            bbconfig.error("GitTag: messages are required only in case of annotated tag")
        if self.messages and not isinstance(self.messages, list):
            bbconfig.error("GitTag: messages should be a list")

    async def run(self) -> int:
        await self._start()
        cmd = ["tag"]
        if self.annotated:
            cmd.append("-a")
            cmd.append(self.tagName)
            for msg in self.messages:
                cmd += ["-m", msg]
        else:
            cmd.append(self.tagName)
        if self.force:
            cmd.append("--force")
        return await self._dovccmd(cmd)


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
        self.paths = paths
        self.messages = messages
        self.emptyCommits = emptyCommits
        self.no_verify = no_verify
        super().__init__(**kwargs)
        if not self.messages:
            bbconfig.error("GitCommit: must provide messages")
        if not isinstance(self.messages, list):
            bbconfig.error("GitCommit: messages must be a list")
        if not self.paths:
            bbconfig.error("GitCommit: must provide paths")
        if not isinstance(self.paths, list):
            bbconfig.error("GitCommit: paths must be a list")
        if self.emptyCommits not in ("disallow", "create-empty-commit", "ignore"):
            bbconfig.error('GitCommit: emptyCommits must be one of "disallow", '
                           '"create-empty-commit" and "ignore"')

    async def run(self) -> int:
        await self._start()
        branch = (await self._dovccmd(["symbolic-ref", "HEAD"], collectStdout=True)).strip()
        if not branch:
            raise buildstep.BuildStepFailed()
        await self._dovccmd(["add", *self.paths])
        cmd = ["commit"]
        for msg in self.messages:
            cmd += ["-m", msg]
        if self.emptyCommits == "create-empty-commit":
            cmd.append("--allow-empty")
        if self.no_verify:
            cmd.append("--no-verify")
        if self.emptyCommits == "ignore":
            rc = await self._dovccmd(["diff", "--cached", "--quiet"], abandonOnFailure=False)
            if rc == RC_SUCCESS:
                return SUCCESS
        return await self._dovccmd(cmd)


__all__ = ["Git", "GitCommit", "GitPush", "GitStepMixin", "GitTag"]
