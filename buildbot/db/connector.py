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

from twisted.internet.interfaces import IReactorFromThreads
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
from buildbot.db.engine import make_engine
from buildbot.db.errors import DatabaseNotReadyError, DbOperationError
from buildbot.db.logs import LogsDb
from buildbot.db.masters import MastersDb
from buildbot.db.migrate import not_ready_message, thd_inspect, thd_upgrade
from buildbot.db.model import TABLES, Tables
from buildbot.db.pool import DbPool
from buildbot.db.projects import ProjectsDb
from buildbot.db.schedulers import SchedulersDb
from buildbot.db.sourcestamps import SourceStampsDb
from buildbot.db.state import StateDb
from buildbot.db.steps import StepsDb
from buildbot.db.tags import TagsDb
from buildbot.db.test_result_sets import TestResultSetsDb
from buildbot.db.test_results import TestResultsDb
from buildbot.db.users import UsersDb
from buildbot.db.workers import WorkersDb
from buildbot.util.service import AsyncService

log = Logger()


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
        self.db_url: str | None = None
        self._set_up = False

        pool, tables = self.pool, self.tables
        self.masters = MastersDb(pool, tables, clock)
        self.builders = BuildersDb(pool, tables, clock)
        self.tags = TagsDb(pool, tables, clock)
        self.workers = WorkersDb(pool, tables, clock)
        self.sourcestamps = SourceStampsDb(pool, tables, clock)
        self.buildsets = BuildsetsDb(pool, tables, clock, self.sourcestamps)
        self.buildrequests = BuildRequestsDb(pool, tables, clock, lambda: self.masterid)
        self.builds = BuildsDb(pool, tables, clock)
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
        self.db_url = db_url
        self.pool.configure(info.engine, info.threads)
        self._set_up = True
        try:
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

    # -- service -----------------------------------------------------------------------------
    async def stop(self) -> None:
        """Wait for background DB work, then release the threads and connections."""
        await super().stop()
        await self._close()

    async def _close(self) -> None:
        await self.logs.stop()
        if self._set_up:
            self._set_up = False
            await self.pool.stop()
