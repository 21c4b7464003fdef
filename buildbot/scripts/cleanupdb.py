"""`buildbot cleanupdb`: recompress every log and compact the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from buildbot.scripts import base
from buildbot.scripts.interruption import Interrupted, ShutdownGuard
from buildbot.scripts.progress import Progress

#: The statement that gives freed space back, per SQLAlchemy dialect name.
VACUUM_STATEMENTS = {
    "sqlite": "vacuum;",
    "postgresql": "VACUUM FULL {logchunks};",
    "mysql": "OPTIMIZE TABLE {logchunks};",
}


class CleanupDBOptions(base.BasedirOptions):
    """Options of `buildbot cleanupdb`."""

    synopsis = "Usage:    buildbot cleanupdb [options] [<basedir>]"
    optFlags = [
        ["quiet", "q", "Print nothing but errors"],
        ["force", "f",
         ("Recompress every log, even those already compressed (after changing "
          "logCompressionMethod)")],
    ]
    longdesc = """
    Maintenance of the database named by the master's configuration (c['db']): every log
    is regrouped into bigger chunks and recompressed with the configured
    logCompressionMethod, then the database is compacted (VACUUM on SQLite and PostgreSQL,
    OPTIMIZE TABLE on MySQL) so that the space is given back. Stop the master first; this
    can take long on a big database.
    """


def vacuum_statement(dialect: str, logchunks_table: str = "logchunks") -> str | None:
    """The compaction statement for a dialect, or None where there is none."""
    stmt = VACUUM_STATEMENTS.get(dialect)
    return None if stmt is None else stmt.format(logchunks=logchunks_table)


async def compress_all_logs(db: Any, force: bool, quiet: bool,
                            progress: Progress | None = None,
                            check_stop: Callable[[], None] | None = None) -> None:
    """Recompress every log, printing 4.3's line on stdout each time the percentage of
    logs done changes, and `progress` lines (chunks done, logs done, bytes saved, time left)
    on stderr. `check_stop()` is called after each committed window of chunks and may
    raise to stop there (the rerun goes on from there: regrouped chunks stay regrouped)."""
    logs = await db.logs.getLogs()
    saved_total = 0
    if progress is not None:
        progress.total = await db.logs.count_chunks()

    def chunks_done(chunks: int, gain: int) -> None:
        nonlocal saved_total
        saved_total += gain
        if progress is not None:
            progress.set_detail(f"{saved_total} bytes saved")
            progress.advance(chunks, context=f"{done}/{len(logs)} logs")
        if check_stop is not None:
            check_stop()

    percent = saved = 0
    for done, log in enumerate(logs):
        gain = await db.logs.compressLog(log.id, force=force, chunks_done=chunks_done)
        saved += gain
        now = (done + 1) * 100 // len(logs)
        if now != percent:
            percent = now
            if not quiet:
                print(f" {percent}%  {saved} saved", flush=True)
            saved = 0


async def vacuum(db: Any, quiet: bool, progress: Progress | None = None) -> None:
    """Run the dialect's compaction statement outside any transaction."""
    dialect = db.pool.engine.dialect.name
    stmt = vacuum_statement(dialect)
    if stmt is None:
        return
    if not quiet:
        print(f"executing vacuum operation '{stmt}'...", flush=True)
    if progress is not None:  # the database reports nothing while it compacts
        progress.note("compacting the database; this can take long and shows no progress")

    def thd_vacuum(engine: Any) -> None:
        # VACUUM refuses to run inside a transaction, and the engine's connections open one
        # for every statement (SQLite: an explicit BEGIN): use a driver connection in its
        # autocommit mode, and discard it afterwards rather than pool it in that mode.
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            if dialect == "sqlite":
                driver.isolation_level = None
            elif dialect == "postgresql":
                driver.autocommit = True
            elif dialect == "mysql":
                driver.autocommit(True)
            cursor = raw.cursor()
            cursor.execute(stmt)
            cursor.close()
        finally:
            raw.invalidate()

    await db.pool.run_engine(thd_vacuum)


async def cleanup_database(config: dict[str, Any], master_cfg: Any) -> None:
    """Open the configured database, recompress the logs and compact it. Raises
    `Interrupted` when stopped by a signal while recompressing."""
    from buildbot.db.connector import DBConnector

    db_url, engine_kwargs = base.db_config(master_cfg)
    quiet = bool(config.get("quiet"))
    base.emit(config, f"cleaning database ({base.strip_url_password(str(db_url))})")
    db = DBConnector(config["basedir"])
    progress = Progress("cleanupdb", "chunks", quiet=quiet)
    guard = ShutdownGuard("cleanupdb", "what is done is kept; run the same command again to "
                          "finish", progress)

    async def recompress() -> None:
        try:
            await db.setup(db_url, engine_kwargs=engine_kwargs, check_version=True)
            # recompress with the configured codec, as the master would
            db.logs.configure(compression_method=master_cfg.logCompressionMethod,
                              max_size=master_cfg.logMaxSize,
                              max_tail_size=master_cfg.logMaxTailSize)
            await compress_all_logs(db, bool(config.get("force")), quiet, progress,
                                    guard.check)
        finally:
            progress.close()
            # the compression threads would keep an interrupted process alive
            await db.logs.stop()

    try:
        with guard:
            await guard.run(recompress())
        # Not guarded: an interrupted VACUUM is rolled back by the database itself, and
        # waiting for it could take as long as letting it finish.
        await vacuum(db, quiet, progress)
    finally:
        await db.stop()


async def cleanup_database_async(config: dict[str, Any]) -> int:
    """Do the whole of cleanupdb; returns the exit status."""
    with base.in_directory(config["basedir"]):
        master_cfg = base.load_basedir_config(config)
        if master_cfg is None:
            return 1
        from buildbot.db.errors import DatabaseNotReadyError

        try:
            await cleanup_database(config, master_cfg)
        except DatabaseNotReadyError as e:
            print(str(e))
            return 1
        except Interrupted:
            return 1  # the guard said so
    base.emit(config, "cleanup complete")
    return 0


def cleanupDatabase(config: dict[str, Any]) -> int:
    """Entry point of `buildbot cleanupdb`."""
    return base.run_in_reactor(lambda: cleanup_database_async(config))
