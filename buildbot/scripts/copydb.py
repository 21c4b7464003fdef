"""`buildbot copy-db`: copy every row of the master's database into another, empty, database.

The destination gets the current schema first; tables are copied parents first so that
foreign keys hold. Two references are cyclic (`buildsets.parent_buildid` and
`buildsets.rebuilt_buildid` point at builds, which point back through build requests): they
are written as NULL, then filled in once the builds exist.

Interrupting and running again. Rows are committed batch by batch (one transaction for a
big database would hold hours of work and, on some servers, all of it in memory), so an
interrupted copy leaves a half-filled destination. To make that safe, the destination
carries a marker table, `copy_db_progress`, for as long as the copy runs: it is created
before the first row, records the source (URL without password) and each table whose rows
are all written, and is dropped as the last step. A rerun that finds the marker of a copy
from the same source resumes it: finished tables are kept, the others are emptied
(children first) and copied again, and the cyclic columns are filled again from the
source. A destination with rows and no marker (or the marker of another source) is still
refused. The source must not change between the runs (the master stays stopped).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from twisted.python import usage

from buildbot.scripts import base
from buildbot.scripts.interruption import Interrupted, ShutdownGuard
from buildbot.scripts.progress import Progress

#: Rows read and written per batch.
CHUNK_ROWS = 10000

#: Copy order: every table after the tables its foreign keys point to.
TABLE_ORDER = (
    "buildsets", "buildset_properties", "projects", "codebases", "codebase_commits",
    "codebase_branches", "builders", "changesources", "buildrequests", "workers", "masters",
    "buildrequest_claims", "changesource_masters", "builder_masters", "configured_workers",
    "connected_workers", "patches", "sourcestamps", "buildset_sourcestamps", "changes",
    "change_files", "change_properties", "users", "users_info", "change_users", "builds",
    "build_properties", "build_data", "steps", "logs", "logchunks", "schedulers",
    "scheduler_masters", "scheduler_changes", "tags", "builders_tags", "test_result_sets",
    "test_names", "test_code_paths", "test_results", "objects", "object_state",
)
#: Columns written later because they close a reference cycle: table -> columns.
DEFERRED_COLUMNS = {"buildsets": ("parent_buildid", "rebuilt_buildid")}
#: Self-references not checked by --ignore-fk-error-rows (parents precede children by id).
UNCHECKED_COLUMNS = {"changes": ("parent_changeids",)}

#: The marker table of an unfinished copy (module docstring), and its row naming the source.
MARKER_TABLE = "copy_db_progress"
SOURCE_STEP = "*source*"


class CopyDBOptions(base.BasedirOptions):
    """Options of `buildbot copy-db`."""

    synopsis = "Usage:    buildbot copydb <destination_url> [<basedir>]"
    optFlags = [
        ["quiet", "q", "Print nothing but errors"],
        ["ignore-fk-error-rows", None,
         "Skip (and report) rows whose foreign keys point at missing rows, instead of failing"],
    ]
    longdesc = """
    Copies all data from the database the master's configuration names (c['db']) to the
    database at <destination_url>, which must be empty: it is given the current schema
    first. The source must already be at the current schema (run 'buildbot upgrade-master'
    first). Stop the master while copying. Typical use: moving from SQLite to PostgreSQL or
    MySQL, then pointing c['db'] at the new database. An interrupted copy is resumed by
    running the same command again.
    """

    def parseArgs(self, *args: str) -> None:
        if not args:
            raise usage.UsageError("incorrect number of arguments")
        self["destination_url"] = args[0]
        super().parseArgs(*args[1:])


@functools.cache
def marker_table() -> Any:
    """The `copy_db_progress` table: one row per finished table, plus the source's row
    (`step` = SOURCE_STEP, `detail` = its URL). Kept out of the master's schema on purpose:
    it exists only while a copy is unfinished."""
    import sqlalchemy as sa

    return sa.Table(MARKER_TABLE, sa.MetaData(),
                    sa.Column("step", sa.String(128), primary_key=True),
                    sa.Column("detail", sa.Text, nullable=False))


def thd_read_marker(engine: Any) -> dict[str, str] | None:
    """The marker's rows as {step: detail}, or None when no copy is in progress."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table(MARKER_TABLE):
        return None
    t = marker_table()
    with engine.connect() as conn:
        return {r.step: r.detail for r in conn.execute(sa.select(t.c.step, t.c.detail))}


