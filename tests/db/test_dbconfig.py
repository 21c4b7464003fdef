"""util.DbConfig: values kept in the database, read by master.cfg while it loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from buildbot.db.dbconfig import DbConfig, db_url_of
from buildbot.db.migrate import thd_upgrade
from buildbot.db.model import Tables
from buildbot.plugins import util


def make_master_db(basedir: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{basedir / 'state.sqlite'}")
    with engine.begin() as conn:
        thd_upgrade(conn, Tables())
    engine.dispose()


def test_values_round_trip_through_the_database(tmp_path: Path) -> None:
    make_master_db(tmp_path)
    c = {"db": {"db_url": "sqlite:///state.sqlite"}}
    DbConfig(c, str(tmp_path)).set("workers", [{"name": "w1"}, {"name": "w2"}])

    again = DbConfig(c, str(tmp_path))
    assert again.get("workers") == [{"name": "w1"}, {"name": "w2"}]
    assert again.get("missing", "fallback") == "fallback"
    with pytest.raises(KeyError):
        again.get("missing")
    # stored where Buildbot 4.3 keeps it: object ("config", "DbConfig"), JSON text
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select o.name, o.class_name, s.name, s.value_json from objects o "
            "join object_state s on s.objectid = o.id")).all()
    engine.dispose()
    assert [(r[0], r[1], r[2], json.loads(r[3])) for r in rows] == [
        ("config", "DbConfig", "workers", [{"name": "w1"}, {"name": "w2"}])]


def test_before_the_database_exists_get_gives_the_default(tmp_path: Path) -> None:
    cfg = DbConfig({}, str(tmp_path))
    assert cfg.get("x", 3) == 3
    with pytest.raises(KeyError, match="Db not yet initialized"):
        cfg.get("x")
    cfg.set("x", 1)  # nothing to store into: ignored, as in 4.3
    assert cfg.get("x", None) is None


def test_the_url_comes_from_the_config_as_the_master_reads_it() -> None:
    assert db_url_of({"db": {"db_url": "postgresql://h/db"}}) == "postgresql://h/db"
    assert db_url_of({"db_url": "sqlite:///old.sqlite"}) == "sqlite:///old.sqlite"
    assert db_url_of({}) == "sqlite:///state.sqlite"
    assert util.DbConfig is DbConfig
