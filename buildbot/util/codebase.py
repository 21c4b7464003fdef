"""`AbsoluteSourceStampsMixin`: schedulers remembering the last change seen per codebase, so
that a build started by one codebase's change uses the latest known revision of the others."""

from __future__ import annotations

from typing import Any

from buildbot.util.state import StateMixin


class AbsoluteSourceStampsMixin(StateMixin):
    """Needs `self.codebases` (name → default dict). State key: `lastCodebases`."""

    codebases: dict[str, dict[str, Any]]
    _lastCodebases: dict[str, dict[str, Any]] | None = None

    async def getCodebaseDict(self, codebase: str) -> dict[str, Any]:
        """The last change recorded for `codebase`, else its configured defaults (KeyError
        for an unknown codebase)."""
        if self._lastCodebases is None:
            self._lastCodebases = dict(await self.getState("lastCodebases", {}))
        return self._lastCodebases.get(codebase, self.codebases[codebase])

    async def recordChange(self, change: Any) -> None:
        """Remember `change` for its codebase unless a newer change is already recorded."""
        codebase = await self.getCodebaseDict(change.codebase)
        last = codebase.get("lastChange")
        if last is not None and change.number <= last:
            return
        assert self._lastCodebases is not None
        self._lastCodebases[change.codebase] = {
            "repository": change.repository, "branch": change.branch,
            "revision": change.revision, "lastChange": change.number}
        await self.setState("lastCodebases", self._lastCodebases)