def thd_begin_copy(engine: Any, source: str) -> None:
    """Create the marker, naming the source, before any row is written."""
    t = marker_table()
    with engine.begin() as conn:
        t.create(conn)
        conn.execute(t.insert().values(step=SOURCE_STEP, detail=source))


def thd_empty_unfinished(engine: Any, tables: list[Any], finished: frozenset[str]) -> None:
    """Delete the rows of every table not marked finished, children first (they may hold a
    half-copied table from the interrupted run), in one transaction."""
    with engine.begin() as conn:
        for table in reversed(tables):
            if table.name not in finished:
                conn.execute(table.delete())


def thd_end_copy(engine: Any) -> None:
    """Drop the marker: the destination is a complete copy."""
    with engine.begin() as conn:
        marker_table().drop(conn)


def thd_copy_table(src_engine: Any, dst_engine: Any, table: Any, ignore_fk_errors: bool,
                   fk_targets: set[str], known_ids: dict[str, set[Any]],
                   say: Any, rows_read: Callable[[int], None] | None = None,
                   check_stop: Callable[[], None] | None = None,
                   ) -> dict[str, list[tuple[Any, Any]]]:
    """Copy one table, streaming it in batches, then mark it finished; returns the deferred
    cycle columns' values as {column: [(id, value), ...]}. `rows_read(n)` is told each
    batch's size. `check_stop()` is called between batches (it raises to stop the copy
    there). Runs on a DB thread of the source pool."""
    import sqlalchemy as sa

    deferred_cols = DEFERRED_COLUMNS.get(table.name, ())
    unchecked = set(UNCHECKED_COLUMNS.get(table.name, ())) | set(deferred_cols)
    fk_checks = [(col.name, f"{fk.column.table.name}.{fk.column.name}")
                 for col in table.columns for fk in col.foreign_keys if col.name not in unchecked]
    pk = [c for c in table.primary_key.columns]
    serial = pk[0] if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) and \
        not pk[0].foreign_keys else None
    later: dict[str, list[tuple[Any, Any]]] = {c: [] for c in deferred_cols}
    max_id = 0

    with src_engine.connect() as src, dst_engine.connect() as dst:
        total = src.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
        result = src.execution_options(stream_results=True).execute(
            sa.select(table).order_by(*pk) if pk else sa.select(table))
        written = 0
        while chunk := result.fetchmany(CHUNK_ROWS):
            if check_stop is not None:
                check_stop()
            rows = [dict(r._mapping) for r in chunk]
            written += len(rows)
            if ignore_fk_errors:
                rows = [r for r in rows if _references_exist(table.name, r, fk_checks,
                                                             known_ids, say)]
            for row in rows:
                for col in deferred_cols:
                    if row[col] is not None:
                        later[col].append((row["id"], row[col]))
                    row[col] = None
            if serial is not None and rows:
                max_id = max(max_id, *(r[serial.name] for r in rows))
            say(f"Copying {len(chunk)} items ({written}/{total}) for {table.name} table")
            if rows:
                dst.execute(table.insert(), rows)
                dst.commit()
            if rows_read is not None:
                rows_read(len(chunk))
        if serial is not None and max_id and dst_engine.dialect.name == "postgresql":
            # explicit ids do not advance PostgreSQL's sequence; later inserts would collide
            dst.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                f"'{serial.name}'), {max_id})"))
        # every row is committed: from here a rerun keeps this table
        dst.execute(marker_table().insert().values(step=table.name, detail="copied"))
        dst.commit()
        if ignore_fk_errors:
            _remember_ids(dst, table, fk_targets, known_ids)
    return later


def _remember_ids(dst: Any, table: Any, fk_targets: set[str],
                  known_ids: dict[str, set[Any]]) -> None:
    # What the destination holds, to check the rows of the tables pointing here.
    import sqlalchemy as sa

    for col in table.columns:
        key = f"{table.name}.{col.name}"
        if key in fk_targets:
            known_ids[key] = {r[0] for r in dst.execute(sa.select(col))}


