"""Gerrit: the Git step for Gerrit change builds."""

from __future__ import annotations

from typing import Any

from buildbot.steps.source.git import Git


def gerrit_change_ref(change: str) -> str | None:
    """`refs/changes/NN/CHANGE/PATCHSET` for a "CHANGE/PATCHSET" string (NN: the last two
    digits of the change number, zero-padded as Gerrit names its refs)."""
    parts = change.split("/")
    if len(parts) != 2:
        return None
    try:
        number, patchset = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    # The reference pads with a space ("refs/changes/ 5/5/2"), a ref git cannot fetch.
    return f"refs/changes/{number % 100:02}/{number}/{patchset}"


class Gerrit(Git):
    """Git, checking out the patch set of the Gerrit event (`event.patchSet.ref`, or the
    `gerrit_change` property "CHANGE/PATCHSET") when the build's project is the changed
    one; sets `gerrit_branch`."""

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        gerrit_branch = None
        changed_project = self.build.getProperty("event.change.project")
        if self.sourcestamp and self.sourcestamp.project == changed_project:
            if self.build.hasProperty("event.patchSet.ref"):
                gerrit_branch = self.build.getProperty("event.patchSet.ref")
            else:
                gerrit_branch = gerrit_change_ref(
                    str(self.build.getProperty("gerrit_change", "") or ""))
            if gerrit_branch:
                self.updateSourceProperty("gerrit_branch", gerrit_branch)
        return await super().run_vc(gerrit_branch or branch, revision, patch)


__all__ = ["Gerrit"]
