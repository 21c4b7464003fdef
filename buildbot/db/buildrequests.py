"""The `buildrequests` and `buildrequest_claims` tables.

Claiming is decided by the database: `buildrequest_claims` has a unique index on `brid`, so
of two masters inserting a claim for one request exactly one succeeds. Nothing here reads
a request's state to decide whether to write it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from buildbot.db.base import Clock, DbComponent, apply_result_spec, chunked
from buildbot.db.buildsets import BuildSetModel, thd_buildset_models
from buildbot.db.errors import AlreadyClaimedError, InvalidValueError, NotClaimedError
from buildbot.db.masters import thd_fence
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.results import RETRY, SUCCESS, worst_status
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_datetime, to_epoch

#: Requests per statement when many are claimed, released or completed at once.
BRID_BATCH = 100


@dataclass(frozen=True, slots=True)
class BuildRequestModel:
    """A build request joined with its claim and builder name; `results` is -1 until
    complete; times are aware UTC datetimes (stored as epoch seconds)."""

    buildrequestid: int
    buildsetid: int
    builderid: int
    buildername: str
    submitted_at: datetime.datetime
    complete_at: datetime.datetime | None = None
    complete: bool = False
    results: int | None = None
    waited_for: bool = False
    priority: int = 0
    claimed_at: datetime.datetime | None = None
    claimed_by_masterid: int | None = None

    @property
    def claimed(self) -> bool:
        """Is a claim row present?"""
        return self.claimed_at is not None


@dataclass(frozen=True, slots=True)
class UrgentClaim:
    """What `claim_most_urgent` did: the requests it claimed (with their claim), the next
    unclaimed ones it read without claiming them, and whether those two lists hold every
    request of the builder that is still unclaimed (`complete`)."""

    claimed: list[BuildRequestModel]
    unclaimed: list[BuildRequestModel]
    complete: bool


class BuildRequestsDb(DbComponent):
    """Build requests: claims by masters, completion, priority."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock,
                 local_masterid: Callable[[], int | None],
                 fence_masterid: Callable[[], int | None] = lambda: None) -> None:
        super().__init__(pool, tables, clock)
        self._local_masterid = local_masterid
        # the running master whose writes are fenced (see masters.thd_fence)
        self._fence_masterid = fence_masterid
        br, c = tables.buildrequests, tables.buildrequest_claims
        #: data API field -> column, for `result_spec` pushdown.
        self.result_spec_fields: dict[str, sa.ColumnElement[Any]] = {
            "buildrequestid": br.c.id, "buildsetid": br.c.buildsetid,
            "builderid": br.c.builderid, "priority": br.c.priority,
            "complete": br.c.complete, "results": br.c.results,
            "submitted_at": br.c.submitted_at, "complete_at": br.c.complete_at,
            "waited_for": br.c.waited_for, "claimed_at": c.c.claimed_at,
            "claimed_by_masterid": c.c.masterid}

    def _masterid(self, masterid: int | None) -> int:
        found = masterid if masterid is not None else self._local_masterid()
        if found is None:
            raise InvalidValueError("no master id: set DBConnector.masterid or pass masterid=")
        return found

    # -- reading -----------------------------------------------------------------------------
    def _select(self) -> sa.Select[Any]:
        t = self._tables
        br, c, b = t.buildrequests, t.buildrequest_claims, t.builders
        return sa.select(br, c.c.claimed_at, c.c.masterid.label("claimed_by_masterid"),
                         b.c.name.label("buildername")).select_from(
            br.join(b, b.c.id == br.c.builderid).outerjoin(c, c.c.brid == br.c.id))

    @staticmethod
    def _row(r: Any) -> BuildRequestModel:
        return BuildRequestModel(
            buildrequestid=r.id, buildsetid=r.buildsetid, builderid=r.builderid,
            buildername=r.buildername, submitted_at=to_datetime(r.submitted_at),
            complete_at=to_datetime(r.complete_at), complete=bool(r.complete),
            results=r.results, waited_for=bool(r.waited_for), priority=r.priority,
            claimed_at=to_datetime(r.claimed_at),
            claimed_by_masterid=r.claimed_by_masterid)

    async def getBuildRequest(self, brid: int) -> BuildRequestModel | None:
        """The request with its claim, or None."""
        q = self._select().where(self._tables.buildrequests.c.id == brid)

        def thd_get(conn: sa.Connection) -> BuildRequestModel | None:
            row = conn.execute(q).first()
            return None if row is None else self._row(row)

        return await self._pool.run(thd_get)

    async def pending_summary(self) -> list[tuple[int, int, int]]:
        """(builderid, number, oldest submitted_at in epoch seconds) of the requests no
        master claimed yet, one grouped query (for `GET /metrics`)."""
        br, c = self._tables.buildrequests, self._tables.buildrequest_claims
        q = sa.select(br.c.builderid, sa.func.count(br.c.id), sa.func.min(br.c.submitted_at)) \
            .select_from(br.outerjoin(c, c.c.brid == br.c.id)) \
            .where(br.c.complete == 0, c.c.brid.is_(None)).group_by(br.c.builderid)

        def thd_pending(conn: sa.Connection) -> list[tuple[int, int, int]]:
            return [(int(r[0]), int(r[1]), int(r[2] or 0)) for r in conn.execute(q)]

        return await self._pool.run(thd_pending)

    async def unclaimed_keys(self) -> list[tuple[int, int, int, int]]:
        """(builderid, buildrequestid, priority, submitted_at in epoch seconds) of every
        incomplete request no master claimed: one narrow query (no builder names, no
        models), for the distributor's view of the pending requests."""
        br, c = self._tables.buildrequests, self._tables.buildrequest_claims
        q = sa.select(br.c.builderid, br.c.id, br.c.priority, br.c.submitted_at) \
            .select_from(br.outerjoin(c, c.c.brid == br.c.id)) \
            .where(br.c.complete == 0, c.c.brid.is_(None))

        def thd_unclaimed(conn: sa.Connection) -> list[tuple[int, int, int, int]]:
            return [(r[0], r[1], r[2] or 0, r[3] or 0) for r in conn.execute(q)]

        return await self._pool.run(thd_unclaimed)

    async def getBuildRequests(self, builderid: int | None = None,
                               complete: bool | None = None,
                               claimed: bool | int | None = None, bsid: int | None = None,
                               branch: str | None = None, repository: str | None = None,
                               result_spec: ResultSpec | None = None
                               ) -> list[BuildRequestModel]:
        """Requests by id. `claimed`: False = unclaimed and incomplete, True = claimed by
        anyone, an int = claimed by that master. `branch`/`repository` match the buildset's
        source stamps. `result_spec` is applied in SQL (see `result_spec_fields`)."""
        t = self._tables
        br, c = t.buildrequests, t.buildrequest_claims
        q = self._select().order_by(br.c.id)
        if builderid is not None:
            q = q.where(br.c.builderid == builderid)
        if complete is not None:
            q = q.where(br.c.complete != 0 if complete else br.c.complete == 0)
        if isinstance(claimed, bool):
            q = q.where(c.c.claimed_at.is_not(None)) if claimed else \
                q.where(c.c.claimed_at.is_(None), br.c.complete == 0)
        elif claimed is not None:
            q = q.where(c.c.masterid == claimed)
        if bsid is not None:
            q = q.where(br.c.buildsetid == bsid)
        if branch is not None or repository is not None:
            bss, ss = t.buildset_sourcestamps, t.sourcestamps
            sub = sa.select(bss.c.buildsetid).join(ss, ss.c.id == bss.c.sourcestampid)
            if branch is not None:
                sub = sub.where(ss.c.branch == branch)
            if repository is not None:
                sub = sub.where(ss.c.repository == repository)
            q = q.where(br.c.buildsetid.in_(sub))
        q = apply_result_spec(q, result_spec, self.result_spec_fields, self._pool.dialect)

        def thd_list(conn: sa.Connection) -> list[BuildRequestModel]:
            return [self._row(r) for r in conn.execute(q)]

        return await self._pool.run(thd_list)

    # -- claiming ----------------------------------------------------------------------------
    async def claimBuildRequests(self, brids: Sequence[int],
                                 claimed_at: int | datetime.datetime | None = None,
                                 masterid: int | None = None) -> None:
        """Claim every request for the local master (or `masterid`), or none of them:
        `AlreadyClaimedError` if any is claimed already. One transaction."""
        mid = self._masterid(masterid)
        at = to_epoch(claimed_at) if claimed_at is not None else self._now()
        rows = [{"brid": b, "masterid": mid, "claimed_at": at} for b in dict.fromkeys(brids)]
        claims = self._tables.buildrequest_claims

        def thd_claim(conn: sa.Connection) -> None:
            thd_fence(conn, self._tables, mid if mid == self._fence_masterid() else None)
            _thd_insert_claims(conn, claims, rows)

        await self._pool.run(thd_claim)

    async def claim_and_read(self, brids: Sequence[int],
                             claimed_at: int | datetime.datetime | None = None,
                             masterid: int | None = None) -> list[BuildRequestModel]:
        """`claimBuildRequests`, then the claimed requests as stored (ordered as `brids`),
        in the same transaction (one transaction instead of two)."""
        mid = self._masterid(masterid)
        at = to_epoch(claimed_at) if claimed_at is not None else self._now()
        ids = list(dict.fromkeys(brids))
        rows = [{"brid": b, "masterid": mid, "claimed_at": at} for b in ids]
        claims, br = self._tables.buildrequest_claims, self._tables.buildrequests

        def thd_claim_and_read(conn: sa.Connection) -> list[BuildRequestModel]:
            thd_fence(conn, self._tables, mid if mid == self._fence_masterid() else None)
            _thd_insert_claims(conn, claims, rows)
            by_id: dict[int, BuildRequestModel] = {}
            for some in chunked(ids, BRID_BATCH):
                for r in conn.execute(self._select().where(br.c.id.in_(some))):
                    by_id[r.id] = self._row(r)
            return [by_id[b] for b in ids if b in by_id]

        return await self._pool.run(thd_claim_and_read)

    async def claim_most_urgent(self, builderid: int, count: int = 1, lookahead: int = 0,
                                claimed_at: int | datetime.datetime | None = None,
                                masterid: int | None = None,
                                skip: Sequence[int] = ()) -> UrgentClaim:
        """Claim up to `count` of the builder's unclaimed requests for the local master (or
        `masterid`), the most urgent first (highest priority, then oldest), and read the
        next `lookahead` unclaimed ones; one transaction. Requests in `skip` are left alone
        (and not read).

        A request another master claims meanwhile is skipped (an INSERT that does nothing,
        not an error: the transaction goes on with the next request); the claims stay
        decided by the unique index, as in `claimBuildRequests`."""
        mid = self._masterid(masterid)
        at = to_epoch(claimed_at) if claimed_at is not None else self._now()
        at_dt = to_datetime(at)
        t = self._tables
        br, claims = t.buildrequests, t.buildrequest_claims
        base = self._select().where(br.c.builderid == builderid, br.c.complete == 0,
                                    t.buildrequest_claims.c.claimed_at.is_(None)) \
            .order_by(br.c.priority.desc(), br.c.id)

        def thd_claim_urgent(conn: sa.Connection) -> UrgentClaim:
            thd_fence(conn, self._tables, mid if mid == self._fence_masterid() else None)
            claimed: list[BuildRequestModel] = []
            unclaimed: list[BuildRequestModel] = []
            lost: list[int] = list(skip)
            while True:
                limit = count - len(claimed) + lookahead
                q = base.where(br.c.id.not_in(lost)) if lost else base
                found = conn.execute(q.limit(limit)).all()
                for i, r in enumerate(found):
                    if len(claimed) == count:
                        unclaimed = [self._row(x) for x in found[i:]]
                        break
                    if _thd_try_claim(conn, claims, {"brid": r.id, "masterid": mid,
                                                     "claimed_at": at}):
                        claimed.append(dataclasses.replace(
                            self._row(r), claimed_at=at_dt, claimed_by_masterid=mid))
                    else:
                        lost.append(r.id)
                complete = len(found) < limit
                if len(claimed) == count or complete:
                    return UrgentClaim(claimed, unclaimed, complete)

        return await self._pool.run(thd_claim_urgent)

    async def unclaimBuildRequests(self, brids: Sequence[int],
                                   masterid: int | None = None) -> None:
        """Release the local master's (or `masterid`'s) claims on the requests; claims of
        other masters are left alone."""
        mid = self._masterid(masterid)
        claims = self._tables.buildrequest_claims
        ids = list(dict.fromkeys(brids))

        def thd_unclaim(conn: sa.Connection) -> None:
            for batch in chunked(ids, BRID_BATCH):
                conn.execute(claims.delete().where(claims.c.brid.in_(batch),
                                                   claims.c.masterid == mid))

        await self._pool.run(thd_unclaim)

    async def completeBuildRequests(self, brids: Sequence[int], results: int,
                                    complete_at: int | datetime.datetime | None = None
                                    ) -> None:
        """Complete every request with `results` (never RETRY), or none: `NotClaimedError`
        if one is complete already or missing. Whose claim it is is not checked."""
        if results == RETRY:
            raise InvalidValueError("a build request cannot be completed with RETRY")
        at = to_epoch(complete_at) if complete_at is not None else self._now()
        await self._update_incomplete(brids, {"complete": 1, "results": results,
                                              "complete_at": at},
                                      fence=self._fence_masterid())

    async def complete_with_buildsets(
            self, brids: Sequence[int], results: int,
            complete_at: int | datetime.datetime | None = None,
    ) -> tuple[list[BuildRequestModel], list[BuildSetModel]]:
        """`completeBuildRequests`, then, in the same transaction, complete each of their
        buildsets whose requests are now all complete (results: the worst of its requests',
        from SUCCESS). Returns the completed requests (ordered as `brids`) and the buildsets
        this call completed, as stored. One transaction instead of five.

        The buildsets' rows are locked (FOR UPDATE, outside SQLite) before the requests are
        updated: two masters completing the last two requests of one buildset take turns,
        and the second sees the first's request complete (a locking read sees the latest
        committed rows), so exactly one of them completes the buildset."""
        if results == RETRY:
            raise InvalidValueError("a build request cannot be completed with RETRY")
        at = to_epoch(complete_at) if complete_at is not None else self._now()
        update = self._thd_update_incomplete(
            brids, {"complete": 1, "results": results, "complete_at": at},
            fence=self._fence_masterid())
        t = self._tables
        br, bs = t.buildrequests, t.buildsets
        ids = list(dict.fromkeys(brids))

        def thd_complete(conn: sa.Connection
                         ) -> tuple[list[BuildRequestModel], list[BuildSetModel]]:
            bsids = sorted({r.buildsetid for batch in chunked(ids, BRID_BATCH)
                            for r in conn.execute(sa.select(br.c.buildsetid)
                                                  .where(br.c.id.in_(batch)))})
            if bsids:
                conn.execute(sa.select(bs.c.id).where(bs.c.id.in_(bsids))
                             .order_by(bs.c.id).with_for_update()).all()
            update(conn)
            by_id: dict[int, BuildRequestModel] = {}
            for batch in chunked(ids, BRID_BATCH):
                for r in conn.execute(self._select().where(br.c.id.in_(batch))):
                    by_id[r.id] = self._row(r)
            outcome: dict[int, int] = {}
            for bsid in bsids:
                worst: int = SUCCESS
                for complete, res in conn.execute(
                        sa.select(br.c.complete, br.c.results).where(br.c.buildsetid == bsid)
                        .with_for_update()):
                    if not complete:
                        break
                    worst = worst_status(worst, res) or SUCCESS
                else:
                    if conn.execute(bs.update().where(
                            bs.c.id == bsid, sa.or_(bs.c.complete.is_(None), bs.c.complete != 1))
                            .values(complete=1, results=worst, complete_at=at)).rowcount == 1:
                        outcome[bsid] = worst
            done = thd_buildset_models(conn, t, conn.execute(
                sa.select(bs).where(bs.c.id.in_(list(outcome))).order_by(bs.c.id)).all()
            ) if outcome else []
            return [by_id[b] for b in ids if b in by_id], done

        return await self._pool.run(thd_complete)

    async def set_build_requests_priority(self, brids: Sequence[int], priority: int) -> None:
        """Change the priority of incomplete requests, all or none (`NotClaimedError`)."""
        await self._update_incomplete(brids, {"priority": priority})

    async def _update_incomplete(self, brids: Sequence[int], values: dict[str, Any],
                                 fence: int | None = None) -> None:
        await self._pool.run(self._thd_update_incomplete(brids, values, fence))

    def _thd_update_incomplete(self, brids: Sequence[int], values: dict[str, Any],
                               fence: int | None = None) -> Callable[[sa.Connection], None]:
        br = self._tables.buildrequests
        ids = list(dict.fromkeys(brids))

        def thd_update(conn: sa.Connection) -> None:
            thd_fence(conn, self._tables, fence)
            if conn.dialect.name == "mysql":
                # MyISAM cannot roll back a partial update: check first (the guarded UPDATE
                # below still keeps two masters from completing one request twice).
                pending = 0
                for batch in chunked(ids, BRID_BATCH):
                    pending += int(conn.execute(sa.select(sa.func.count()).where(
                        br.c.id.in_(batch),
                        sa.or_(br.c.complete.is_(None), br.c.complete != 1))).scalar() or 0)
                if pending != len(ids):
                    raise NotClaimedError(
                        f"build requests {ids}: {len(ids) - pending} complete already or "
                        "missing")
            done = 0
            for batch in chunked(ids, BRID_BATCH):
                done += conn.execute(br.update().where(
                    br.c.id.in_(batch), sa.or_(br.c.complete.is_(None), br.c.complete != 1))
                    .values(**values)).rowcount
            if done != len(ids):
                raise NotClaimedError(
                    f"build requests {ids}: {len(ids) - done} complete already or missing")

        return thd_update