def thd_recall_table(src_engine: Any, dst_engine: Any, table: Any, ignore_fk_errors: bool,
                     fk_targets: set[str], known_ids: dict[str, set[Any]],
                     ) -> dict[str, list[tuple[Any, Any]]]:
    """For a table a previous run finished: what `thd_copy_table` would have returned (its
    cycle columns, read again from the source), and its ids for --ignore-fk-error-rows."""
    import sqlalchemy as sa

    later: dict[str, list[tuple[Any, Any]]] = {}
    with src_engine.connect() as src:
        for col in DEFERRED_COLUMNS.get(table.name, ()):
            later[col] = [(r[0], r[1]) for r in src.execute(
                sa.select(table.c.id, table.c[col]).where(table.c[col].is_not(None)))]
    if ignore_fk_errors:
        with dst_engine.connect() as dst:
            _remember_ids(dst, table, fk_targets, known_ids)
    return later


def _references_exist(table_name: str, row: dict[str, Any], fk_checks: list[tuple[str, str]],
                      known_ids: dict[str, set[Any]], say: Any) -> bool:
    for column, target in fk_checks:
        value = row.get(column)
        if value is not None and value not in known_ids.get(target, set()):
            say(f"Ignoring row from {table_name} because {column}={value} foreign key "
                f"constraint failed. Row: {repr(row)[:200]}")
            return False
    return True


def thd_fill_deferred(dst_engine: Any, table: Any, values: dict[str, list[tuple[Any, Any]]],
                      say: Any) -> None:
    """Write the cycle columns held back by `thd_copy_table` (idempotent: a rerun after an
    interruption here writes the same values again)."""
    import sqlalchemy as sa

    with dst_engine.connect() as dst:
        for column, pairs in values.items():
            q = (table.update().where(table.c.id == sa.bindparam("_id"))
                 .values({column: sa.bindparam("_value")}))
            for start in range(0, len(pairs), CHUNK_ROWS):
                batch = pairs[start:start + CHUNK_ROWS]
                say(f"Copying {len(batch)} items ({start + len(batch)}/{len(pairs)}) "
                    f"for {table.name}.{column} field")
                dst.execute(q, [{"_id": i, "_value": v} for i, v in batch])
                dst.commit()


def thd_row_count(engine: Any, tables: list[Any]) -> int:
    """Rows in all of `tables` (the total the progress lines count towards)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return sum(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0
                   for t in tables)


def thd_nonempty_tables(engine: Any, tables: list[Any]) -> list[str]:
    """Names of the tables that hold at least one row."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return [t.name for t in tables
                if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]


def ordered_tables(metadata: Any) -> list[Any]:
    """The schema's tables in TABLE_ORDER; raises if the schema has a table it lacks."""
    missing = set(metadata.tables) - set(TABLE_ORDER)
    if missing:
        raise RuntimeError(f"copy-db does not know the order of tables {sorted(missing)}")
    return [metadata.tables[name] for name in TABLE_ORDER if name in metadata.tables]


