"""The `steps` table."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from twisted.internet import defer

from buildbot.db.base import Clock, DbComponent, chunked, inserted_id
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.timestamps import to_datetime, to_epoch

STEP_NAME_LENGTH = 50


@dataclass(frozen=True, slots=True)
class UrlModel:
    """A link shown with a step."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class StepModel:
    """A step of a build; `number` is 0-based; times are aware UTC datetimes (stored as
    epoch seconds)."""

    id: int
    number: int
    name: str
    buildid: int
    started_at: datetime.datetime | None
    locks_acquired_at: datetime.datetime | None
    complete_at: datetime.datetime | None
    state_string: str
    results: int | None
    urls: list[UrlModel] = field(default_factory=list)
    hidden: bool = False


def _urls(text: str | None) -> list[UrlModel]:
    if not text or text == "[]":  # most steps: no JSON parse
        return []
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "name" in item and "url" in item:
            out.append(UrlModel(item["name"], item["url"]))
    return out


def _step(r: Any) -> StepModel:
    """A row of `select(steps)` (positional: the table's columns are in the model's order)."""
    (stepid, number, name, buildid, started_at, locks_acquired_at, complete_at, state_string,
     results, urls_json, hidden) = r
    return StepModel(stepid, number, name, buildid, to_datetime(started_at),
                     to_datetime(locks_acquired_at), to_datetime(complete_at), state_string,
                     results, _urls(urls_json), bool(hidden))


def unique_step_name(name: str, taken: set[str]) -> str:
    """`name`, or the first of `name_1`, `name_2`... (shortened to fit 50) not in `taken`."""
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[:STEP_NAME_LENGTH - len(suffix)] + suffix
    return candidate


