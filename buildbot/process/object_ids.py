"""Giving configured services their row in the `objects` table before they start."""

from __future__ import annotations

from typing import Any


class ObjectIdAssigningMixin:
    """For the managers of change sources and schedulers (placed before
    `BuildbotServiceManager` in the bases): a new service gets `objectid`, the id of its
    (name, "module.Class") row, under which it keeps its state, as in Buildbot 4.3."""

    master: Any

    async def prepare_new_service(self, svc: Any) -> None:
        if getattr(svc, "objectid", None) is not None:
            return  # a service object reused across reconfigurations keeps its row
        cls = type(svc)
        svc.objectid = await self.master.data.updates.getObjectId(
            svc.name, f"{cls.__module__}.{cls.__name__}")
