"""Where the pull-request pollers remember the head revision they last reported.

The values live in `object_state` under the object (`object_name`, the poller's class name)
with one key `pull_request<N>` per pull request, as Buildbot 4.3 keeps them, so a 4.3
database carries on without reporting every open pull request again.
"""

from __future__ import annotations

from typing import Any


class PullRequestRevisions:
    """The revision last reported for each pull request of one poller."""

    def __init__(self, master: Any, object_name: str, class_name: str) -> None:
        self._master = master
        self._object = (object_name, class_name)
        self._objectid: int | None = None

    async def _oid(self) -> int:
        if self._objectid is None:
            self._objectid = int(await self._master.data.updates.getObjectId(*self._object))
        return self._objectid

    async def get(self, number: int) -> str | None:
        value = await self._master.data.updates.getState(await self._oid(),
                                                         f"pull_request{number}", None)
        return value if value is None else str(value)

    async def set(self, number: int, revision: str) -> None:
        await self._master.data.updates.setState(await self._oid(), f"pull_request{number}",
                                                 revision)

    async def is_new(self, number: int, revision: str) -> bool:
        """Whether `revision` differs from the one reported (compared on 12 characters,
        since some forges list short hashes and the full one is stored)."""
        seen = await self.get(number)
        return not seen or seen[:12] != revision[:12]
