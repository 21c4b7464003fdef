"""Services a master claims: a table of named services (`id`, `name`, `name_hash`) and a
claim table naming the master running each (`<service>id`, `masterid`; one row at most
per service, the unique index deciding races between masters). Change sources and
schedulers are stored this way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from buildbot.db.base import hash_columns, thd_find_or_create


@dataclass(frozen=True)
class ClaimedServices:
    """Statements on one services table and its claim table; `thd_*` run in a transaction
    of the caller's."""

    services: sa.Table
    claims: sa.Table
    service_key: str  # the claim table's column naming the service

    @property
    def _key(self) -> sa.Column[int]:
        return self.claims.c[self.service_key]

    def thd_id_for_name(self, conn: sa.Connection, name: str) -> int:
        """The id of the service called `name`, its row created if new."""
        name_hash = hash_columns(name)
        found, _ = thd_find_or_create(conn, self.services, {"name_hash": name_hash},
                                      {"name": name, "name_hash": name_hash})
        assert found is not None
        return found

    def thd_release(self, conn: sa.Connection, service_id: int) -> None:
        conn.execute(self.claims.delete().where(self._key == service_id))

    def thd_claim(self, conn: sa.Connection, service_id: int, masterid: int) -> bool:
        """Record `masterid` as the service's master; False when some master (this one
        included) holds it already, the transaction then rolled back."""
        try:
            conn.execute(self.claims.insert().values(
                {self.service_key: service_id, "masterid": masterid}))
        except sa.exc.IntegrityError:
            conn.rollback()
            return False
        return True

    def thd_owner(self, conn: sa.Connection, service_id: int) -> int | None:
        """The id of the master holding the service, or None."""
        found = conn.execute(sa.select(self.claims.c.masterid).where(
            self._key == service_id)).scalar()
        return None if found is None else int(found)

    def listing(self, columns: Sequence[sa.Column[Any]], active: bool | None,
                masterid: int | None, service_id: int | None) -> sa.Select[Any] | None:
        """Services with their master (`masterid` column), by id: all, only held
        (`active`) or free ones, only those of `masterid`, or one (`service_id`). None
        when nothing can match (a master's services that are free)."""
        if masterid is not None and active is False:
            return None
        svc = self.services
        q = sa.select(*columns, self.claims.c.masterid).select_from(
            svc.outerjoin(self.claims, self._key == svc.c.id)).order_by(svc.c.id)
        if service_id is not None:
            q = q.where(svc.c.id == service_id)
        if masterid is not None:
            return q.where(self.claims.c.masterid == masterid)
        if active is None:
            return q
        held = self.claims.c.masterid.is_not(None)
        return q.where(held if active else sa.not_(held))
