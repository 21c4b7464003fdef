"""4.3's public methods of MasterConfig, FileLoader and DBConfig (issue 12): per-key
loaders and cross-checks callable and overridable, equality, DB settings on their own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_twisted

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.config.master import DBConfig, FileLoader, MasterConfig, loadConfigDict
from buildbot.process.properties import Interpolate, Properties

from tests.config.conftest import GOOD_SETUP

Load = Callable[[str], MasterConfig]


def _errors(fn: Callable[[], None]) -> list[str]:
    with pytest.raises(ConfigErrors) as exc:
        with capture_config_errors(raise_on_error=True):
            fn()
    return list(exc.value.errors)


def test_each_load_method_fills_its_key_only() -> None:
    config = MasterConfig()
    config.load_global("master.cfg", {"title": "T", "buildbotNetUsageData": None})
    config.load_caches("master.cfg", {"caches": {"Changes": 3}})
    config.load_dbconfig("master.cfg", {"db_url": "sqlite:///x.sqlite"})
    config.load_mq("master.cfg", {"mq": {"type": "simple", "debug": True}})
    assert (config.title, config.caches["Changes"], config.db.db_url, config.mq) == (
        "T", 3, "sqlite:///x.sqlite", {"type": "simple", "debug": True})


def test_load_from_dict_goes_through_overridden_load_methods(
        write_cfg: Callable[[str], Path]) -> None:
    seen: list[str] = []

    class Recording(MasterConfig):
        def load_www(self, filename: str, config_dict: dict) -> None:
            seen.append(filename)
            super().load_www(filename, config_dict)

        def check_ports(self) -> None:
            seen.append("ports")

    basedir = write_cfg(GOOD_SETUP)
    filename, d = loadConfigDict(str(basedir), "master.cfg")
    config = Recording.loadFromDict(d, filename)
    assert isinstance(config, Recording) and seen == [filename, "ports"]


def test_check_methods_report_the_cross_check_errors() -> None:
    config = MasterConfig()
    assert _errors(config.check_single_master) == [
        "no workers are configured", "no builders are configured"]
    config.check_schedulers()  # no schedulers: nothing to report


def test_check_wamp_proto_requires_a_websocket_router_url() -> None:
    config = MasterConfig()
    assert _errors(lambda: config.check_wamp_proto({"type": "wamp", "realm": 3})) == [
        "c['mq']['router_url'] is required for the wamp mq and must be a ws:// or wss:// "
        "URL, such as 'ws://127.0.0.1:8080/ws' (got None)",
        "c['mq']['realm'] must be a string, such as 'buildbot'"]
    config.check_wamp_proto({"type": "wamp", "router_url": "wss://r/ws"})
    assert len(_errors(lambda: config.load_mq("f", {"mq": {"type": "wamp"}}))) == 1
    assert config.mq == {"type": "simple"}


def test_get_dbconfig_from_config_reads_db_alone() -> None:
    get = MasterConfig.get_dbconfig_from_config
    assert get({}) == DBConfig()
    assert get({"db_url": "sqlite:///a"}) == DBConfig("sqlite:///a")
    assert get({"db": {"db_url": "sqlite:///b", "engine_kwargs": {"echo": True}}}) == \
        DBConfig("sqlite:///b", {"echo": True})
    odd = {"db": {"db_url": "sqlite:///c", "bogus": 1}}
    assert get(odd, throwErrors=False) == DBConfig("sqlite:///c")
    with pytest.raises(ConfigErrors, match="unrecognized keys in c\\['db'\\]"):
        get(odd)


@pytest_twisted.ensureDeferred
async def test_dbconfig_renders_its_url_and_engine_arguments() -> None:
    props = Properties(pw="s3cret", size=5)
    db = DBConfig(Interpolate("postgresql://bb:%(prop:pw)s@db/bb"),
                  {"pool_size": Interpolate("%(prop:size)s")})
    rendered = await db.getRenderingFor(props)
    assert isinstance(rendered, DBConfig)
    assert (rendered.db_url, rendered.engine_kwargs) == (
        "postgresql://bb:s3cret@db/bb", {"pool_size": "5"})
    assert await props.render(DBConfig("sqlite:///x")) == DBConfig("sqlite:///x")


def test_master_configs_compare_by_their_keys() -> None:
    a, b = MasterConfig(), MasterConfig()
    assert a == b and MasterConfig.isEquivalent(a, b)
    b.title = "other"
    assert a != b
    assert b.getConfigDict()["title"] == "other"
    assert "builders" in MasterConfig.compare_attrs


def test_file_loaders_compare_by_file() -> None:
    assert FileLoader("/m", "master.cfg") == FileLoader("/m", "master.cfg")
    assert FileLoader("/m", "master.cfg") != FileLoader("/m", "other.cfg")
    assert FileLoader("/m", "a.cfg").getConfigDict() == {
        "basedir": "/m", "configFileName": "a.cfg"}


def test_pre_change_generator_fills_4_3_defaults() -> None:
    assert MasterConfig().preChangeGenerator(author="me", files=["a"]) == {
        "author": "me", "files": ["a"], "comments": None, "revision": None,
        "when_timestamp": None, "branch": None, "category": None, "revlink": "",
        "properties": {}, "repository": "", "project": "", "codebase": None}
