"""Change classifications of schedulers: which changes a scheduler has seen and not yet
built, and whether each was important. No endpoints: only update methods, through which the
process layer (which never touches the database) keeps them in the `scheduler_changes`
table, where a restarted master (or a Buildbot 4.3 master before it) finds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from buildbot.data.base import Endpoint, ResourceType, update_method

# "Any value" marker of getChangeClassifications (the db layer's convention: None is a real
# branch, the default branch).
ANY: Any = -1


class SchedulerChange(ResourceType):
    name = "scheduler_change"
    plural = "scheduler_changes"
    endpoints: ClassVar[list[type[Endpoint]]] = []

    @update_method
    async def classifyChanges(self, schedulerid: int, classifications: Mapping[int, bool]
                              ) -> None:
        """Record {changeid: important} for the scheduler (replacing earlier ones); one
        transaction."""
        await self.db.schedulers.classifyChanges(schedulerid, classifications)

    @update_method
    async def getChangeClassifications(self, schedulerid: int, branch: Any = ANY,
                                       repository: Any = ANY, project: Any = ANY,
                                       codebase: Any = ANY) -> dict[int, bool]:
        """{changeid: important} recorded for the scheduler, optionally only those of
        changes on the given branch / repository / project / codebase."""
        result: dict[int, bool] = await self.db.schedulers.getChangeClassifications(
            schedulerid, branch=branch, repository=repository, project=project,
            codebase=codebase)
        return result

    @update_method
    async def flushChangeClassifications(self, schedulerid: int,
                                         less_than: int | None = None) -> None:
        """Forget the scheduler's classifications (only of changes below `less_than` when
        given)."""
        await self.db.schedulers.flushChangeClassifications(schedulerid, less_than=less_than)
