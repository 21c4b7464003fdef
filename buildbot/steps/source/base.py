"""`Source`: the base of the version-control checkout steps.

A subclass implements `run_vc(branch, revision, patch)` (and usually
`computeSourceRevision(changes)`); the base picks the build's source stamp of the step's
codebase, records the patch, and offers helpers to apply a patch on the worker.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from twisted.logger import Logger

from buildbot.process import buildstep
from buildbot.process.buildstep import BuildStep
from buildbot.process.properties import Interpolate
from buildbot.process.remotecommand import RemoteCommand, RemoteShellCommand
from buildbot.process.results import FAILURE
from buildbot.steps.worker import CompositeStepMixin
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

    # -- "attribute groups": mode_<x> methods ----------------------------------------------
    def _hasAttrGroupMember(self, attrGroup: str, attr: str) -> bool:
        return hasattr(self, f"{attrGroup}_{attr}")

    def _getAttrGroupMember(self, attrGroup: str, attr: str) -> Any:
        return getattr(self, f"{attrGroup}_{attr}")

    def _listAttrGroupMembers(self, attrGroup: str) -> list[str]:
        prefix = attrGroup + "_"
        return [name[len(prefix):] for name, _ in inspect.getmembers(self, inspect.ismethod)
                if name.startswith(prefix)]

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
        ss = self.build.getSourceStamp(self.codebase)
        self.sourcestamp = ss
        if not ss:
            text = f"No sourcestamp found in build for codebase '{self.codebase}'"
            log.info("{text}", text=text)
            self.descriptionDone = f"Codebase {self.codebase} not in build"
            await self.addCompleteLog("log", text)
            return FAILURE
        branch = ss.branch or self.branch
        revision = ss.revision
        if not revision:
            revision = self.computeSourceRevision(ss.changes)
            if revision is not None:
                self.updateSourceProperty("revision", str(revision))
        patch = stamp_patch(ss)
        if patch:
            await self.addCompleteLog("patch", bytes2unicode(patch[1], errors="ignore"))
        return await self.run_vc(branch, revision, patch)


__all__ = ["Source"]