class StepsDb(DbComponent):
    """Steps of builds. Each method is one transaction on the DB pool."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        super().__init__(pool, tables, clock)
        # addURL is a read-modify-write of a JSON column: serialise it in this process.
        self._url_lock = defer.DeferredLock()
        s = tables.steps
        # INSERT ... SELECT max(number) + 1: numbering and insertion in one statement.
        values = sa.select(
            sa.func.coalesce(sa.func.max(s.c.number), -1) + 1,
            sa.bindparam("_name", type_=sa.String), sa.bindparam("_buildid", type_=sa.Integer),
            sa.bindparam("_state_string", type_=sa.Text), sa.literal("[]", sa.Text),
            sa.literal(0, sa.SmallInteger),
        ).where(s.c.buildid == sa.bindparam("_buildid"))
        add = s.insert().from_select(
            ["number", "name", "buildid", "state_string", "urls_json", "hidden"], values)
        self._add_step = (add, add.returning(s.c.id, s.c.number))
        # one build's steps (REST `builds/N/steps`): built once, an equality, not an IN list
        self._steps_of_build = sa.select(s).where(
            s.c.buildid == sa.bindparam("buildid", type_=sa.Integer)).order_by(s.c.number)

    async def for_builds(self, buildids: Sequence[int]) -> dict[int, list[StepModel]]:
        """Steps of many builds in one round trip, ordered by number, keyed by build id."""
        s = self._tables.steps

        def thd_select(conn: sa.Connection) -> dict[int, list[StepModel]]:
            found: dict[int, list[StepModel]] = {bid: [] for bid in buildids}
            for ids in chunked(list(buildids)):
                for r in conn.execute(sa.select(s).where(s.c.buildid.in_(ids))
                                      .order_by(s.c.buildid, s.c.number)):
                    found[r.buildid].append(_step(r))
            return found

        return await self._pool.run(thd_select)

    async def addStep(self, buildid: int, name: str, state_string: str
                      ) -> tuple[int, int, str]:
        """Add a pending step after the build's last one; returns (stepid, number, name),
        the name made unique in the build (`_1`, `_2`... appended). One statement unless
        the name is taken."""
        return await self._pool.run(self._thd_add_step(buildid, name, state_string))

    async def add_started_step(self, buildid: int, name: str, state_string: str,
                               started_at: int, locks_acquired: bool
                               ) -> tuple[int, int, str]:
        """`addStep` then `startStep` in one transaction (a step that starts as soon as it
        exists); returns (stepid, number, name)."""
        stepid, number, unique, _ = await self.add_started_step_with_log(
            buildid, name, state_string, started_at,
            locks_acquired_at=started_at if locks_acquired else None)
        return stepid, number, unique

    async def add_started_step_with_log(
            self, buildid: int, name: str, state_string: str, started_at: int,
            locks_acquired_at: int | None = None, log: tuple[str, str, str] | None = None
    ) -> tuple[int, int, str, int | None]:
        """`add_started_step`, with the locks' time when known, and the step's first log
        (`(name, slug, type)`, empty) when given, in one transaction; returns (stepid,
        number, name, logid or None)."""
        add = self._thd_add_step(buildid, name, state_string)
        values: dict[str, Any] = {"started_at": started_at}
        if locks_acquired_at is not None:
            values["locks_acquired_at"] = locks_acquired_at
        s, lt = self._tables.steps, self._tables.logs

        def thd_add_started(conn: sa.Connection) -> tuple[int, int, str, int | None]:
            stepid, number, unique = add(conn)
            conn.execute(s.update().where(s.c.id == stepid).values(**values))
            logid = None
            if log is not None:
                logid = inserted_id(conn.execute(lt.insert().values(
                    name=log[0], slug=log[1], stepid=stepid, complete=0, num_lines=0,
                    type=log[2])))
            return stepid, number, unique, logid

        return await self._pool.run(thd_add_started)

    def _thd_add_step(self, buildid: int, name: str, state_string: str
                      ) -> Callable[[sa.Connection], tuple[int, int, str]]:
        s = self._tables.steps
        stmt, returning = self._add_step

        def thd_add(conn: sa.Connection) -> tuple[int, int, str]:
            candidate = name
            while True:
                params = {"_name": candidate, "_buildid": buildid,
                          "_state_string": state_string}
                try:
                    if conn.dialect.insert_returning:
                        row = conn.execute(returning, params).one()
                        return int(row.id), int(row.number), candidate
                    stepid = int(conn.execute(stmt, params).lastrowid)
                    number = conn.execute(sa.select(s.c.number).where(s.c.id == stepid)
                                          ).scalar_one()
                    return stepid, int(number), candidate
                except sa.exc.IntegrityError:
                    conn.rollback()
                    taken = {r.name for r in conn.execute(
                        sa.select(s.c.name).where(s.c.buildid == buildid))}
                    # A lost race on the number retries the same name.
                    candidate = unique_step_name(name, taken)

        return thd_add

    async def startStep(self, stepid: int, started_at: int | datetime.datetime,
                        locks_acquired: bool) -> None:
        """Record the start (and, if the step needs no locks, their acquisition)."""
        values: dict[str, Any] = {"started_at": to_epoch(started_at)}
        if locks_acquired:
            values["locks_acquired_at"] = values["started_at"]
        await self._update(stepid, **values)

    async def set_step_locks_acquired_at(self, stepid: int,
                                         locks_acquired_at: int | datetime.datetime) -> None:
        """Record when the step got its locks."""
        await self._update(stepid, locks_acquired_at=to_epoch(locks_acquired_at))

    async def setStepStateString(self, stepid: int, state_string: str) -> None:
        """Set the step's state text."""
        await self._update(stepid, state_string=state_string)

    async def finishStep(self, stepid: int, results: int, hidden: bool,
                         complete_at: int | datetime.datetime | None = None,
                         state_string: str | None = None) -> None:
        """Mark the step finished now (one statement)."""
        # `complete_at` and `state_string` (extensions) let the caller announce the row
        # without reading it back, and store the final summary in the same transaction.
        values: dict[str, Any] = {"complete_at": self._now() if complete_at is None
                                  else to_epoch(complete_at), "results": results,
                                  "hidden": int(bool(hidden))}
        if state_string is not None:
            values["state_string"] = state_string
        await self._update(stepid, **values)

    async def finish_step_and_logs(self, stepid: int, results: int, hidden: bool,
                                   complete_at: int, state_string: str | None = None,
                                   finish_logids: Sequence[int] = (),
                                   drop_logids: Sequence[int] = (),
                                   clear_locks_acquired_at: bool = False,
                                   build_state: tuple[int, str] | None = None,
                                   also: Callable[[sa.Connection], None] | None = None
                                   ) -> None:
        """`finishStep`, with in the same transaction: the step's logs `finish_logids`
        marked complete, its unused (never written) logs `drop_logids` deleted, and its
        locks' time cleared (stored ahead of an acquisition that never came), and the
        state string of a build `(buildid, text)` set; `also` runs in the transaction
        first (a build's properties: `BuildsDb.properties_writer`)."""
        values: dict[str, Any] = {"complete_at": complete_at, "results": results,
                                  "hidden": int(bool(hidden))}
        if state_string is not None:
            values["state_string"] = state_string
        if clear_locks_acquired_at:
            values["locks_acquired_at"] = None
        stmt, params = self._update_by_id(self._tables.steps, stepid, values)
        lt, lc, b = self._tables.logs, self._tables.logchunks, self._tables.builds

        def thd_finish(conn: sa.Connection) -> None:
            if also is not None:
                also(conn)
            if build_state is not None:
                conn.execute(b.update().where(b.c.id == build_state[0])
                             .values(state_string=build_state[1]))
            if finish_logids:
                conn.execute(lt.update().where(lt.c.id.in_(list(finish_logids)))
                             .values(complete=1))
            if drop_logids:
                conn.execute(lc.delete().where(lc.c.logid.in_(list(drop_logids))))
                conn.execute(lt.delete().where(lt.c.id.in_(list(drop_logids)),
                                               lt.c.stepid == stepid))
            conn.execute(stmt, params)

        await self._pool.run(thd_finish)

    async def addURL(self, stepid: int, name: str, url: str) -> None:
        """Add a link to the step (an identical one already there is not repeated)."""
        s = self._tables.steps

        def thd_add(conn: sa.Connection) -> None:
            text = conn.execute(sa.select(s.c.urls_json).where(s.c.id == stepid)).scalar()
            if text is None:
                return
            urls = json.loads(text)
            entry = {"name": name, "url": url}
            if entry not in urls:
                urls.append(entry)
                conn.execute(s.update().where(s.c.id == stepid)
                             .values(urls_json=json.dumps(urls)))

        async with self._url_lock:
            await self._pool.run(thd_add)

    async def _update(self, stepid: int, **values: Any) -> None:
        stmt, params = self._update_by_id(self._tables.steps, stepid, values)

        def thd_update(conn: sa.Connection) -> None:
            conn.execute(stmt, params)

        await self._pool.run(thd_update)

    async def getStep(self, stepid: int | None = None, buildid: int | None = None,
                      number: int | None = None, name: str | None = None) -> StepModel | None:
        """The step by id, or by build and number or name; None if not found."""
        s = self._tables.steps
        if stepid is not None:
            where = [s.c.id == stepid]
        elif buildid is not None and number is not None:
            where = [s.c.buildid == buildid, s.c.number == number]
        elif buildid is not None and name is not None:
            where = [s.c.buildid == buildid, s.c.name == name]
        else:
            return None

        def thd_get(conn: sa.Connection) -> StepModel | None:
            row = conn.execute(sa.select(s).where(*where)).first()
            return None if row is None else _step(row)

        return await self._pool.run(thd_get)

    async def getSteps(self, buildid: int) -> list[StepModel]:
        """The build's steps, by number."""
        stmt = self._steps_of_build

        def thd_steps(conn: sa.Connection) -> list[StepModel]:
            return [_step(r) for r in conn.execute(stmt, {"buildid": buildid}).all()]

        return await self._pool.run(thd_steps)
