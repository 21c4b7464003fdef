"""SQLAlchemy helpers of the reference's database layer.

`sa_version()` and `get_sqlite_version()` answer questions plugins ask; the query-building
helpers are internals of the reference's db layer (ours lives in `buildbot.db`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

import sqlalchemy as sa

from buildbot.util.internal import internal_class, internal_function

_WHY = "the database layer of this master builds its queries itself (buildbot.db)"
InsertFromSelect = internal_class(__name__, "InsertFromSelect", _WHY)
Table = internal_class(__name__, "Table", _WHY)
get_upsert_method = internal_function(__name__, "get_upsert_method", _WHY)
withoutSqliteForeignKeys = internal_function(__name__, "withoutSqliteForeignKeys", _WHY)


def sa_version() -> tuple[int, ...]:
    """SQLAlchemy's version as a tuple of ints, e.g. (2, 0, 36)."""
    parts = []
    for piece in sa.__version__.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def get_sqlite_version() -> tuple[int, ...]:
    """The version of the SQLite library Python links, e.g. (3, 45, 1)."""
    return sqlite3.sqlite_version_info


def hash_columns(*args: Any) -> str:
    """SHA-1 hex digest of the values (None as `\\xf5`), the reference's `*_hash` columns."""
    digest = hashlib.sha1()
    for i, value in enumerate(args):
        if i:
            digest.update(b"\0")
        digest.update(b"\xf5" if value is None else str(value).encode("utf-8"))
    return digest.hexdigest()
