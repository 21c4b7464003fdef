"""Perforce checkout step."""

from __future__ import annotations

import re
from typing import Any

from twisted.logger import Logger

from buildbot import config
from buildbot.interfaces import IRenderable, WorkerSetupError
from buildbot.process.buildstep import BuildStepFailed
from buildbot.process.properties import Interpolate
from buildbot.process.results import SUCCESS
from buildbot.steps.source.base import Source
from buildbot.steps.source.vc_commands import VcCommandMixin, method_for_mode

log = Logger()

_CHANGE_PREFIX = "... change "


def _plain(value: Any) -> bool:
    """True when `value` is a given, non-renderable value we can check at config time."""
    return bool(value) and not IRenderable.providedBy(value)


def _quoted(text: str, *parts: Any) -> str:
    """`text` in double quotes when any of `parts` contains whitespace (view syntax)."""
    if any(p is not None and re.search(r"\s", p) for p in parts):
        return f'"{text}"'
    return text


class P4(VcCommandMixin, Source):
    """Sync a Perforce client workspace created for the build.

    The client (default `buildbot_<worker>_<builder>`) is (re)written with `p4 client -i`
    from `p4base`/`p4branch` (+ `p4extra_views`), a `p4viewspec` list of (depot path,
    client path) pairs, or a `stream`. `mode="incremental"` syncs; `mode="full"` syncs to
    #none, removes the workdir and syncs again. `got_revision` is the changelist synced.
    """

    name = "p4"
    renderables = ("mode", "p4base", "p4client", "p4viewspec", "p4branch", "p4passwd",
                   "p4port", "p4user")
    possible_modes = ("incremental", "full")
    possible_client_types = (None, "readonly", "partitioned")

    def __init__(self, mode: Any = "incremental", method: Any = None, p4base: Any = None,
                 p4branch: Any = None, p4port: Any = None, p4user: Any = None,
                 p4passwd: Any = None, p4extra_views: Any = (), p4line_end: Any = "local",
                 p4viewspec: Any = None, p4viewspec_suffix: Any = "...",
                 p4client: Any = None, p4client_spec_options: Any = "allwrite rmdir",
                 p4client_type: Any = None, p4extra_args: Any = None, p4bin: str = "p4",
                 use_tickets: bool = False, stream: bool = False, debug: bool = False,
                 **kwargs: Any) -> None:
        # what to check out: a depot path and branch, or a whole view
        self.p4base, self.p4branch, self.p4extra_views = p4base, p4branch, p4extra_views
        self.p4viewspec, self.p4viewspec_suffix = p4viewspec, p4viewspec_suffix
        self.stream = stream
        # how to reach the server
        self.p4bin, self.p4port, self.p4user, self.p4passwd = p4bin, p4port, p4user, p4passwd
        self.p4passwd_arg: Any = p4passwd  # obfuscated for new workers in run_vc
        self.use_tickets, self.p4extra_args, self.debug = use_tickets, p4extra_args, debug
        # the client workspace
        self.p4client = p4client if p4client is not None else Interpolate(
            "buildbot_%(prop:workername)s_%(prop:buildername)s")
        self.p4client_spec_options = p4client_spec_options or ""
        self.p4client_type, self.p4line_end = p4client_type, p4line_end
        self.mode, self.method = mode, method
        self.revision: Any = None
        super().__init__(**kwargs)
        self._check_arguments()

    def _check_arguments(self) -> None:
        if self.mode not in self.possible_modes and not IRenderable.providedBy(self.mode):
            config.error(f"mode {self.mode} is not an IRenderable, or one of "
                         f"{self.possible_modes}")
        base, branch, viewspec = self.p4base, self.p4branch, self.p4viewspec
        if not viewspec and base is None:
            config.error("You must provide p4base or p4viewspec")
        if viewspec and (base or branch or self.p4extra_views):
            config.error("Either provide p4viewspec or p4base and p4branch (and optionally "
                         "p4extra_views)")
        if viewspec and isinstance(viewspec, str):
            config.error("p4viewspec must not be a string, and should be a sequence of 2 "
                         "element sequences")
        if _plain(base) and not base.startswith("/"):
            config.error(f"p4base should start with // [p4base = {base}]")
        if _plain(base) and base.endswith("/"):
            config.error(f"p4base should not end with a trailing / [p4base = {base}]")
        if _plain(branch) and branch.endswith("/"):
            config.error(f"p4branch should not end with a trailing / [p4branch = {branch}]")
        if self.stream:
            if self.p4extra_views or viewspec:
                config.error("You can't use p4extra_views not p4viewspec with stream")
            if not base or not branch:
                config.error("You must specify both p4base and p4branch when using stream")
            if _plain(base) and " " in base:
                config.error("p4base must not contain any whitespace")
            if _plain(branch) and " " in branch:
                config.error("p4branch must not contain any whitespace")
        if (self.p4client_type not in self.possible_client_types
                and not IRenderable.providedBy(self.p4client_type)):
            # the second half is not interpolated in 4.3 either; the text is kept
            config.error(f"p4client_type {self.p4client_type} is not an IRenderable, "
                         "or one of {self.possible_client_types}")

    async def checkP4(self) -> bool:
        """Whether `p4 -V` works on the worker (run without the step's timeout, as in 4.3)."""
        return await self.tool_works([self.p4bin, "-V"], with_timeout=False)

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        self.method = method_for_mode(self.mode, self.method)
        self.stdio_log = await self.addLogForRemoteCommands("stdio")
        if not await self.checkP4():
            raise WorkerSetupError("p4 is not installed on worker")
        if self.p4passwd is not None:
            if self.workerVersionIsOlderThan("shell", "2.16"):
                self.p4passwd_arg = self.p4passwd
                log.info("Worker does not understand obfuscation; p4 password will be logged")
            else:
                self.p4passwd_arg = ("obfuscated", self.p4passwd, "XXXXXX")
        if self.use_tickets and self.p4passwd:
            await self.p4("login", initialStdin=self.p4passwd + "\n")
        await self._createClientSpec()
        self.revision = await self.get_sync_revision(revision)
        await self._getAttrGroupMember("mode", self.mode)()
        self.updateSourceProperty("got_revision", self.revision)
        return SUCCESS

    def _buildVCCommand(self, doCommand: list[Any]) -> list[Any]:
        """`p4 [-p port] [-u user] [-P password] [-c client] [extra args for sync] ...`."""
        if not doCommand:
            raise ValueError("No command specified")
        command: list[Any] = [self.p4bin]
        for flag, value in (("-p", self.p4port), ("-u", self.p4user)):
            if value:
                command += [flag, value]
        if not self.use_tickets and self.p4passwd:
            command += ["-P", self.p4passwd_arg]
        if self.p4client:
            command += ["-c", self.p4client]
        if doCommand[0] == "sync" and self.p4extra_args:
            command += list(self.p4extra_args)
        return command + list(doCommand)

    async def p4(self, *args: Any, collectStdout: bool = False,
                 initialStdin: str | None = None) -> Any:
        return await self.run_tool(self._buildVCCommand(list(args)),
                                   collectStdout=collectStdout, initialStdin=initialStdin)

    def _client_path(self) -> str:
        return f"//{self.p4client}/..."

    async def mode_full(self) -> None:
        await self.p4("sync", "#none")
        await self.runRmdir(self.workdir)
        if self.revision:
            await self.p4("sync", f"{self._client_path()}@{int(self.revision)}",
                          collectStdout=True)
        else:
            await self.p4("sync", collectStdout=True)

    async def mode_incremental(self) -> None:
        if self.revision:
            await self.p4("sync", f"{self._client_path()}@{int(self.revision)}")
        else:
            await self.p4("sync")

    def client_spec(self) -> str:
        """The client specification written with `p4 client -i`."""
        pm = self.build.path_module
        root = pm.normpath(pm.join(self.getProperty("builddir"), self.workdir))
        client = self.p4client
        spec = (f"Client: {client}\n\nOwner: {self.p4user}\n\n"
                f"Description:\n\tCreated by {self.p4user}\n\nRoot:\t{root}\n\n"
                f"Options:\t{self.p4client_spec_options}\n\n"
                f"LineEnd:\t{self.p4line_end or 'local'}\n\n")
        if self.p4client_type is not None:
            spec += f"Type:\t{self.p4client_type}\n\n"
        if self.stream:
            # Perforce derives the view of a stream workspace itself
            return spec + f"Stream:\t{self.p4base}/{self.p4branch}\n"
        spec += "View:\n"
        if self.p4viewspec:
            suffix = self.p4viewspec_suffix or ""
            for depot, local in self.p4viewspec:
                spec += (f"\t{_quoted(depot + suffix, depot, suffix)} "
                         f"{_quoted(f'//{client}/{local}{suffix}', client, local, suffix)}\n")
            return spec
        base = self.p4base + (f"/{self.p4branch}" if self.p4branch else "") + "/..."
        spec += (f"\t{_quoted(base, self.p4base, self.p4branch)} "
                 f"{_quoted(f'//{client}/...', client)}\n")
        for depot, local in self.p4extra_views or ():
            spec += (f"\t{_quoted(depot + '/...', depot)} "
                     f"{_quoted(f'//{client}/{local}/...', depot, client, local)}\n")
        return spec

    async def _createClientSpec(self) -> bool:
        stdout = await self.p4("client", "-i", collectStdout=True,
                               initialStdin=self.client_spec())
        m = re.search(r"Client (\S+) (.+)$", stdout, re.MULTILINE)
        return bool(m and m.group(2) in ("saved.", "not changed."))

    async def get_sync_revision(self, revision: Any = None) -> str:
        """The changelist to sync: the newest at or below `revision` (or the head)."""
        at = f"@{revision}" if revision else "#head"
        args = ["-ztag", "changes", "-m1", f"{self._client_path()}{at}"]
        stdout = await self.run_tool(self._buildVCCommand(args), collectStdout=True,
                                     abandonOnFailure=False)
        lines = stdout.splitlines()
        change = next((ln[len(_CHANGE_PREFIX):] for ln in lines
                       if ln.startswith(_CHANGE_PREFIX)), None)
        if change is None or not change.strip().isdigit():
            log.info("p4.get_sync_revision unable to parse output of {cmd}: {out}",
                     cmd=["p4", *args], out=lines)
            raise BuildStepFailed()
        result: str = change
        return result

    async def purge(self, ignore_ignores: bool) -> None:
        """Sync the client to #none (with --no-ignore when `ignore_ignores`)."""
        await self.p4("sync", "#none", *(["--no-ignore"] if ignore_ignores else []),
                      collectStdout=True)

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        if not changes or any(c.revision is None for c in changes):
            return None
        return max(int(c.revision) for c in changes)


__all__ = ["P4"]
