"""`buildbot copy-db`: copy every row of the master's database into another, empty, database.

The destination gets the current schema first; tables are copied parents first so that
foreign keys hold. Two references are cyclic (`buildsets.parent_buildid` and
`buildsets.rebuilt_buildid` point at builds, which point back through build requests): they
are written as NULL, then filled in once the builds exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from twisted.python import usage

from buildbot.scripts import base
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
    MySQL, then pointing c['db'] at the new database.
    """

    def parseArgs(self, *args: str) -> None:
        if not args:
            raise usage.UsageError("incorrect number of arguments")
        self["destination_url"] = args[0]
        super().parseArgs(*args[1:])


def thd_copy_table(src_engine: Any, dst_engine: Any, table: Any, ignore_fk_errors: bool,
                   fk_targets: set[str], known_ids: dict[str, set[Any]],
                   say: Any, rows_read: Callable[[int], None] | None = None,
                   ) -> dict[str, list[tuple[Any, Any]]]:
    """Copy one table, streaming it in batches; returns the deferred cycle columns' values
    as {column: [(id, value), ...]}. `rows_read(n)` is told each batch's size. Runs on a
    DB thread of the source pool."""
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
            if rows_read is not None:
                rows_read(len(chunk))
            if rows:
                dst.execute(table.insert(), rows)
                dst.commit()
        if serial is not None and max_id and dst_engine.dialect.name == "postgresql":
            # explicit ids do not advance PostgreSQL's sequence; later inserts would collide
            dst.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                f"'{serial.name}'), {max_id})"))
            dst.commit()
        if ignore_fk_errors:
            # remember what was copied, to check the rows of the tables pointing here
            for col in table.columns:
                key = f"{table.name}.{col.name}"
                if key in fk_targets:
                    known_ids[key] = {r[0] for r in dst.execute(sa.select(col))}
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
    """Write the cycle columns held back by `thd_copy_table`."""
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


async def copy_tables(src: Any, dst: Any, ignore_fk_errors: bool, say: Any,
                      progress: Progress | None = None) -> None:
    """Copy every table of `src` (a set-up DBConnector) into `dst`, reporting rows and
    tables done to `progress`."""
    metadata = src.tables.metadata
    missing = set(metadata.tables) - set(TABLE_ORDER)
    if missing:
        raise RuntimeError(f"copy-db does not know the order of tables {sorted(missing)}")
    tables = [metadata.tables[name] for name in TABLE_ORDER if name in metadata.tables]
    known_ids: dict[str, set[Any]] = {}
    fk_targets = {f"{fk.column.table.name}.{fk.column.name}"
                  for t in tables for c in t.columns for fk in c.foreign_keys}
    held_back: list[tuple[Any, dict[str, list[tuple[Any, Any]]]]] = []
    dst_engine = dst.pool.engine
    if progress is not None:
        progress.total = await src.pool.run_engine(lambda engine: thd_row_count(engine, tables))
    for done, table in enumerate(tables):
        rows_read = None
        if progress is not None:
            progress.set_detail(f"copying {table.name}")
            context = f"{done}/{len(tables)} tables"
            rows_read = functools.partial(progress.advance, context=context)
        later = await src.pool.run_engine(
            lambda engine, t=table, r=rows_read: thd_copy_table(
                engine, dst_engine, t, ignore_fk_errors, fk_targets, known_ids, say, r))
        if later:
            held_back.append((table, later))
    if progress is not None:
        progress.note(f"{len(tables)}/{len(tables)} tables copied ({progress.done} rows)")
    for table, later in held_back:
        await dst.pool.run_engine(lambda engine, t=table, v=later: thd_fill_deferred(
            engine, t, v, say))


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
    say(f"Copying database ({base.strip_url_password(str(src_url))}) to "
        f"({base.strip_url_password(dst_url)})")
    src, dst = DBConnector(basedir), DBConnector(basedir)
    try:
        try:
            await src.setup(src_url, engine_kwargs=engine_kwargs, check_version=True)
        except DatabaseNotReadyError as e:
            print(str(e))
            return 1
        await dst.setup(dst_url, engine_kwargs=engine_kwargs, check_version=False)
        await dst.upgrade()
        tables = list(dst.tables.metadata.tables.values())
        nonempty = await dst.pool.run_engine(lambda engine: thd_nonempty_tables(engine, tables))
        if nonempty:
            print(f"the destination database is not empty (rows in {', '.join(nonempty)}); "
                  "copy-db only copies into an empty database")
            return 1
        progress = Progress("copy-db", "rows", quiet=quiet)
        await copy_tables(src, dst, bool(config.get("ignore-fk-error-rows")), say, progress)
    finally:
        await src.stop()
        await dst.stop()
    say("Copy complete")
    return 0


def copy_database(config: dict[str, Any]) -> int:
    """Entry point of `buildbot copy-db`."""
    return base.run_in_reactor(lambda: copy_database_async(config))