async def copy_tables(src: Any, dst: Any, ignore_fk_errors: bool, say: Any,
                      progress: Progress | None = None, finished: frozenset[str] = frozenset(),
                      check_stop: Callable[[], None] | None = None) -> None:
    """Copy every table of `src` (a set-up DBConnector) into `dst`, whose marker exists,
    skipping the `finished` ones; reports rows and tables done to `progress`."""
    tables = ordered_tables(src.tables.metadata)
    known_ids: dict[str, set[Any]] = {}
    fk_targets = {f"{fk.column.table.name}.{fk.column.name}"
                  for t in tables for c in t.columns for fk in c.foreign_keys}
    held_back: list[tuple[Any, dict[str, list[tuple[Any, Any]]]]] = []
    dst_engine = dst.pool.engine
    todo = [t for t in tables if t.name not in finished]
    if progress is not None:
        progress.total = await src.pool.run_engine(lambda engine: thd_row_count(engine, todo))
    for done, table in enumerate(tables):
        if table.name in finished:
            later = await src.pool.run_engine(
                lambda engine, t=table: thd_recall_table(engine, dst_engine, t,
                                                         ignore_fk_errors, fk_targets, known_ids))
        else:
            rows_read = None
            if progress is not None:
                progress.set_detail(f"copying {table.name}")
                progress.set_context(f"{done}/{len(tables)} tables")
                rows_read = progress.advance
            later = await src.pool.run_engine(
                lambda engine, t=table, r=rows_read: thd_copy_table(
                    engine, dst_engine, t, ignore_fk_errors, fk_targets, known_ids, say, r,
                    check_stop))
        if any(later.values()):
            held_back.append((table, later))
    if progress is not None:
        progress.close()
        progress.note(f"{len(tables)}/{len(tables)} tables copied ({progress.done} rows)")
    for table, later in held_back:
        await dst.pool.run_engine(lambda engine, t=table, v=later: thd_fill_deferred(
            engine, t, v, say))


async def prepare_destination(dst: Any, source: str) -> tuple[frozenset[str], str | None]:
    """Check the destination (schema already current) and set up its marker: returns the
    tables a previous run of the same copy finished, or an error message when the
    destination cannot be copied into."""
    tables = ordered_tables(dst.tables.metadata)
    marker = await dst.pool.run_engine(thd_read_marker)
    if marker is not None:
        previous = marker.get(SOURCE_STEP)
        if previous != source:
            return frozenset(), (
                f"the destination database holds an unfinished copy of another database "
                f"({previous}); empty it or choose another destination")
        finished = frozenset(marker) - {SOURCE_STEP}
        await dst.pool.run_engine(lambda engine: thd_empty_unfinished(engine, tables, finished))
        return finished, None
    nonempty = await dst.pool.run_engine(lambda engine: thd_nonempty_tables(engine, tables))
    if nonempty:
        return frozenset(), (f"the destination database is not empty (rows in "
                             f"{', '.join(nonempty)}); copy-db only copies into an empty "
                             "database")
    await dst.pool.run_engine(lambda engine: thd_begin_copy(engine, source))
    return frozenset(), None


async def copy_database_async(config: dict[str, Any]) -> int:
    """Do the whole of copy-db; returns the exit status."""
    from buildbot.db.connector import DBConnector
    from buildbot.db.errors import DatabaseNotReadyError

    basedir = config["basedir"]
    quiet = bool(config.get("quiet"))

    def say(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    with base.in_directory(basedir):
        master_cfg = base.load_basedir_config(config)
    if master_cfg is None:
        return 1
    src_url, engine_kwargs = base.db_config(master_cfg)
    dst_url = config["destination_url"]
    source = base.strip_url_password(str(src_url))
    say(f"Copying database ({source}) to ({base.strip_url_password(dst_url)})")
    src, dst = DBConnector(basedir), DBConnector(basedir)
    progress = Progress("copy-db", "rows", quiet=quiet)
    guard = ShutdownGuard("copy-db", "run the same command again to resume the copy", progress)
    try:
        with guard:
            try:
                await src.setup(src_url, engine_kwargs=engine_kwargs, check_version=True)
            except DatabaseNotReadyError as e:
                print(str(e))
                return 1
            await dst.setup(dst_url, engine_kwargs=engine_kwargs, check_version=False)
            await dst.upgrade()
            finished, refused = await prepare_destination(dst, source)
            if refused is not None:
                print(refused)
                return 1
            if finished:
                say(f"Resuming an interrupted copy: {len(finished)} tables already copied")
            await guard.run(copy_tables(src, dst, bool(config.get("ignore-fk-error-rows")),
                                        say, progress, finished, guard.check))
            await dst.pool.run_engine(thd_end_copy)
    except Interrupted:
        return 1  # the guard said so
    finally:
        progress.close()
        await src.stop()
        await dst.stop()
    say("Copy complete")
    return 0


def copy_database(config: dict[str, Any]) -> int:
    """Entry point of `buildbot copy-db`."""
    return base.run_in_reactor(lambda: copy_database_async(config))
