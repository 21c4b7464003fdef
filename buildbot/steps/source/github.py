"""GitHub: the Git step for pull request builds."""

from __future__ import annotations

from typing import Any

from buildbot.steps.source.git import Git


class GitHub(Git):
    """Git, except that a `.../merge` branch (a pull request's merge ref) is checked out at
    its tip: the event's revision is not the merge commit."""

    async def run_vc(self, branch: Any, revision: Any, patch: Any) -> int:
        if branch and branch.endswith("/merge"):
            revision = None
        return await super().run_vc(branch, revision, patch)


__all__ = ["GitHub"]
