"""`Source`: the base of the version-control checkout steps.

A subclass implements `run_vc(branch, revision, patch)` (and usually
`computeSourceRevision(changes)`); the base picks the build's source stamp of the step's
codebase, records the patch, and offers helpers to apply a patch on the worker.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from twisted.logger import Logger

from buildbot.process import buildstep
from buildbot.process.buildstep import BuildStep
from buildbot.process.properties import Interpolate
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import FAILURE
from buildbot.steps.worker import CompositeStepMixin
from buildbot.util.deferred import deferred_sleep
from buildbot.util.misc import bytes2unicode

log = Logger()

_DESCRIPTION_FOR_MODE = {"clobber": "checkout", "export": "exporting"}
_DESCRIPTION_DONE_FOR_MODE = {"clobber": "checkout", "export": "export"}


def stamp_patch(ss: Any) -> tuple[int, Any, str | None] | None:
    """The patch of source stamp `ss` as the reference's (level, body, subdir), or None."""
    patch = getattr(ss, "patch", None)
    if not patch:
        return None
    if isinstance(patch, tuple):
        return patch
    if isinstance(patch, dict):
        body, level, subdir = patch.get("body"), patch.get("level"), patch.get("subdir")
    else:
        body, level, subdir = (getattr(patch, "body", None), getattr(patch, "level", None),
                               getattr(patch, "subdir", None))
    if body is None:
        return None
    return (level if level is not None else 1, body, subdir)


def effective_method(mode: Any, method: Any, default_full: str = "fresh") -> Any:
    """The method a source step uses: none in incremental mode, `default_full` for a full
    mode given without one."""
    if mode == "incremental":
        return None
    if method is not None:
        return method
    return default_full if mode == "full" else None


async def remove_each(paths: Sequence[str], remove: Callable[[str], Awaitable[Any]]) -> Any:
    """`remove` each path in turn (old workers take one path per rmdir), stopping at the
    first failure. The removeFiles of 4.3's steps: the failing call's true result, else 0."""
    for path in paths:
        failed = await remove(path)
        if failed:
            return failed
    return 0


