"""What every database component shares: hashing, length rules, get-or-create, upsert,
batching and the SQL evaluation of data API query options (`ResultSpec`).

Every `thd_*` function here runs on a DB pool thread inside the caller's transaction.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql as mysql_dialect
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from buildbot.db.errors import InvalidValueError
from buildbot.db.model import Tables
from buildbot.db.pool import DbPool
from buildbot.util.resultspec import ResultSpec
from buildbot.util.timestamps import to_epoch

T = TypeVar("T")

#: Rows per IN (...) list; below every driver's bind-parameter limit.
IN_BATCH = 500

_NULL_MARK = b"\xf5"


def hash_columns(*values: Any) -> str:
    """sha1 over the values, as Buildbot stores it in `name_hash`/`ss_hash` columns.

    None is the byte 0xF5, str its UTF-8, anything else `str(value)` in UTF-8; values are
    joined with a NUL byte.
    """
    parts = []
    for v in values:
        if v is None:
            parts.append(_NULL_MARK)
        elif isinstance(v, str):
            parts.append(v.encode("utf-8"))
        else:
            parts.append(str(v).encode("utf-8"))
    return hashlib.sha1(b"\0".join(parts)).hexdigest()


def ensure_length(max_len: int, value: str) -> str:
    """Shorten `value` to fit a column of `max_len` the way Buildbot does (half kept, then
    the start of the sha1 of the whole value), so that long names stay distinct."""
    if len(value) <= max_len:
        return value
    half = max_len // 2
    return value[:half] + hashlib.sha1(value.encode("utf-8")).hexdigest()[:half]


def chunked(seq: Sequence[T], n: int = IN_BATCH) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `n` items."""
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT wrote."""
    key = result.inserted_primary_key
    assert key is not None and key[0] is not None, "INSERT returned no primary key"
    return int(key[0])


class Clock(Protocol):
    """What the database layer needs of a clock (a reactor, or `task.Clock` in tests)."""

    def seconds(self) -> float:
        """Now, in epoch seconds."""


class DbComponent:
    """Base of the `<Family>Db` classes: the pool, the tables and the clock."""

    def __init__(self, pool: DbPool, tables: Tables, clock: Clock) -> None:
        self._pool = pool
        self._tables = tables
        self._clock = clock
        self._statements: dict[tuple[str, tuple[str, ...]], sa.Update] = {}

    def _now(self) -> int:
        return int(self._clock.seconds())

    def _update_by_id(self, table: sa.Table, rowid: int, values: Mapping[str, Any]
                      ) -> tuple[sa.Update, dict[str, Any]]:
        """(statement, parameters) of `UPDATE table SET values WHERE id = rowid`.

        Statements are built once per set of columns and reused with bound parameters:
        building and cache-keying a new statement costs more than running it on SQLite.
        """
        key = (table.name, tuple(values))
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._statements[key] = table.update().where(
                table.c.id == sa.bindparam("_rowid")).values(
                {col: sa.bindparam(f"_v_{col}") for col in values})
        params = {f"_v_{col}": v for col, v in values.items()}
        params["_rowid"] = rowid
        return stmt, params

    def check_length(self, col: sa.Column[Any], value: Any) -> None:
        """Refuse a string too long for `col` (MySQL only, as in Buildbot: other engines
        either store it or fail on their own)."""
        if not self._pool.is_mysql or not isinstance(value, str):
            return
        length = getattr(col.type, "length", None)
        if length is not None and len(value) > length:
            raise InvalidValueError(
                f"value for column {col} is longer than max of {length} characters: {value!r}")


# -- writes ----------------------------------------------------------------------------------

def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table) -> Any:
    """An INSERT statement that silently skips rows violating a unique index."""
    name = conn.dialect.name
    if name == "postgresql":
        return pg_dialect.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite_dialect.insert(table).on_conflict_do_nothing()
    if name == "mysql":
        return mysql_dialect.insert(table).prefix_with("IGNORE")
    return table.insert()


def thd_find_or_create(conn: sa.Connection, table: sa.Table, where: Mapping[str, Any],
                       values: Mapping[str, Any], auto_create: bool = True,
                       id_col: str = "id") -> tuple[int | None, bool]:
    """(id, found): the id of the row matching `where`, inserting `values` when absent.

    Losing an insert race to another master returns the winner's id. One statement when the
    row exists; an INSERT that ignores duplicates, plus a SELECT if it lost, otherwise.
    """
    col = table.c[id_col]
    q = sa.select(col).where(*(table.c[k] == v for k, v in where.items()))
    found = conn.execute(q).scalar()
    if found is not None:
        return int(found), True
    if not auto_create:
        return None, False
    res = conn.execute(insert_ignoring_duplicates(conn, table).values(**values))
    if res.rowcount == 1 and res.inserted_primary_key is not None \
            and res.inserted_primary_key[0] is not None:
        return int(res.inserted_primary_key[0]), False
    winner = conn.execute(q).scalar()
    assert winner is not None, f"{table.name}: row vanished after a lost insert race"
    return int(winner), True


def thd_find_or_create_named(conn: sa.Connection, table: sa.Table, names: Iterable[str],
                             chunk: int = 500) -> dict[str, int]:
    """Ids of the rows of `table` (a `name`/`name_hash` table: builders, tags) called `names`,
    inserting the missing ones, inside the caller's transaction: one SELECT per `chunk`
    names, and for new names one multi-row INSERT ignoring duplicates plus one SELECT (a
    row another master inserted meanwhile is found by that SELECT)."""
    hashes = {hash_columns(n): n for n in names}
    found: dict[str, int] = {}

    def select(wanted: list[str]) -> None:
        for i in range(0, len(wanted), chunk):
            q = sa.select(table.c.id, table.c.name_hash).where(
                table.c.name_hash.in_(wanted[i:i + chunk]))
            for r in conn.execute(q):
                found[hashes[r.name_hash]] = int(r.id)

    select(list(hashes))
    missing = [h for h, n in hashes.items() if n not in found]
    if missing:
        conn.execute(insert_ignoring_duplicates(conn, table),
                     [{"name": hashes[h], "name_hash": h} for h in missing])
        select(missing)
    return found


def thd_upsert(conn: sa.Connection, table: sa.Table, where: Mapping[str, Any],
               update: Mapping[str, Any]) -> None:
    """Insert `where | update`, or update the existing row matching `where` (which must be
    covered by a unique index) with `update`; one statement."""
    name = conn.dialect.name
    values = {**where, **update}
    if name == "postgresql":
        pq = pg_dialect.insert(table).values(**values)
        conn.execute(pq.on_conflict_do_update(index_elements=list(where), set_=dict(update)))
    elif name == "sqlite":
        sq = sqlite_dialect.insert(table).values(**values)
        conn.execute(sq.on_conflict_do_update(index_elements=list(where), set_=dict(update)))
    elif name == "mysql":
        mq = mysql_dialect.insert(table).values(**values)
        conn.execute(mq.on_duplicate_key_update(**update))
    else:
        res = conn.execute(table.update().where(
            *(table.c[k] == v for k, v in where.items())).values(**update))
        if res.rowcount == 0:
            conn.execute(table.insert().values(**values))


# -- query options -----------------------------------------------------------------------------

def _sql_value(v: Any) -> Any:
    # Booleans are stored as 0/1 integers; PostgreSQL refuses `integer = true`. Times are
    # stored as epoch seconds: a filter on one may be given as a datetime (the type of the
    # field in data API results) or as epoch seconds (REST).
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, datetime.datetime):
        return to_epoch(v)
    return v


def _filter_clause(col: sa.ColumnElement[Any], op: str, values: list[Any]) -> Any:
    vals = [_sql_value(v) for v in values]
    if op in ("eq", "in"):
        if len(vals) == 1:
            return col.is_(None) if vals[0] is None else col == vals[0]
        return col.in_(vals)
    if op in ("ne", "notin"):
        if len(vals) == 1:
            return col.is_not(None) if vals[0] is None else sa.or_(col != vals[0], col.is_(None))
        return sa.or_(col.not_in(vals), col.is_(None))
    if op == "contains":
        return sa.or_(*(col.contains(str(v), autoescape=True) for v in vals))
    if len(vals) != 1:
        raise ValueError(f"operator {op!r} takes one value")
    v = vals[0]
    comparisons = {"lt": col < v, "le": col <= v, "gt": col > v, "ge": col >= v}
    if op not in comparisons:
        raise ValueError(f"unknown filter operator {op!r}")
    return comparisons[op]


def apply_result_spec(q: sa.Select[Any], spec: ResultSpec | None,
                      fields: Mapping[str, sa.ColumnElement[Any]],
                      dialect: str) -> sa.Select[Any]:
    """Add the filters, order, limit and offset of `spec` to `q`.

    Every filter and order field must be a key of `fields` (the data layer makes sure of it
    with `ResultSpec.split`); `None` sorts first ascending and last descending, as the
    in-memory evaluation does. Field selection is not SQL's business.
    """
    if spec is None:
        return q
    for f in spec.filters:
        q = q.where(_filter_clause(fields[f.field], f.op, f.values))
    if spec.order:
        clauses = []
        for o in spec.order:
            desc = o.startswith("-")
            col = fields[o.lstrip("-")]
            clause = col.desc() if desc else col.asc()
            # SQLite and MySQL already sort NULL lowest; PostgreSQL sorts it highest.
            if dialect == "postgresql":
                clause = clause.nulls_last() if desc else clause.nulls_first()
            clauses.append(clause)
        q = q.order_by(None).order_by(*clauses)
    if spec.limit is not None:
        q = q.limit(spec.limit)
    if spec.offset:
        q = q.offset(spec.offset)
    return q
