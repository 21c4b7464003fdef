"""A server-side limit on how long a session may sit idle inside an open transaction.

Why: with several masters on PostgreSQL or MariaDB, a master frozen in the middle of a
transaction (SIGSTOP, a suspended VM, heavy swapping) keeps its row locks. The master that
expires it then waits on those locks when it ends the frozen master's builds RETRY and
releases its requests, so the takeover never happens. With the limit set to the heartbeat
expiry, the server aborts such a transaction and drops its locks once the frozen master
would be expired anyway; a live master never idles inside a transaction for that long.
When the frozen master resumes, its connection is gone: the write is retried on a new
connection and refused by the fencing (db.masters.thd_fence).

PostgreSQL: `idle_in_transaction_session_timeout` (ms). MariaDB 10.3+:
`idle_transaction_timeout` (s). MySQL has no such setting and SQLite has no sessions: the
limit is not applied there (docs/multi-master.md says what that means).
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from twisted.logger import Logger

log = Logger()

_APPLIED = "buildbot_stall_limit"  # key in a pooled connection's `info`: the value it has


def _statement(dialect: str, seconds: float) -> str | None:
    if dialect == "postgresql":
        return f"SET idle_in_transaction_session_timeout = {max(1, round(seconds * 1000))}"
    if dialect == "mysql":
        return f"SET SESSION idle_transaction_timeout = {max(1, math.ceil(seconds))}"
    return None


class StallLimit:
    """Keeps every pooled connection of `engine` at the wanted limit (None: server default).

    The setting is applied when a connection is checked out and its applied value differs,
    so a change (reconfig) reaches connections already in the pool without a statement per
    transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.dialect = engine.dialect.name
        self.seconds: float | None = None
        self._unsupported = _statement(self.dialect, 1.0) is None
        if not self._unsupported:
            event.listen(engine, "checkout", self._on_checkout)

    def set(self, seconds: float | None) -> None:
        self.seconds = seconds

    def _on_checkout(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        wanted = self.seconds
        if self._unsupported or record.info.get(_APPLIED) == wanted:
            return
        if wanted is None and _APPLIED not in record.info:
            return  # never set on this connection: it has the server's default
        self._apply(dbapi_conn, wanted)
        record.info[_APPLIED] = wanted

    def _apply(self, dbapi_conn: Any, seconds: float | None) -> None:
        if self.dialect == "postgresql":
            sql = (_statement(self.dialect, seconds) if seconds is not None
                   else "SET idle_in_transaction_session_timeout = DEFAULT")
            # SET is transactional on PostgreSQL: run it outside any transaction so that
            # the first rollback does not undo it.
            was = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            try:
                cur = dbapi_conn.cursor()
                cur.execute(sql)
                cur.close()
            finally:
                dbapi_conn.autocommit = was
            return
        sql = (_statement(self.dialect, seconds) if seconds is not None
               else "SET SESSION idle_transaction_timeout = DEFAULT")
        cur = dbapi_conn.cursor()
        try:
            cur.execute(sql)
        except Exception as e:  # noqa: BLE001  # MySQL: unknown variable (1193); say it once
            self._unsupported = True
            log.warn("this MySQL server has no idle_transaction_timeout ({err}): a master "
                     "frozen inside a transaction keeps its locks until it is killed",
                     err=e)
        finally:
            cur.close()
