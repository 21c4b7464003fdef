"""GitDiffInfo: the line ranges a branch changes since its merge base with another ref,
stored as JSON build data for reporters (e.g. to match code-issue results to the diff)."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from buildbot import config
from buildbot.process import logobserver
from buildbot.process.buildstep import BuildStep, ShellMixin
from buildbot.process.results import SUCCESS


def _hunk_json(hunk: Any) -> dict[str, int]:
    # short keys: the data is stored with every build
    return {"ss": hunk.source_start, "sl": hunk.source_length,
            "ts": hunk.target_start, "tl": hunk.target_length}


def _file_json(patched: Any) -> dict[str, Any]:
    return {"source_file": patched.source_file, "target_file": patched.target_file,
            "is_binary": patched.is_binary_file, "is_rename": patched.is_rename,
            "hunks": [_hunk_json(h) for h in patched]}


class GitDiffInfo(ShellMixin, BuildStep):
    """`git merge-base HEAD <compareToRef>` (property `diffinfo-merge-base-commit`), then
    `git diff --no-prefix -U0 <base> HEAD` parsed into build data `dataName`. Needs unidiff."""

    name = "GitDiffInfo"
    description: Any = "running GitDiffInfo"
    descriptionDone: Any = "GitDiffInfo"

    def __init__(self, compareToRef: Any = "master", dataName: str = "diffinfo-master",
                 **kwargs: Any) -> None:
        # checked, not imported: the diff is parsed only when the step runs
        if importlib.util.find_spec("unidiff") is None:
            config.error("unidiff package must be installed in order to use GitDiffInfo")
        super().__init__(**self.setupShellMixin(kwargs, prohibitArgs=["command"]))
        self._compare_to_ref, self._data_name = compareToRef, dataName
        self._observer = logobserver.BufferLogObserver()

    async def _git(self, logname: str, *args: str, collectStdout: bool = False) -> Any:
        cmd = await self.makeRemoteShellCommand(command=["git", *args], stdioLogName=logname,
                                                collectStdout=collectStdout)
        await self.runCommand(cmd)
        return cmd

    async def run(self) -> int:
        merge_base = await self._git("stdio-merge-base", "merge-base", "HEAD",
                                     self._compare_to_ref, collectStdout=True)
        await self.getLog("stdio-merge-base").finish()
        if merge_base.results() != SUCCESS:
            return int(merge_base.results())
        base = merge_base.stdout.strip()
        self.setProperty("diffinfo-merge-base-commit", base, "GitDiffInfo")
        self.addLogObserver("stdio-diff", self._observer)
        diff = await self._git("stdio-diff", "diff", "--no-prefix", "-U0", base, "HEAD")
        if diff.results() == SUCCESS:
            from unidiff import PatchSet  # present: checked by the constructor

            patches = PatchSet(self._observer.getStdout(), metadata_only=True)
            data = json.dumps([_file_json(p) for p in patches]).encode("utf-8")
            await self.setBuildData(self._data_name, data, "GitDiffInfo")
        return int(diff.results())


__all__ = ["GitDiffInfo"]
