"""A comparable, JSON-friendly description of a database schema, read back by reflection.

Used to freeze the schema Buildbot 4.3 creates (`reference_schema_<dialect>.json`, produced
by `python -m tests.db.schema_description`) and to compare the schema we create with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).parent


def reference_path(dialect: str) -> Path:
    """Where the frozen description of Buildbot 4.3's schema for `dialect` is stored."""
    return HERE / f"reference_schema_{dialect}.json"


def _type_name(t: Any) -> str:
    text = str(t.compile()) if not isinstance(t, sa.types.NullType) else "NULL"
    # MySQL reflection reports display widths and collations; they are not ours to choose.
    for noise in (" COLLATE \"utf8mb3_general_ci\"", " COLLATE utf8mb3_general_ci"):
        text = text.replace(noise, "")
    return text


def _default(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    # PostgreSQL reports "'0'::smallint"; keep only the literal.
    if "::" in text:
        text = text.split("::")[0]
    return text.strip("'").strip('"')


def describe(conn: sa.Connection) -> dict[str, Any]:
    """Describe every table but alembic_version: columns, primary key, indexes, FKs."""
    insp = sa.inspect(conn)
    dialect = conn.dialect.name
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        cols = [
            {
                "name": c["name"],
                "type": _type_name(c["type"]),
                "nullable": bool(c["nullable"]),
                "default": None if c.get("autoincrement") is True and c["name"] in ("id",)
                else _default(c.get("default")),
            }
            for c in insp.get_columns(table)
        ]
        indexes = []
        for ix in insp.get_indexes(table):
            entry: dict[str, Any] = {
                "name": ix["name"],
                "columns": list(ix["column_names"]),
                "unique": bool(ix["unique"]),
            }
            lengths = ix.get("dialect_options", {}).get("mysql_length")
            if lengths:
                entry["mysql_length"] = lengths if isinstance(lengths, dict) else {"*": lengths}
            indexes.append(entry)
        fks = [
            {
                "name": fk.get("name"),
                "columns": list(fk["constrained_columns"]),
                "referred_table": fk["referred_table"],
                "referred_columns": list(fk["referred_columns"]),
                "ondelete": (fk.get("options") or {}).get("ondelete"),
            }
            for fk in insp.get_foreign_keys(table)
        ]
        uniques = [
            {"name": u["name"], "columns": list(u["column_names"])}
            for u in insp.get_unique_constraints(table)
        ]
        entry_t: dict[str, Any] = {
            "columns": cols,
            "primary_key": list(insp.get_pk_constraint(table)["constrained_columns"]),
            "indexes": sorted(indexes, key=lambda i: i["name"] or ""),
            "unique_constraints": sorted(uniques, key=lambda u: u["name"] or ""),
            "foreign_keys": sorted(fks, key=lambda f: (f["columns"], f["name"] or "")),
        }
        if dialect == "mysql":
            opts = insp.get_table_options(table)
            entry_t["mysql_charset"] = opts.get("mysql_default charset")
        out[table] = entry_t
    return out


def main(argv: list[str]) -> None:
    """`python -m tests.db.schema_description DB_URL DIALECT`: freeze the schema found at DB_URL."""
    url, dialect = argv[1], argv[2]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        desc = describe(conn)
    reference_path(dialect).write_text(json.dumps(desc, indent=1, sort_keys=True) + "\n")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv)