def _thd_insert_claims(conn: sa.Connection, claims: sa.Table,
                       rows: list[dict[str, Any]]) -> None:
    """Insert the claims, all or none (`AlreadyClaimedError`)."""
    if conn.dialect.name == "mysql":
        _thd_claim_one_by_one(conn, claims, rows)
        return
    try:
        for batch in chunked(rows, BRID_BATCH):
            conn.execute(claims.insert(), list(batch))
    except sa.exc.IntegrityError as e:
        raise AlreadyClaimedError(
            f"build requests {[r['brid'] for r in rows]}: one is claimed already") from e


def _thd_try_claim(conn: sa.Connection, claims: sa.Table, row: dict[str, Any]) -> bool:
    """Insert one claim unless the request has one: False (and nothing written) if it has.
    The transaction stays usable either way."""
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(claims)
        return bool(conn.execute(insert.values(**row).on_conflict_do_nothing()).rowcount == 1)
    try:
        # MySQL/MariaDB: a duplicate key undoes that statement only (and MyISAM has nothing
        # to undo for one row)
        conn.execute(claims.insert().values(**row))
    except sa.exc.IntegrityError:
        return False
    return True


def _thd_claim_one_by_one(conn: sa.Connection, claims: sa.Table,
                          rows: list[dict[str, Any]]) -> None:
    # MyISAM (MySQL's default engine for Buildbot) has no transactions: on a conflict, undo
    # our own inserts by hand. A brid we inserted was nobody else's (unique index); the
    # masterid/claimed_at match keeps a claim made by another master after an InnoDB
    # rollback.
    inserted: list[int] = []
    try:
        for row in rows:
            conn.execute(claims.insert().values(**row))
            inserted.append(row["brid"])
    except sa.exc.IntegrityError as e:
        conn.rollback()
        for batch in chunked(inserted, BRID_BATCH):
            conn.execute(claims.delete().where(
                claims.c.brid.in_(batch), claims.c.masterid == rows[0]["masterid"],
                claims.c.claimed_at == rows[0]["claimed_at"]))
        conn.commit()
        raise AlreadyClaimedError(
            f"build requests {[r['brid'] for r in rows]}: one is claimed already") from e
