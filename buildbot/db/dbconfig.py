"""`util.DbConfig`: settings kept in the master's database, read by master.cfg itself.

A configuration can keep values (a list of workers, a feature flag...) in the database so that
every master of a cluster loads the same ones: `DbConfig(BuildmasterConfig, basedir).get(name)`
in master.cfg. It runs while the configuration loads, before the reactor and the master's own
database service exist, so it uses a short-lived engine of its own and blocking calls.

Values live in `object_state` under the object (name, "DbConfig"), as in Buildbot 4.3, so a
value stored by 4.3 is found again. Before the database is created (`buildbot create-master`
or `upgrade-master` not run yet) `get` answers its default, or KeyError without one, and
`set` does nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from twisted.logger import Logger

from buildbot.db.base import ensure_length, thd_find_or_create, thd_upsert
from buildbot.db.engine import make_engine
from buildbot.db.model import Tables
from buildbot.db.state import NO_DEFAULT, OBJECT_NAME_LENGTH, STATE_NAME_LENGTH

log = Logger()

# The master's own default (config.master.DEFAULT_DB_URL; db may not import config).
_DEFAULT_DB_URL = "sqlite:///state.sqlite"


def db_url_of(master_config: Mapping[str, Any]) -> Any:
    """The database URL a BuildmasterConfig dict names: `c['db']['db_url']`, the older
    `c['db_url']`, or the master's default."""
    db = master_config.get("db")
    if isinstance(db, Mapping) and "db_url" in db:
        return db["db_url"]
    return master_config.get("db_url", _DEFAULT_DB_URL)


class DbConfig:
    """`DbConfig(BuildmasterConfig, basedir, name="config")`: `get(name[, default])` and
    `set(name, value)` on JSON values stored in the master's database."""

    def __init__(self, BuildmasterConfig: Mapping[str, Any], basedir: str,
                 name: str = "config") -> None:
        self.db_url = db_url_of(BuildmasterConfig)
        self.basedir = basedir
        self.name = name
        self._tables = Tables()

    @contextmanager
    def _connection(self) -> Iterator[tuple[sa.Connection, int] | None]:
        """A connection and our object id, or None while there is no usable database (a
        malformed URL is reported by the master's own db settings check, not here)."""
        try:
            engine = make_engine(str(self.db_url), self.basedir).engine
        except Exception as e:  # noqa: BLE001 - see the docstring: reported elsewhere, logged here
            # Only the error's type: its text may quote the URL, password included.
            log.debug("DbConfig {name}: no usable database ({err})", name=self.name,
                      err=type(e).__name__)
            yield None
            return
        try:
            with engine.connect() as conn:
                try:
                    objectid, _ = thd_find_or_create(
                        conn, self._tables.objects,
                        {"name": ensure_length(OBJECT_NAME_LENGTH, self.name),
                         "class_name": "DbConfig"},
                        {"name": ensure_length(OBJECT_NAME_LENGTH, self.name),
                         "class_name": "DbConfig"})
                except (sa.exc.OperationalError, sa.exc.ProgrammingError):
                    # no tables yet (SQLite says OperationalError, the others ProgrammingError)
                    conn.rollback()
                    yield None
                    return
                assert objectid is not None
                yield conn, objectid
                conn.commit()
        finally:
            engine.dispose()

    def get(self, name: str, default: Any = NO_DEFAULT) -> Any:
        with self._connection() as found:
            if found is None:
                if default is NO_DEFAULT:
                    raise KeyError("Db not yet initialized")
                return default
            conn, objectid = found
            t = self._tables.object_state
            text = conn.execute(sa.select(t.c.value_json).where(
                t.c.objectid == objectid,
                t.c.name == ensure_length(STATE_NAME_LENGTH, name))).scalar()
        if text is None:
            if default is NO_DEFAULT:
                raise KeyError(f"no such state value '{name}' for object {objectid}")
            return default
        return json.loads(text)

    def set(self, name: str, value: Any) -> None:
        text = json.dumps(value)
        with self._connection() as found:
            if found is None:
                return
            conn, objectid = found
            thd_upsert(conn, self._tables.object_state,
                       {"objectid": objectid, "name": ensure_length(STATE_NAME_LENGTH, name)},
                       {"value_json": text})
