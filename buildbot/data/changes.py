"""Changes: the `changes` resource type and `addChange`, through which change sources and
change hooks report commits."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from twisted.logger import Logger

from buildbot.data import types
from buildbot.data.base import (
    Endpoint,
    EndpointKind,
    ResourceType,
    RowCache,
    take_sql_spec,
    update_method,
)
from buildbot.data.nesting import NestedLookup
from buildbot.data.sourcestamps import sourcestamp_entity
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_epoch

log = Logger()

# Version control systems whose change authors are mapped to users (`src` of addChange).
USER_SOURCES = frozenset({"git", "svn", "hg", "cvs", "darcs", "bzr", "fossil"})

change_entity = types.Entity("change", {
    "changeid": types.Integer(),
    "parent_changeids": types.List(of=types.Integer()),
    "author": types.String(),
    "committer": types.String(),
    "files": types.List(of=types.String()),
    "comments": types.String(),
    "revision": types.NoneOk(types.String()),
    "when_timestamp": types.Integer(),
    "branch": types.NoneOk(types.String()),
    "category": types.NoneOk(types.String()),
    "revlink": types.NoneOk(types.String()),
    "properties": types.SourcedProperties(),
    "repository": types.String(),
    "project": types.String(),
    "codebase": types.String(),
    "sourcestamp": sourcestamp_entity,
})


def change_message(row: Any, sourcestamp: dict[str, Any] | None) -> dict[str, Any]:
    """The `change` body of a db ChangeModel and the body of its source stamp.

    `when_timestamp` is epoch seconds here, as in Buildbot 4.3's data API (the db model
    and the embedded source stamp's `created_at` carry datetimes)."""
    return {
        "changeid": row.changeid,
        "author": row.author,
        "committer": row.committer,
        "comments": row.comments,
        "branch": row.branch,
        "revision": row.revision,
        "revlink": row.revlink,
        "when_timestamp": to_epoch(row.when_timestamp),
        "category": row.category,
        "parent_changeids": list(row.parent_changeids),
        "repository": row.repository,
        "codebase": row.codebase,
        "project": row.project,
        "files": list(row.files),
        "sourcestamp": sourcestamp,
        "properties": dict(row.properties),
    }


def pre_change(**kwargs: Any) -> dict[str, Any]:
    """The dict a callable `category` or `c['codebaseGenerator']` receives."""
    return {
        "author": kwargs.get("author"),
        "files": kwargs.get("files"),
        "comments": kwargs.get("comments"),
        "revision": kwargs.get("revision"),
        "when_timestamp": kwargs.get("when_timestamp"),
        "branch": kwargs.get("branch"),
        "category": kwargs.get("category"),
        "revlink": kwargs.get("revlink", ""),
        "properties": kwargs.get("properties", {}),
        "repository": kwargs.get("repository", ""),
        "project": kwargs.get("project", ""),
        "codebase": kwargs.get("codebase"),
    }


class ChangeEndpoint(Endpoint):
    """One change."""

    kind = EndpointKind.SINGLE
    pathPatterns = "/changes/n:changeid"

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        return await self.rtype.body(kwargs["changeid"])  # type: ignore[attr-defined]  # self.rtype is typed as the generic ResourceType; this one has the method


class ChangesEndpoint(Endpoint):
    """Changes: all, of a build, or of a source stamp."""

    kind = EndpointKind.COLLECTION
    rootLinkName = "changes"
    pathPatterns = """
        /changes
        /builders/n:builderid/builds/n:build_number/changes
        /builds/n:buildid/changes
        /sourcestamps/n:ssid/changes
    """

    async def get(self, result_spec: ResultSpec, kwargs: dict[str, Any]) -> Any:
        rtype: Change = self.rtype  # type: ignore[assignment]  # narrowing the generic rtype to this endpoint's type
        if "buildid" in kwargs or "build_number" in kwargs:
            buildid = await NestedLookup(self.db, kwargs).build_id()
            rows = [] if buildid is None else await self.db.changes.getChangesForBuild(buildid)
        elif "ssid" in kwargs:
            row = await self.db.changes.getChangeFromSSid(kwargs["ssid"])
            rows = [row] if row is not None else []
        else:
            sql = take_sql_spec(result_spec, self.db.changes.result_spec_fields)
            rows = list(await self.db.changes.getChanges(result_spec=sql))
            # Buildbot 4.3 returns the page of this query reversed (newest first without
            # `order`); clients re-sort, but some rely on it, so keep it.
            rows.reverse()
        return await rtype.bodies(rows)


