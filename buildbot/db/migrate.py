"""Creating, recognising and upgrading Buildbot databases (alembic, revisions 059 ... 067).

What a database can be, and what `upgrade` does with it:

* empty: check that unicode text and bytes survive a round trip, create every table from the
  model and stamp alembic at the head (067);
* `migrate_version` table (sqlalchemy-migrate, Buildbot < 3.0): version 58 is stamped 059 (its
  schema equals alembic's baseline) and upgraded; below 40 is Buildbot 0.8; anything else
  must go through Buildbot 2.10 first;
* `version` table: Buildbot 0.8, unsupported;
* `alembic_version` at a revision of our chain: upgraded to the head in one transaction
  (engines with transactional DDL roll everything back on failure);
* `alembic_version` at any other revision (a newer Buildbot, another application): refused,
  untouched;
* tables but none of those markers: not a Buildbot database, refused, untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from twisted.logger import Logger

from buildbot.db.errors import (
    DatabaseNotReadyError,
    UpgradeError,
    UpgradeFromBefore0p9Error,
    UpgradeFromBefore3p0Error,
)
from buildbot.db.model import HEAD_REVISION, Tables

log = Logger()

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

# alembic (a fifth of the master's import time) is imported by the functions that use it:
# starting on a current database needs none of them.

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASE_REVISION = "059"
LAST_MIGRATE_VERSION = 58


def alembic_scripts() -> ScriptDirectory:
    """Our alembic revision scripts."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(MIGRATIONS_DIR))


def known_revisions() -> list[str]:
    """Revision ids of our chain, oldest first."""
    return [s.revision for s in reversed(list(alembic_scripts().walk_revisions()))]


@dataclass(frozen=True, slots=True)
class DbState:
    """What kind of database is behind a connection.

    `kind` is one of: `empty`, `alembic` (with `revision`), `migrate` (with `migrate_version`),
    `v08`, `foreign` (with the `tables` found).
    """

    kind: str
    revision: str | None = None
    migrate_version: int | None = None
    tables: tuple[str, ...] = ()

    @property
    def is_current(self) -> bool:
        return self.kind == "alembic" and self.revision == HEAD_REVISION

    @property
    def is_known_revision(self) -> bool:
        return self.kind == "alembic" and self.revision in known_revisions()


def thd_inspect(conn: sa.Connection) -> DbState:
    """Classify the database (see `DbState`); reads only."""
    tables = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in tables:
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return DbState("alembic", revision=None if rev is None else str(rev))
    if "migrate_version" in tables:
        version = conn.execute(sa.text("SELECT version FROM migrate_version")).scalar()
        return DbState("migrate", migrate_version=None if version is None else int(version))
    if "version" in tables:
        return DbState("v08")
    if tables:
        return DbState("foreign", tables=tuple(sorted(tables)))
    return DbState("empty")


def not_ready_message(state: DbState, basedir: str) -> str:
    """What to tell the operator when the master cannot start on this database."""
    upgrade = (
        "The Buildbot database needs to be upgraded before this master can run.\n"
        "Make a backup of it, then run\n"
        f"    buildbot upgrade-master {basedir}\n"
        "and start the master again.")
    if state.kind == "alembic" and not state.is_known_revision:
        return (f"The database is at schema revision {state.revision!r}, which this Buildbot "
                f"does not know (it supports up to {HEAD_REVISION}): it was probably created by "
                "a newer Buildbot. The master will not use it.")
    if state.kind == "foreign":
        return ("The database is not a Buildbot database (it has tables "
                f"{', '.join(state.tables[:10])} but no Buildbot schema revision). "
                "Point db_url at an empty database or a Buildbot one.")
    if state.kind == "empty":
        return "The Buildbot database is empty (not initialised).\n" + upgrade
    return upgrade


def check_unicode(conn: sa.Connection) -> None:
    """Make sure the database keeps non-ASCII text and arbitrary bytes intact."""
    md = sa.MetaData()
    tbl = sa.Table("test_unicode", md, sa.Column("u", sa.Unicode(100)),
                   sa.Column("b", sa.LargeBinary))
    md.create_all(conn)
    try:
        text, blob = "Frosty the \N{SNOWMAN}", b"\xff\xff\x00"
        conn.execute(tbl.insert().values(u=text, b=blob))
        row = conn.execute(sa.select(tbl.c.u, tbl.c.b)).one()
        if row.u != text or bytes(row.b) != blob:
            raise DatabaseNotReadyError(
                "the database does not store unicode text or bytes faithfully "
                f"(wrote {text!r}/{blob!r}, read {row.u!r}/{row.b!r}); check its charset")
    finally:
        md.drop_all(conn)


def thd_create_schema(conn: sa.Connection, tables: Tables) -> None:
    """Create every table and stamp the head revision (on an empty database)."""
    check_unicode(conn)
    tables.metadata.create_all(conn)
    stamp(conn, HEAD_REVISION)


def stamp(conn: sa.Connection, revision: str) -> None:
    """Record `revision` in alembic_version without running anything."""
    from alembic.migration import MigrationContext
    MigrationContext.configure(conn).stamp(alembic_scripts(), revision)


def _run_alembic(conn: sa.Connection,
                 steps: Callable[[ScriptDirectory, Any], Iterable[Any]]) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    script = alembic_scripts()
    ctx = MigrationContext.configure(conn, opts={"fn": lambda rev, _ctx: steps(script, rev)})
    with Operations.context(ctx):
        ctx.run_migrations()


def thd_migrate_to(conn: sa.Connection, destination: str) -> None:
    """Run our alembic scripts from the stamped revision up (or down) to `destination`."""
    from alembic.migration import MigrationContext
    current = MigrationContext.configure(conn).get_current_revision()
    order = known_revisions()
    if current is not None and current not in order:
        raise UpgradeError(not_ready_message(DbState("alembic", revision=current), ""))
    if current == destination:
        return
    if current is None or order.index(destination) > order.index(current):
        _run_alembic(conn, lambda script, rev: script._upgrade_revs(destination, rev))
    else:
        _run_alembic(conn, lambda script, rev: script._downgrade_revs(destination, rev))


def thd_upgrade(conn: sa.Connection, tables: Tables) -> str:
    """Bring the database to the head revision (module docstring); returns what was done:
    `created`, `upgraded` or `current`. Raises `UpgradeError` leaving the database as it was."""
    state = thd_inspect(conn)
    if state.kind == "v08":
        raise UpgradeFromBefore0p9Error()
    if state.kind == "foreign":
        raise UpgradeError(not_ready_message(state, ""))
    if state.kind == "alembic" and not state.is_known_revision:
        raise UpgradeError(not_ready_message(state, ""))
    if state.kind == "empty":
        log.info("initialising an empty database")
        thd_create_schema(conn, tables)
        return "created"
    if state.kind == "migrate":
        version = state.migrate_version or 0
        if version < 40:
            raise UpgradeFromBefore0p9Error()
        if version != LAST_MIGRATE_VERSION:
            raise UpgradeFromBefore3p0Error()
        stamp(conn, BASE_REVISION)
        conn.execute(sa.text("DROP TABLE migrate_version"))
    elif state.is_current:
        log.info("database schema is already at the newest revision ({rev})", rev=HEAD_REVISION)
        return "current"
    log.info("upgrading the database schema to revision {rev}", rev=HEAD_REVISION)
    thd_migrate_to(conn, HEAD_REVISION)
    return "upgraded"
