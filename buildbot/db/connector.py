"""`DBConnector`: the database of one master, its thread pool and its components.

```python
db = DBConnector(basedir, clock=reactor)
await db.setup("sqlite:///state.sqlite")   # raises DatabaseNotReadyError if not at head
db.masterid = await db.masters.findMasterId("host:/basedir")
await db.builds.addBuild(...)
await db.stop()
```

The connector is a service but not a child of the master: the master sets it up before
starting anything else and stops it last.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from twisted.internet import defer
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from buildbot.db.base import Clock
from buildbot.db.build_data import BuildDataDb
from buildbot.db.builders import BuildersDb
from buildbot.db.buildrequests import BuildRequestsDb
from buildbot.db.builds import BuildsDb
from buildbot.db.buildsets import BuildsetsDb
from buildbot.db.changes import ChangesDb
from buildbot.db.changesources import ChangeSourcesDb
from buildbot.db.codebase_branches import CodebaseBranchesDb
from buildbot.db.codebase_commits import CodebaseCommitsDb
from buildbot.db.codebases import CodebasesDb
from buildbot.db.engine import make_engine, thd_enable_wal
from buildbot.db.errors import DatabaseNotReadyError, DbOperationError
from buildbot.db.logs import LogsDb
from buildbot.db.masters import MastersDb
from buildbot.db.migrate import not_ready_message, thd_inspect, thd_upgrade
from buildbot.db.model import TABLES, Tables
from buildbot.db.pool import DbPool
from buildbot.db.projects import ProjectsDb
from buildbot.db.schedulers import SchedulersDb
from buildbot.db.sourcestamps import SourceStampsDb
from buildbot.db.stall_limit import StallLimit
from buildbot.db.state import StateDb
from buildbot.db.steps import StepsDb
from buildbot.db.tags import TagsDb
from buildbot.db.test_result_sets import TestResultSetsDb
from buildbot.db.test_results import TestResultsDb
from buildbot.db.users import UsersDb
from buildbot.db.workers import WorkersDb
from buildbot.util.deferred import as_deferred
from buildbot.util.service import AsyncService

log = Logger()

#: How often old changes are pruned when c['changeHorizon'] is set (seconds).
CLEANUP_PERIOD = 3600

#: Statement giving freed space back after `buildbot cleanupdb`, per dialect.
VACUUM_STATEMENTS = {
    "sqlite": "VACUUM",
    "postgresql": "VACUUM FULL logchunks",
    "mysql": "OPTIMIZE TABLE logchunks",
}


class DBConnector(AsyncService):
    """The database: `setup` connects (and checks the schema), `upgrade` creates or migrates
    it, and the components (`masters`, `builds`, ...) run the queries.

    `clock` gives the time stamps written (a `task.Clock` in tests); `reactor` runs the DB
    threads' results back on the reactor thread (default: the global reactor).
    """

    def __init__(self, basedir: str, clock: Clock | None = None,
                 reactor: IReactorFromThreads | None = None) -> None:
        super().__init__("db")
        if clock is None:
            from twisted.internet import reactor as default_reactor

            clock = default_reactor
        assert clock is not None
        self.basedir = basedir
        self.clock: Clock = clock
        self.pool = DbPool(reactor)
        self.tables: Tables = TABLES
        #: id of the local master once known; claims and ownership use it.
        self.masterid: int | None = None
        #: set by a running BuildMaster (its id): that master's claims, build starts and
        #: completions are refused once another master expired it (masters.thd_fence).
        self.fenced_masterid: int | None = None
        self.db_url: str | None = None
        self._set_up = False
        self._started = False
        self._change_horizon: int | None = None
        self._prune_loop: LoopingCall | None = None
        self._stall_limit: StallLimit | None = None
        #: The latest change pruning run (tests wait for it).
        self.last_prune: defer.Deferred[None] | None = None

        pool, tables = self.pool, self.tables
        self.masters = MastersDb(pool, tables, clock)
        self.builders = BuildersDb(pool, tables, clock)
        self.tags = TagsDb(pool, tables, clock)
        self.workers = WorkersDb(pool, tables, clock)
        self.sourcestamps = SourceStampsDb(pool, tables, clock)
        self.buildsets = BuildsetsDb(pool, tables, clock, self.sourcestamps)
        self.buildrequests = BuildRequestsDb(pool, tables, clock, lambda: self.masterid,
                                             lambda: self.fenced_masterid)
        self.builds = BuildsDb(pool, tables, clock, lambda: self.fenced_masterid)
        self.steps = StepsDb(pool, tables, clock)
        self.logs = LogsDb(pool, tables, clock, reactor)
        self.schedulers = SchedulersDb(pool, tables, clock)
        self.changesources = ChangeSourcesDb(pool, tables, clock)
        self.state = StateDb(pool, tables, clock)
        self.changes = ChangesDb(pool, tables, clock, self.sourcestamps, self.builds)
        self.users = UsersDb(pool, tables, clock)
        self.projects = ProjectsDb(pool, tables, clock)
        self.codebases = CodebasesDb(pool, tables, clock)
        self.codebase_commits = CodebaseCommitsDb(pool, tables, clock)
        self.codebase_branches = CodebaseBranchesDb(pool, tables, clock)
        self.build_data = BuildDataDb(pool, tables, clock)
        self.test_result_sets = TestResultSetsDb(pool, tables, clock)
        self.test_results = TestResultsDb(pool, tables, clock)

    # -- setting up ----------------------------------------------------------------------------
    async def setup(self, db_url: str, engine_kwargs: dict[str, Any] | None = None,
                    check_version: bool = True) -> None:
        """Connect to `db_url` (relative SQLite paths are under the basedir).

        An in-memory SQLite database gets its schema here. Otherwise, with `check_version`,
        a database not at the current schema revision raises `DatabaseNotReadyError` whose
        message tells the operator what to do (usually `buildbot upgrade-master`).
        """
        info = make_engine(db_url, self.basedir, engine_kwargs)
        self._stall_limit = StallLimit(info.engine)
        self.db_url = db_url
        self.pool.configure(info.engine, info.threads)
        self._set_up = True
        try:
            if info.is_sqlite_file:
                await self.pool.run_engine(thd_enable_wal)
            if info.is_memory_sqlite:
                await self.upgrade()
            elif check_version:
                try:
                    state = await self.pool.run(thd_inspect)
                except DbOperationError as e:
                    raise DatabaseNotReadyError(
                        f"cannot read the database at {info.engine.url!r}: {e.__cause__}") from e
                if not state.is_current:
                    raise DatabaseNotReadyError(not_ready_message(state, self.basedir))
        except BaseException:
            await self._close()
            raise

    async def upgrade(self) -> str:
        """Create the schema in an empty database or migrate it to the current revision.

        Returns `created`, `upgraded` or `current`; raises `UpgradeError` (database left as
        it was) for databases it cannot handle. See `buildbot.db.migrate`.
        """
        tables = self.tables
        return await self.pool.run(lambda conn: thd_upgrade(conn, tables))

    def set_stall_limit(self, seconds: float | None) -> None:
        """With several masters: abort, on the server, a transaction left idle for longer
        than `seconds` (the heartbeat expiry), so that a master frozen inside one cannot
        block the takeover of its work (see `buildbot.db.stall_limit`). None: no limit."""
        if self._stall_limit is not None:
            self._stall_limit.set(seconds)

    # -- housekeeping ------------------------------------------------------------------------
    def set_change_horizon(self, change_horizon: int | None) -> None:
        """Apply c['changeHorizon']: while the connector runs, keep only that many changes,
        pruning once at once and then every hour (None or 0: keep every change)."""
        self._change_horizon = change_horizon or None
        if self._change_horizon is None:
            self._stop_pruning()
        elif self._started and self._prune_loop is None:
            self._start_pruning()

    def _start_pruning(self) -> None:
        loop = self._prune_loop = LoopingCall(self._prune_tick)
        loop.clock = self.clock  # type: ignore[assignment]  # any IReactorTime
        self.tasks.spawn("change pruning", loop.start(CLEANUP_PERIOD, now=True))

    def _stop_pruning(self) -> None:
        loop, self._prune_loop = self._prune_loop, None
        if loop is not None and loop.running:
            loop.stop()

    def _prune_tick(self) -> defer.Deferred[None]:
        self.last_prune = as_deferred(self._prune_changes)()
        return self.last_prune

    async def _prune_changes(self) -> None:
        try:
            deleted = await self.changes.pruneChanges(self._change_horizon)
        except Exception:  # noqa: BLE001 (a failure here would end the LoopingCall for good)
            log.failure("pruning old changes failed; retrying in an hour")
            return
        if deleted:
            log.info("pruned {n} changes beyond changeHorizon", n=deleted)

    def vacuum_statement(self) -> str | None:
        """The statement compacting the database after cleanup (None if the engine has
        none): VACUUM (SQLite), VACUUM FULL logchunks (PostgreSQL), OPTIMIZE TABLE
        logchunks (MySQL)."""
        return VACUUM_STATEMENTS.get(self.pool.dialect)

    async def vacuum(self) -> None:
        """Run `vacuum_statement()` outside any transaction (it can take long)."""
        stmt = self.vacuum_statement()
        if stmt is None:
            return

        def thd_vacuum(engine: sa.Engine) -> None:
            # Outside any transaction: VACUUM refuses to run in one. The driver connection
            # (no transaction open on SQLite, autocommit set here elsewhere) is used directly.
            raw = engine.raw_connection()
            try:
                dbapi = raw.dbapi_connection
                assert dbapi is not None
                if engine.dialect.name != "sqlite":
                    engine.dialect.set_isolation_level(dbapi, "AUTOCOMMIT")
                cursor = dbapi.cursor()
                cursor.execute(stmt)
                if cursor.description:
                    cursor.fetchall()  # OPTIMIZE TABLE answers with a status table
                cursor.close()
            finally:
                raw.invalidate()  # never give a connection left in autocommit back to the pool
                raw.close()

        await self.pool.run_engine(thd_vacuum)

    # -- service -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start housekeeping (change pruning, if configured)."""
        await super().start()
        self._started = True
        if self._change_horizon is not None and self._prune_loop is None:
            self._start_pruning()

    async def stop(self) -> None:
        """Wait for background DB work, then release the threads and connections."""
        self._started = False
        self._stop_pruning()
        await super().stop()
        await self._close()

    async def _close(self) -> None:
        await self.logs.stop()
        if self._set_up:
            self._set_up = False
            await self.pool.stop()