class Change(ResourceType):
    """Changes (`change` / `changes`)."""

    name = "change"
    plural = "changes"
    keyField = "changeid"
    endpoints: ClassVar[list[type[Endpoint]]] = [ChangeEndpoint, ChangesEndpoint]
    eventPathPatterns = "/changes/:changeid"
    stateEvents = frozenset({"new"})
    entityType = change_entity

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        # Changes never change once stored.
        self.cache: RowCache[int, dict[str, Any]] = RowCache(size=1024)

    async def bodies(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """Bodies of many changes (their source stamps read once each)."""
        stamps = await self.connector.rtypes.sourcestamp.bodies(
            [r.sourcestampid for r in rows])
        by_id = {s["ssid"]: s for s in stamps}
        out = []
        for r in rows:
            body = self.cache.get(r.changeid)
            if body is None:
                body = self.cache.put(r.changeid,
                                      change_message(r, by_id.get(r.sourcestampid)))
            out.append(body)
        return out

    async def body(self, changeid: int) -> dict[str, Any] | None:
        """The body of one change, or None."""
        cached = self.cache.get(changeid)
        if cached is not None:
            return cached
        row = await self.db.changes.getChange(changeid)
        return None if row is None else (await self.bodies([row]))[0]

    @update_method
    async def addChange(
        self,
        files: list[str] | None = None,
        comments: str | None = None,
        author: str | None = None,
        committer: str | None = None,
        revision: str | None = None,
        when_timestamp: int | datetime.datetime | None = None,
        branch: str | None = None,
        category: str | Callable[[dict[str, Any]], Any] | None = None,
        revlink: str | None = "",
        properties: dict[str, Any] | None = None,
        repository: str = "",
        codebase: str | None = None,
        project: str = "",
        src: str | None = None,
    ) -> int:
        """Store a change and announce it `new`; returns its id.

        Property values get the source `Change`; with `src` (a VCS name) the author is
        mapped to a user; an empty `revlink` comes from `c['revlink']`, a callable
        `category` is called with the change's attributes, and a `codebase` of None comes
        from `c['codebaseGenerator']` (else `''`). `when_timestamp` defaults to now.
        """
        config = getattr(self.master, "config", None)
        props = {k: (v, "Change") for k, v in (properties or {}).items()}

        uid = None
        if src:
            if src in USER_SOURCES:
                uid = await self.db.users.findUserByAttr(
                    identifier=author, attr_type=src, attr_data=author)
            else:
                log.info("Unrecognized source argument: {src}", src=src)

        make_revlink = getattr(config, "revlink", None)
        if not revlink and revision and repository and callable(make_revlink):
            revlink = make_revlink(revision, repository) or ""

        attrs = {"author": author, "committer": committer, "files": files,
                 "comments": comments, "revision": revision, "when_timestamp": when_timestamp,
                 "branch": branch, "revlink": revlink, "properties": props,
                 "repository": repository, "project": project}
        if callable(category):
            category = category(pre_change(**attrs))

        generator = getattr(config, "codebaseGenerator", None)
        if codebase is None and generator is not None:
            codebase = str(generator(pre_change(category=category, **attrs)))
        else:
            codebase = codebase or ""

        with self.writing() as seq:
            changeid = int(await self.db.changes.addChange(
                author=author, committer=committer, files=files, comments=comments,
                revision=revision, when_timestamp=when_timestamp, branch=branch,
                category=category, revlink=revlink, properties=props, repository=repository,
                codebase=codebase, project=project, uid=uid))
            body = await self.body(changeid)
            if body is not None:
                self.produceEvent(body, "new", seq)
        log.info("added change with revision {revision} to database", revision=revision)
        return changeid