class Source(BuildStep, CompositeStepMixin):
    """Check out sources into `workdir` (default: the build's workdir); halts on failure.

    `mode` chooses the default description ("updating"/"update"; "checkout" for clobber,
    "exporting"/"export" for export); a non-empty `codebase` selects that codebase's source
    stamp and is appended to the step name ("git-<codebase>") and description.
    """

    renderables: Sequence[str] = ("description", "descriptionDone", "descriptionSuffix",
                                  "workdir", "env")
    description: Any = None
    descriptionDone: Any = None
    descriptionSuffix: Any = None
    haltOnFailure = True
    flunkOnFailure = True
    branch: Any = None
    # Set by each step's constructor; no class-level value, as 4.3's Source has none.
    mode: Any
    method: Any = None
    stdio_log: Any = None

    def __init__(self, workdir: Any = None, mode: Any = "update", alwaysUseLatest: bool = False,
                 timeout: int = 20 * 60, retry: Any = None, env: Any = None,
                 logEnviron: bool = True, description: Any = None,
                 descriptionDone: Any = None, descriptionSuffix: Any = None,
                 codebase: str = "", **kwargs: Any) -> None:
        mode_key = mode if isinstance(mode, str) else None
        if not description:
            description = [_DESCRIPTION_FOR_MODE.get(mode_key or "", "updating")]
        if not descriptionDone:
            descriptionDone = [_DESCRIPTION_DONE_FOR_MODE.get(mode_key or "", "update")]
        if not descriptionSuffix and codebase:
            descriptionSuffix = [codebase]
        super().__init__(description=description, descriptionDone=descriptionDone,
                         descriptionSuffix=descriptionSuffix, **kwargs)
        self.workdir = workdir
        self.sourcestamp: Any = None
        self.codebase = codebase
        if self.codebase:
            self.name: Any = Interpolate("%(kw:name)s-%(kw:codebase)s", name=self.name,
                                    codebase=self.codebase)
        self.alwaysUseLatest = alwaysUseLatest
        self.logEnviron = logEnviron
        self.env = env
        self.timeout = timeout
        self.retry = retry

    # -- modes: a step supports mode "x" by defining `mode_x()` -----------------------------
    def _hasAttrGroupMember(self, attrGroup: str, attr: str) -> bool:
        return hasattr(self, f"{attrGroup}_{attr}")

    def _getAttrGroupMember(self, attrGroup: str, attr: str) -> Any:
        return getattr(self, f"{attrGroup}_{attr}")

    def _listAttrGroupMembers(self, attrGroup: str) -> list[str]:
        prefix = attrGroup + "_"
        return [name[len(prefix):] for name, _ in inspect.getmembers(self, inspect.ismethod)
                if name.startswith(prefix)]

    def supported_modes(self) -> list[str]:
        """The modes this step implements (its `mode_<x>` methods), sorted."""
        return sorted(self._listAttrGroupMembers("mode"))

    def has_supported_mode(self) -> bool:
        """Whether `self.mode` names one of `supported_modes()` (a renderable is checked
        when the step runs)."""
        return not isinstance(self.mode, str) or self._hasAttrGroupMember("mode", self.mode)

    async def run_mode(self) -> None:
        """Bring the workdir up to date the way `self.mode` says."""
        await self._getAttrGroupMember("mode", self.mode)()

    def _getMethod(self) -> Any:
        return effective_method(self.mode, self.method)

    async def worker_command(self, name: str, args: dict[str, Any],
                             abandonOnFailure: bool = True) -> RemoteCommand:
        """Run worker command `name` (e.g. "cpdir", "rmdir") with output to the stdio log;
        a failure fails the step when `abandonOnFailure`."""
        cmd = RemoteCommand(name, args)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if abandonOnFailure and cmd.didFail():
            raise buildstep.BuildStepFailed()
        return cmd

    async def with_retries(self, attempt: Callable[[bool], Awaitable[Any]],
                           before_retry: Callable[[], Awaitable[Any]] | None = None) -> Any:
        """Run `attempt(abandonOnFailure)` until it returns 0, at most `retry[1]` more times
        (`retry=(delay, repeats)`), waiting `delay` seconds and calling `before_retry()`
        (usually a clobber) between attempts; only the last attempt abandons the step."""
        while True:
            last = not self.retry or self.retry[1] <= 0
            rc = await attempt(last)
            if last or self.stopped or rc == 0:
                return rc
            delay, repeats = self.retry
            log.info("Checkout failed, trying {n} more times after {delay} seconds",
                     n=repeats, delay=delay)
            self.retry = (delay, repeats - 1)
            await deferred_sleep(self.master.reactor, delay)
            if before_retry is not None:
                await before_retry()

    # -- properties --------------------------------------------------------------------------
    def updateSourceProperty(self, name: str, value: Any, source: str = "") -> None:
        """Set `name`; with a codebase, as one entry of a dict keyed by codebase."""
        source = source or type(self).__name__
        if self.codebase != "":
            assert not isinstance(self.getProperty(name, None), str), \
                f"Sourcestep {self.name} has a codebase, other sourcesteps don't"
            values = self.getProperty(name, {})
            values[self.codebase] = value
            super().setProperty(name, values, source)
        else:
            assert not isinstance(self.getProperty(name, None), dict), \
                f"Sourcestep {self.name} does not have a codebase, other sourcesteps do"
            super().setProperty(name, value, source)

    def computeSourceRevision(self, changes: list[Any]) -> Any:
        """The revision to check out when the stamp has none (subclasses)."""
        return None

    # -- patches -----------------------------------------------------------------------------
    async def applyPatch(self, patch: tuple[int, Any, Any]) -> int | None:
        cmd = RemoteShellCommand(
            self.workdir, ["patch", f"-p{patch[0]}", "--remove-empty-files", "--force",
                           "--forward", "-i", ".buildbot-diff"],
            env=self.env, logEnviron=self.logEnviron)
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if cmd.didFail():
            raise buildstep.BuildStepFailed()
        return cmd.rc

    async def patch(self, patch: tuple[int, Any, Any]) -> int | None:
        """Apply `patch` ((level, body[, subdir])) in the workdir (or its subdir)."""
        root = patch[2] if len(patch) >= 3 else None
        pm = self.build.path_module
        if root:
            candidate = pm.join(self.workdir, root)
            if pm.abspath(candidate).startswith(pm.abspath(self.workdir)):
                self.workdir = candidate
        await self.downloadFileContentToWorker(".buildbot-diff", patch[1])
        await self.downloadFileContentToWorker(".buildbot-patched", "patched\n")
        await self.applyPatch(patch)
        cmd = RemoteCommand("rmdir", {"dir": pm.join(self.workdir, ".buildbot-diff"),
                                      "logEnviron": self.logEnviron})
        cmd.useLog(self.stdio_log, False)
        await self.runCommand(cmd)
        if cmd.didFail():
            raise buildstep.BuildStepFailed()
        return cmd.rc

    async def sourcedirIsPatched(self) -> bool:
        return await self.pathExists(self.build.path_module.join(self.workdir,
                                                                 ".buildbot-patched"))

    # -- running -----------------------------------------------------------------------------
    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement run_vc()")

    async def run(self) -> int:
        if getattr(self, "startVC", None) is not None:
            raise NotImplementedError(
                "Old-style source steps are no longer supported. Please convert your custom "
                "source step to new style (replace startVC with run_vc and convert all used "
                "old style APIs to new style). Please consider contributing the source step "
                "to upstream BuildBot so that such migrations can be avoided in the future.")
        if self.alwaysUseLatest:
            return await self.run_vc(self.branch, None, None)
        self.sourcestamp = stamp = self.build.getSourceStamp(self.codebase)
        if not stamp:
            return await self._report_missing_codebase()
        revision = stamp.revision or self._revision_from_changes(stamp.changes)
        patch = stamp_patch(stamp)
        if patch:
            await self.addCompleteLog("patch", bytes2unicode(patch[1], errors="ignore"))
        # the stamp's branch wins over the step's default one
        return await self.run_vc(stamp.branch or self.branch, revision, patch)

    def _revision_from_changes(self, changes: list[Any]) -> Any:
        # a stamp without revision: the step may name one from the changes (else the
        # latest sources are checked out); the `revision` property then says which
        revision = self.computeSourceRevision(changes)
        if revision is not None:
            self.updateSourceProperty("revision", str(revision))
        return revision

    async def _report_missing_codebase(self) -> int:
        text = f"No sourcestamp found in build for codebase '{self.codebase}'"
        log.info("{text}", text=text)
        self.descriptionDone = f"Codebase {self.codebase} not in build"
        await self.addCompleteLog("log", text)
        return FAILURE


__all__ = ["Source"]
