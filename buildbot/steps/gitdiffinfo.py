"""GitDiffInfo: the line ranges a branch changes since its merge base with another ref,
stored as JSON build data for reporters (e.g. to match code-issue results to the diff)."""

from __future__ import annotations

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
        try:
            import unidiff  # noqa: F401
        except ImportError:
            config.error("unidiff package must be installed in order to use GitDiffInfo")
        kwargs = self.setupShellMixin(kwargs, prohibitArgs=["command"])
        super().__init__(**kwargs)
        self._compare_to_ref = compareToRef
        self._data_name = dataName
        self._observer = logobserver.BufferLogObserver()

    async def run(self) -> int:
        cmd = await self.makeRemoteShellCommand(
            command=["git", "merge-base", "HEAD", self._compare_to_ref],
            stdioLogName="stdio-merge-base", collectStdout=True)
        await self.runCommand(cmd)
        await self.getLog("stdio-merge-base").finish()
        if cmd.results() != SUCCESS:
            return cmd.results()
        base = cmd.stdout.strip()
        self.setProperty("diffinfo-merge-base-commit", base, "GitDiffInfo")

        self.addLogObserver("stdio-diff", self._observer)
        cmd = await self.makeRemoteShellCommand(
            command=["git", "diff", "--no-prefix", "-U0", base, "HEAD"],
            stdioLogName="stdio-diff")
        await self.runCommand(cmd)
        if cmd.results() != SUCCESS:
            return cmd.results()
        from unidiff import PatchSet

        patches = PatchSet(self._observer.getStdout(), metadata_only=True)
        data = json.dumps([_file_json(p) for p in patches]).encode("utf-8")
        await self.setBuildData(self._data_name, data, "GitDiffInfo")
        return cmd.results()


__all__ = ["GitDiffInfo"]
