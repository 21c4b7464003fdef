"""The DB thread pool: every query runs here, never on the reactor thread.

`DbPool.run(fn)` calls `fn(conn)` on a pool thread inside one transaction, committed when
`fn` returns and rolled back if it raises. A lost connection or a locked SQLite database is
retried with a growing delay (1 s, x1.05 each time, for up to a day, as Buildbot does); other
driver errors become `DbOperationError` naming the operation. Errors of our own
(`buildbot.db.errors.DbError`) pass through untouched.

Thread count: 1 for SQLite (one writer), else the connection pool's size plus overflow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorFromThreads
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from buildbot.db.errors import DbError, DbOperationError
from buildbot.util.deferred import ensure_deferred
from buildbot.util.metrics_registry import DB_LATENCY, DB_TRANSACTIONS

log = Logger()

T = TypeVar("T")

# MySQL client error codes meaning "the connection is gone" (2006, 2013, 2014, 2045, 2055)
# and a deadlock (1213): the whole transaction can simply be run again.
MYSQL_RETRY_CODES = frozenset({2006, 2013, 2014, 2045, 2055, 1213})
RETRY_MESSAGES = ("Lost connection", "database is locked")


def operation_name(fn: Callable[..., Any]) -> str:
    """A readable name for a thd function: `BuildsDb.addBuild.thd_add`."""
    return getattr(fn, "__qualname__", repr(fn)).replace(".<locals>", "")


def is_retryable(err: BaseException, dialect: str) -> bool:
    """True when running the transaction again may succeed (see module docstring)."""
    if not isinstance(err, sa.exc.DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    text = str(err.orig) if err.orig is not None else str(err)
    if any(m in text for m in RETRY_MESSAGES):
        return True
    if dialect == "mysql" and err.orig is not None and err.orig.args:
        code = err.orig.args[0]
        return isinstance(code, int) and code in MYSQL_RETRY_CODES
    return False


class _DaemonThreadPool(ThreadPool):
    """A ThreadPool whose threads do not keep the process alive.

    The master stops its pool when it stops; this only matters when something forgets to
    (a crashed start-up, an embedding program, a test), where a non-daemon idle thread would
    otherwise make the interpreter hang at exit.
    """

    def threadFactory(self, *args: Any, **kwargs: Any) -> threading.Thread:  # type: ignore[override]  # Twisted's ThreadPool calls it with Thread's arguments
        thread = threading.Thread(*args, **kwargs)
        thread.daemon = True
        return thread


class DbPool:
    """Runs functions on DB threads with a connection and a transaction.

    Created unconfigured (components keep a reference to it); `configure` gives it the engine
    and starts the threads, `stop` waits for running work and releases everything.
    """

    def __init__(self, reactor: IReactorFromThreads | None = None, *,
                 retry_delay: float = 1.0, retry_factor: float = 1.05,
                 retry_max_seconds: float = 24 * 3600) -> None:
        self._reactor = reactor
        self._engine: sa.Engine | None = None
        self._threadpool: ThreadPool | None = None
        self._stopping = threading.Event()
        self.retry_delay = retry_delay
        self.retry_factor = retry_factor
        self.retry_max_seconds = retry_max_seconds
        self.dialect = ""

    # -- life cycle --------------------------------------------------------------------------
    def configure(self, engine: sa.Engine, num_threads: int, name: str = "DBThreads") -> None:
        """Use `engine` with `num_threads` threads (started now)."""
        if self._reactor is None:
            from twisted.internet import reactor  # the real one; tests may pass their own

            self._reactor = reactor
        self._engine = engine
        self.dialect = engine.dialect.name
        self._stopping.clear()
        self._threadpool = _DaemonThreadPool(minthreads=1, maxthreads=num_threads, name=name)
        self._threadpool.start()

    @property
    def engine(self) -> sa.Engine:
        """The engine (only once configured)."""
        if self._engine is None:
            raise DbError("the database is not set up yet (DBConnector.setup was not called)")
        return self._engine

    @property
    def is_mysql(self) -> bool:
        return self.dialect == "mysql"

    @property
    def num_threads(self) -> int:
        return self._threadpool.max if self._threadpool is not None else 0

    async def stop(self) -> None:
        """Stop the threads (after the work in progress) and dispose of the engine."""
        self._stopping.set()
        pool, self._threadpool = self._threadpool, None
        if pool is not None:
            # Joining threads blocks; do it off the reactor thread.
            await threads.deferToThread(pool.stop)
        if self._engine is not None:
            self._engine.dispose()

    # -- running work ------------------------------------------------------------------------
    async def run(self, fn: Callable[[sa.Connection], T]) -> T:
        """`fn(conn)` in one transaction on a DB thread; its return value (plain data)."""
        return await self._defer(self._thd_with_transaction, fn)

    def do(self, callable: Callable[..., T], *args: Any, **kwargs: Any) -> defer.Deferred[T]:
        """Buildbot's plugin-facing spelling: `callable(conn, *args, **kwargs)` in one
        transaction on a DB thread, as a Deferred (custom steps and services use it)."""
        return ensure_deferred(self.run(lambda conn: callable(conn, *args, **kwargs)))

    do_with_transaction = do

    async def run_engine(self, fn: Callable[[sa.Engine], T]) -> T:
        """`fn(engine)` on a DB thread, for work managing its own connections (no retries)."""
        return await self._defer(self._thd_with_engine, fn)

    async def _defer(self, thd: Callable[[Callable[[Any], T]], T],
                     fn: Callable[[Any], T]) -> T:
        if self._threadpool is None:
            raise DbError(f"database pool is not running (operation {operation_name(fn)})")
        assert self._reactor is not None
        # Counted here, on the reactor thread (the metrics registry has no locks).
        started = time.monotonic()
        d = threads.deferToThreadPool(self._reactor, self._threadpool, thd, fn)
        try:
            result = await d
        except BaseException:
            DB_TRANSACTIONS.inc(("error",))
            DB_LATENCY.observe(time.monotonic() - started)
            raise
        DB_TRANSACTIONS.inc(("ok",))
        DB_LATENCY.observe(time.monotonic() - started)
        return result

    def _thd_with_engine(self, fn: Callable[[sa.Engine], T]) -> T:
        try:
            return fn(self.engine)
        except DbError:
            raise
        except sa.exc.SQLAlchemyError as e:
            raise DbOperationError(operation_name(fn), e) from e

    def _thd_with_transaction(self, fn: Callable[[sa.Connection], T]) -> T:
        delay = self.retry_delay
        deadline = time.monotonic() + self.retry_max_seconds
        while True:
            try:
                with self.engine.connect() as conn:
                    result = fn(conn)
                    conn.commit()
                    return result
            except DbError:
                raise
            except sa.exc.SQLAlchemyError as e:
                op = operation_name(fn)
                if not is_retryable(e, self.dialect) or time.monotonic() + delay > deadline:
                    raise DbOperationError(op, e) from e
                log.warn("{op}: {err}; retrying in {delay:.1f}s", op=op,
                         err=getattr(e, "orig", None) or e, delay=delay)
                if self._stopping.wait(delay):
                    raise DbOperationError(op, e) from e
                delay *= self.retry_factor
