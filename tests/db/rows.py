"""Making the rows tests need, through the real connector API."""

from __future__ import annotations

import datetime
from typing import Any

from buildbot.db.connector import DBConnector


def t(epoch: int) -> datetime.datetime:
    """The aware UTC datetime of `epoch` seconds (times in db models)."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


async def master(db: DBConnector, name: str = "host:/master", local: bool = True) -> int:
    """A master (the connector's local one unless `local` is False)."""
    masterid = await db.masters.findMasterId(name)
    if local:
        db.masterid = masterid
    return masterid


async def buildset(db: DBConnector, builderids: list[int], **kw: Any) -> tuple[int, dict[int, int]]:
    """A buildset with one source stamp and a request per builder."""
    stamp = kw.pop("sourcestamps", [{"branch": "main", "revision": "abc", "repository": "r",
                                     "codebase": "", "project": "p"}])
    return await db.buildsets.addBuildset(
        sourcestamps=stamp, reason=kw.pop("reason", "because"),
        properties=kw.pop("properties", {}), builderids=builderids,
        waited_for=kw.pop("waited_for", False), **kw)


async def build(db: DBConnector, builder: str = "b1", **bs: Any) -> tuple[int, int, int]:
    """(builderid, brid, buildid): a started build of a new request on `builder`."""
    masterid = db.masterid if db.masterid is not None else await master(db)
    builderid = await db.builders.findBuilderId(builder)
    assert builderid is not None
    _, brids = await buildset(db, [builderid], **bs)
    workerid = await db.workers.findWorkerId("w1")
    buildid, _ = await db.builds.addBuild(builderid, brids[builderid], workerid, masterid,
                                          "created")
    return builderid, brids[builderid], buildid


async def step(db: DBConnector, name: str = "compile") -> tuple[int, int]:
    """(buildid, stepid): a step in a new build."""
    _, _, buildid = await build(db)
    stepid, _, _ = await db.steps.addStep(buildid, name, "pending")
    return buildid, stepid


async def log(db: DBConnector, type: str = "s") -> int:
    """A new empty log in a new step."""
    _, stepid = await step(db)
    return await db.logs.addLog(stepid, "stdio", "stdio", type)
