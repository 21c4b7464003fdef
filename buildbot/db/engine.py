"""Turning `c['db']['db_url']` into an SQLAlchemy engine, the way Buildbot 4.3 does per dialect.

* SQLite: `%(basedir)s` is substituted and a relative path is joined to the master's basedir;
  the `serialize_access` argument is dropped. A file database runs in WAL mode with
  `checkpoint_fullfsync` off and `synchronous` NORMAL (`?synchronous=full` for an fsync per
  commit, as Buildbot 4.3 does); `sqlite://` is one shared in-memory connection.
* MySQL: `max_idle` (default 3600 s, the pool recycle time) and `storage_engine` (default
  MyISAM) URL arguments are consumed; the connection is utf8 with unicode strings.
* PostgreSQL: `postgresql://` uses psycopg 3 when installed, else psycopg2.

`make_engine` also says how many DB threads the engine can keep busy (1 for SQLite: one
writer; the connection pool size plus overflow elsewhere).
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool, StaticPool
from twisted.logger import Logger

from buildbot.db.errors import DatabaseNotReadyError

log = Logger()

DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 10
MYSQL_DEFAULT_MAX_IDLE = 3600
MYSQL_DEFAULT_STORAGE_ENGINE = "MyISAM"


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """An engine plus what the pool needs to know about it."""

    engine: sa.Engine
    threads: int
    is_memory_sqlite: bool
    is_sqlite_file: bool = False


SQLITE_SYNCHRONOUS = ("off", "normal", "full", "extra")


def _sqlite_url(url: URL, basedir: str) -> tuple[URL, bool, str]:
    database = url.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        database = database.replace("%(basedir)s", basedir)
        if not os.path.isabs(database):
            database = os.path.join(basedir, database)
    synchronous = str(url.query.get("synchronous", "normal")).lower()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise DatabaseNotReadyError(f"SQLite URL argument synchronous={synchronous} is not one "
                                    f"of {', '.join(SQLITE_SYNCHRONOUS)}")
    query = {k: v for k, v in url.query.items() if k not in ("serialize_access", "synchronous")}
    return url.set(database=None if memory else database, query=query), memory, synchronous


def _check_sqlite_version() -> None:
    version = sqlite3.sqlite_version_info
    if version < (3, 6, 19):
        raise DatabaseNotReadyError(
            f"SQLite {sqlite3.sqlite_version} is too old: Buildbot needs 3.6.19 or newer")
    if version < (3, 7, 0):
        log.warn("SQLite {v} does not support WAL mode; expect 'database is locked' errors",
                 v=sqlite3.sqlite_version)


def _setup_sqlite(engine: sa.Engine, memory: bool, synchronous: str) -> None:
    """Per-connection set-up: explicit transactions (so SAVEPOINT works), a writer lock taken
    at BEGIN on files (a reader that later writes would otherwise fail on a stale WAL
    snapshot), the reference's pragmas, and `synchronous` (default NORMAL: in WAL mode a
    commit then costs no fsync; a power cut may lose the last commits, never the file)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we send BEGIN ourselves
        if not memory:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA checkpoint_fullfsync = off")
            cur.execute(f"PRAGMA synchronous = {synchronous}")
            cur.close()

    begin_sql = "BEGIN" if memory else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            # Straight to the driver: a full SQLAlchemy execution here would cost as much
            # as the statement the transaction is for.
            try:
                conn.connection.driver_connection.execute(begin_sql)  # type: ignore[union-attr]  # driver_connection is set on a live pooled connection
            except sqlite3.OperationalError as e:  # e.g. "database is locked": retryable
                raise sa.exc.OperationalError(begin_sql, None, e) from e



def thd_enable_wal(engine: sa.Engine) -> None:
    """Switch an SQLite file database to WAL mode (failure is only logged, as in Buildbot).

    Runs on a DB thread: it may wait for another process holding the database."""
    try:
        raw = engine.raw_connection()
        try:
            # On the driver connection, which has no transaction open (see on_connect):
            # journal_mode cannot change inside one.
            mode = raw.driver_connection.execute(  # type: ignore[union-attr]  # driver_connection is set on a live pooled connection
                "PRAGMA journal_mode = wal").fetchone()[0]
        finally:
            raw.close()
    except (sqlite3.Error, sa.exc.DBAPIError) as e:
        log.warn("could not enable SQLite WAL mode: {err}", err=e)
        return
    if str(mode).lower() != "wal":
        log.warn("SQLite did not switch to WAL mode (journal_mode is {mode})", mode=mode)


def _mysql_url(url: URL, kwargs: dict[str, Any]) -> URL:
    query = dict(url.query)
    max_idle = query.pop("max_idle", None)
    storage_engine = str(query.pop("storage_engine", MYSQL_DEFAULT_STORAGE_ENGINE))
    kwargs.setdefault("pool_recycle", int(str(max_idle)) if max_idle else MYSQL_DEFAULT_MAX_IDLE)
    for key, wanted in (("charset", "utf8"), ("use_unicode", "True")):
        given = query.get(key)
        if given is not None and str(given).lower() not in (wanted.lower(), "utf8mb3") and \
                not (key == "use_unicode" and str(given).lower() in ("1", "true")):
            raise DatabaseNotReadyError(f"MySQL URL argument {key}={given} is not supported: "
                                        f"Buildbot needs {key}={wanted}")
        query.pop(key, None)
    query["charset"] = "utf8"
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("init_command", f"SET default_storage_engine={storage_engine}")
    kwargs.setdefault("pool_pre_ping", True)
    return url.set(query=query)


def _postgresql_url(url: URL) -> URL:
    if url.drivername == "postgresql":
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        url = url.set(drivername=f"postgresql+{driver}")
    return url


def make_engine(db_url: str, basedir: str, engine_kwargs: dict[str, Any] | None = None
                ) -> EngineInfo:
    """Create the engine for `db_url` (a `c['db']['db_url']`), relative to `basedir`."""
    kwargs = dict(engine_kwargs or {})
    url = make_url(db_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        _check_sqlite_version()
        url, memory, synchronous = _sqlite_url(url, basedir)
        if memory:
            kwargs.setdefault("poolclass", StaticPool)
            kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        else:
            # One DB thread, so a pooled connection per thread would never be shared;
            # keep the reference's connection-per-call only when asked for.
            kwargs.setdefault("poolclass", sa.pool.QueuePool)
            if kwargs["poolclass"] is not NullPool:
                kwargs.setdefault("pool_size", 1)
                kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = sa.create_engine(url, **kwargs)
        _setup_sqlite(engine, memory, synchronous)
        return EngineInfo(engine, 1, memory, not memory)
    if backend == "mysql":
        url = _mysql_url(url, kwargs)
    elif backend == "postgresql":
        url = _postgresql_url(url)
    kwargs.setdefault("pool_size", DEFAULT_POOL_SIZE)
    kwargs.setdefault("max_overflow", DEFAULT_MAX_OVERFLOW)
    engine = sa.create_engine(url, **kwargs)
    threads = max(1, int(kwargs["pool_size"]) + max(0, int(kwargs["max_overflow"])))
    return EngineInfo(engine, threads, False)
