"""Site-wide keys of BuildmasterConfig: defaults, accepted values, exact error texts (§2)."""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from buildbot.config.master import DBConfig, MasterConfig, load_master_config
from buildbot.warnings import ConfigWarning

Load = Callable[[str], MasterConfig]
Errors = Callable[[str], list[str]]

MULTI = "c['multiMaster'] = True\n"


def test_defaults(load: Load) -> None:
    cfg = load(MULTI)

    assert {
        "title": cfg.title, "titleURL": cfg.titleURL, "buildbotURL": cfg.buildbotURL,
        "changeHorizon": cfg.changeHorizon, "logCompressionLimit": cfg.logCompressionLimit,
        "logCompressionMethod": cfg.logCompressionMethod, "logEncoding": cfg.logEncoding,
        "logMaxSize": cfg.logMaxSize, "logMaxTailSize": cfg.logMaxTailSize,
        "properties": cfg.properties.asDict(), "collapseRequests": cfg.collapseRequests,
        "db": cfg.db, "mq": cfg.mq, "metrics": cfg.metrics, "caches": cfg.caches,
        "protocols": cfg.protocols, "workers": cfg.workers, "builders": cfg.builders,
        "schedulers": cfg.schedulers, "services": cfg.services,
        "change_sources": cfg.change_sources, "www": cfg.www,
        "validation": sorted(cfg.validation),
    } == {
        "title": "Buildbot", "titleURL": "http://buildbot.net/",
        "buildbotURL": "http://localhost:8080/", "changeHorizon": None,
        "logCompressionLimit": 4096, "logCompressionMethod": "zstd", "logEncoding": "utf-8",
        "logMaxSize": None, "logMaxTailSize": None, "properties": {},
        "collapseRequests": None,
        "db": {"db_url": "sqlite:///state.sqlite", "engine_kwargs": {}},
        "mq": {"type": "simple"}, "metrics": None, "caches": {"Builds": 15, "Changes": 10},
        "protocols": {}, "workers": [], "builders": [], "schedulers": {}, "services": {},
        "change_sources": [],
        "www": {"port": None, "plugins": {}, "auth": None, "authz": None,
                "avatar_methods": None, "logfileName": "http.log"},
        "validation": ["branch", "property_name", "property_value", "revision"],
    }


def test_accepted_values_are_stored(load: Load, tmp_path: Path) -> None:
    cfg = load(MULTI + textwrap.dedent("""
        c['title'] = 'Proj'
        c['titleURL'] = 'http://x'
        c['buildbotURL'] = 'http://y/z'
        c['properties'] = {'a': 1}
        c['collapseRequests'] = False
        c['changeHorizon'] = 100
        c['logCompressionMethod'] = 'bz2'
        c['logMaxSize'] = 1024
        c['db_url'] = 'sqlite://'
        c['mq'] = {'debug': True}
        c['caches'] = {'Builds': 3, 'Extra': 5}
        c['www'] = {'port': 8010, 'versions': [('a', '1')]}
        c['metrics'] = {'log_interval': 5}
        c['revlink'] = len
    """))

    assert (cfg.title, cfg.titleURL, cfg.buildbotURL, cfg.properties.asDict(),
            cfg.collapseRequests, cfg.changeHorizon, cfg.logCompressionMethod, cfg.logMaxSize,
            cfg.db, cfg.db.db_url, cfg.mq, cfg.caches, cfg.www["port"], cfg.www["versions"],
            cfg.metrics, cfg.revlink) == (
        "Proj", "http://x/", "http://y/z/", {"a": (1, str(tmp_path / "master.cfg"))}, False,
        100, "bz2", 1024, DBConfig("sqlite://"), "sqlite://", {"type": "simple", "debug": True},
        {"Builds": 3, "Changes": 10, "Extra": 5}, 8010, [("a", "1")], {"log_interval": 5}, len)


def test_legacy_cache_size_keys(load: Load) -> None:
    cfg = load(MULTI + "c['buildCacheSize'] = 3\nc['changeCacheSize'] = 7\n")
    assert cfg.caches == {"Builds": 3, "Changes": 7}


def test_db_dict_and_engine_kwargs(load: Load) -> None:
    cfg = load(MULTI + "c['db'] = {'engine_kwargs': {'pool_size': 3}}\n")
    assert (cfg.db, cfg.db.engine_kwargs) == (
        {"db_url": "sqlite:///state.sqlite", "engine_kwargs": {"pool_size": 3}},
        {"pool_size": 3})


def test_wamp_mq(load: Load) -> None:
    cfg = load(MULTI + "c['mq'] = {'type': 'wamp', 'router_url': 'ws://r', 'realm': 'x',"
               " 'wamp_debug_level': 'info'}\n")
    assert cfg.mq == {"type": "wamp", "router_url": "ws://r", "realm": "x",
                      "wamp_debug_level": "info"}


def test_validation_overrides_a_default(load: Load) -> None:
    cfg = load(MULTI + "import re\nc['validation'] = {'branch': re.compile('^x$')}\n")
    assert (cfg.validation["branch"].pattern, cfg.validation["revision"].pattern) == (
        "^x$", r"^[ \w\.\-/]*$")


@pytest.mark.parametrize(("body", "expected"), [
    ("c['title'] = 3", ["c['title'] must be a string"]),
    ("c['titleURL'] = 4", ["c['titleURL'] must be a string"]),
    ("c['buildbotURL'] = 5", ["c['buildbotURL'] must be a string"]),
    ("c['buildbotNetUsageData'] = 5", ["c['buildbotNetUsageData'] must be a string or callable"]),
    ("c['properties'] = 3", ["c['properties'] must be a dictionary"]),
    ("c['collapseRequests'] = 3", ["collapseRequests must be a callable, True, or False"]),
    ("c['prioritizeBuilders'] = 3", ["prioritizeBuilders must be a callable"]),
    ("c['select_next_worker'] = 3", ["select_next_worker must be a callable"]),
    ("c['codebaseGenerator'] = 3",
     ["codebaseGenerator must be a callable accepting a dict and returning a str"]),
    ("c['revlink'] = 3", ["revlink must be a callable"]),
    ("c['changeHorizon'] = 'x'", ["c['changeHorizon'] must be an int"]),
    ("c['validation'] = 3", ["c['validation'] must be a dictionary"]),
    ("c['validation'] = {'foo': 1, 'bar': 2}", ["unrecognized validation key(s): foo, bar"]),
    ("c['metrics'] = 3", ["c['metrics'] must be a dictionary"]),
    ("c['metrics'] = None", ["c['metrics'] must be a dictionary"]),
    ("c['logCompressionLimit'] = 'x'", ["c['logCompressionLimit'] must be an int"]),
    ("c['logCompressionMethod'] = 'x'",
     ["c['logCompressionMethod'] must be 'raw', 'bz2', 'gz', 'lz4', 'br' or 'zstd'"]),
    ("c['logMaxSize'] = 'x'", ["c['logMaxSize'] must be an int"]),
    ("c['logMaxTailSize'] = 'x'", ["c['logMaxTailSize'] must be an int"]),
    ("c['db'] = {'x': 1, 'y': 2}", ["unrecognized keys in c['db']"]),
    ("c['db'] = 3", ["c['db'] must be a dictionary with the keys db_url and engine_kwargs"]),
    ("c['db_url'] = 3", [("c['db_url'] must be a string (or a renderable giving one), such as "
                         "'sqlite:///state.sqlite'")]),
    ("c['db'] = {'engine_kwargs': 3}",
     ["c['db']['engine_kwargs'] must be a dictionary of SQLAlchemy engine arguments"]),
    ("c['mq'] = {'type': 'x'}", ["mq type 'x' is not known"]),
    ("c['mq'] = {'type': 'simple', 'x': 1, 'a': 2}", ["unrecognized keys in c['mq']: x, a"]),
    ("c['mq'] = {'type': 'wamp', 'debug': 1}", ["unrecognized keys in c['mq']: debug"]),
    ("c['mq'] = 3", ["c['mq'] must be a dictionary such as {'type': 'simple'}"]),
    ("c['caches'] = 3", ["c['caches'] must be a dictionary"]),
    ("c['caches'] = {'Builds': 'x'}", ["value for cache size 'Builds' must be an integer"]),
    ("c['caches'] = {'Builds': 0}", ["'Builds' cache size must be at least 1, got '0'"]),
    ("c['caches'] = {}\nc['buildCacheSize'] = 3\nc['changeCacheSize'] = 4",
     ["cannot specify c['caches'] and c['buildCacheSize']",
      "cannot specify c['caches'] and c['changeCacheSize']"]),
    ("c['protocols'] = 3", ["c['protocols'] must be dict"]),
    ("c['protocols'] = {1: {}}", ["c['protocols'] keys must be strings"]),
    ("c['protocols'] = {'pb': 3}", ["c['protocols']['pb'] must be a dict"]),
    ("c['protocols'] = {'pb': {'port': 9989}, 'msgpack_experimental_v7': {'port': 'tcp:9989'}}",
     ["Some of ports in c['protocols'] duplicated"]),
    ("c['secretsProviders'] = 3", ["c['secretsProviders'] must be a list"]),
    ("c['secretsProviders'] = ()", ["c['secretsProviders'] must be a list"]),
    ("c['user_managers'] = 3", ["c['user_managers'] must be a list of user managers"]),
    ("c['www'] = {'foo': 1, 'bar': 2}", ["unknown www configuration parameter(s) foo, bar"]),
    ("c['www'] = 3", ["c['www'] must be a dictionary, such as {'port': 8010}"]),
    ("c['www'] = {'versions': 3}", ["Invalid www configuration value of versions"]),
    ("c['www'] = {'versions': [('a',)]}", ["Invalid www configuration value of versions"]),
    ("c['www'] = {'versions': [['a', 'b']]}", ["Invalid www configuration value of versions"]),
    ("c['www'] = {'cookie_expiration_time': 3}",
     ['Invalid www["cookie_expiration_time"] configuration should be a datetime.timedelta']),
    ("c['configurators'] = 3", [("c['configurators'] must be a list of configurators (such as "
                                "util.JanitorConfigurator(...))")]),
    ("c['foo'] = 1", ["Unknown BuildmasterConfig key foo"]),
    ("c['zz'] = 1\nc['aa'] = 2\nc['slaves'] = 3\nc['debugPassword'] = 'x'",
     ["Unknown BuildmasterConfig keys aa, debugPassword, slaves, zz"]),
])
def test_global_key_errors(errors_of: Errors, body: str, expected: list[str]) -> None:
    assert errors_of(MULTI + body + "\n") == expected


def test_log_compression_methods_needing_libraries_are_accepted_when_installed(
        load: Load) -> None:
    methods = [load(MULTI + f"c['logCompressionMethod'] = {m!r}\n").logCompressionMethod
               for m in ("raw", "gz", "bz2", "lz4", "zstd", "br")]
    assert methods == ["raw", "gz", "bz2", "lz4", "zstd", "br"]


def test_log_compression_method_needs_its_library(errors_of: Errors,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from buildbot.config import load_globals
    monkeypatch.setattr(load_globals, "library_available", lambda module: False)

    assert [errors_of(MULTI + f"c['logCompressionMethod'] = {m!r}\n")[0]
            for m in ("lz4", "zstd", "br")] == [
        ("To set c['logCompressionMethod'] to 'lz4' you must install the lz4 library "
        "('pip install lz4')"),
        ("To set c['logCompressionMethod'] to 'zstd' you must install the zstandard library "
        "('pip install zstandard')"),
        ("To set c['logCompressionMethod'] to 'br' you must install the brotli library "
        "('pip install brotli')"),
    ]


def test_www_accepts_every_known_key(load: Load) -> None:
    keys = ["port", "plugins", "auth", "authz", "avatar_methods", "logfileName", "change_hook_dialects", "change_hook_auth", "allowed_origins", "cookie_expiration_time", "custom_templates_dir", "debug", "default_page", "json_cache_seconds", "jsonp", "logRotateLength", "maxRotatedFiles", "rest_minimum_version", "ui_default_config", "versions", "ws_ping_interval", "project_widgets", "graphql", "theme"]
    cfg = load(MULTI + f"c['www'] = {{k: None for k in {keys!r}}}\n"
               "import datetime\nc['www']['cookie_expiration_time'] = datetime.timedelta(1)\n")
    assert (sorted(cfg.www), cfg.www["cookie_expiration_time"]) == (sorted(keys), timedelta(1))


def test_every_global_error_is_reported_in_loader_order(errors_of: Errors) -> None:
    errors = errors_of("""
        c['zz'] = 1
        c['title'] = 3
        c['titleURL'] = 4
        c['buildbotURL'] = 5
        c['buildbotNetUsageData'] = 5
        c['properties'] = 3
        c['collapseRequests'] = 3
        c['prioritizeBuilders'] = 3
        c['select_next_worker'] = 3
        c['codebaseGenerator'] = 3
        c['revlink'] = 3
        c['changeHorizon'] = 'x'
        c['validation'] = 3
        c['metrics'] = 3
        c['logCompressionLimit'] = 'x'
        c['logCompressionMethod'] = 'x'
        c['logMaxSize'] = 'x'
        c['logMaxTailSize'] = 'x'
        c['db'] = {'x': 1}
        c['mq'] = {'type': 'x'}
        c['caches'] = 3
        c['protocols'] = {1: {}}
        c['workers'] = 3
        c['change_source'] = 3
        c['builders'] = 3
        c['services'] = [3]
        c['secretsProviders'] = 3
        c['user_managers'] = 3
        c['machines'] = 3
        c['projects'] = 3
        c['codebases'] = 3
        c['www'] = {'foo': 1}
        c['multiMaster'] = True
    """)

    assert errors == [
        "Unknown BuildmasterConfig key zz",
        "c['title'] must be a string",
        "c['titleURL'] must be a string",
        "c['buildbotURL'] must be a string",
        "c['buildbotNetUsageData'] must be a string or callable",
        "c['changeHorizon'] must be an int",
        "c['logCompressionLimit'] must be an int",
        "c['logCompressionMethod'] must be 'raw', 'bz2', 'gz', 'lz4', 'br' or 'zstd'",
        "c['logMaxSize'] must be an int",
        "c['logMaxTailSize'] must be an int",
        "c['properties'] must be a dictionary",
        "collapseRequests must be a callable, True, or False",
        "codebaseGenerator must be a callable accepting a dict and returning a str",
        "prioritizeBuilders must be a callable",
        "select_next_worker must be a callable",
        "c['protocols'] keys must be strings",
        "revlink must be a callable",
        "c['validation'] must be a dictionary",
        "unrecognized keys in c['db']",
        "mq type 'x' is not known",
        "c['metrics'] must be a dictionary",
        "c['secretsProviders'] must be a list",
        "c['caches'] must be a dictionary",
        "c['projects'] must be a list",
        "c['codebases'] must be a list",
        "c['builders'] must be a list",
        "c['workers'] must be a list",
        "c['change_source'] must be a list of change sources",
        "c['machines'] must be a list of machines",
        "c['user_managers'] must be a list of user managers",
        "unknown www configuration parameter(s) foo",
        "<class 'int'> object should be an instance of buildbot.util.service.BuildbotService",
    ]


def test_bad_protocols_do_not_hide_the_keys_after_them(errors_of: Errors) -> None:
    # The reference stops loading globals here, so multiMaster was ignored.
    assert errors_of(MULTI + "c['protocols'] = 3\nc['revlink'] = 3\n") == [
        "c['protocols'] must be dict", "revlink must be a callable"]


def test_configurators_run_first_and_may_add_keys(load: Load) -> None:
    cfg = load("c['configurators'] = [CfgConfigurator('multiMaster', True),\n"
               "                      CfgConfigurator('title', 'Added')]\n")
    assert (cfg.title, cfg.multiMaster, len(cfg.configurators)) == ("Added", True, 2)


# -- warnings -------------------------------------------------------------------------

def load_warnings(write_cfg: Callable[[str], Path], body: str) -> list[str]:
    basedir = write_cfg(body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_master_config(str(basedir))
    return [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]


def test_no_warnings_for_a_plain_config(write_cfg: Callable[[str], Path]) -> None:
    assert load_warnings(write_cfg, MULTI) == []


def test_long_title_warns(write_cfg: Callable[[str], Path]) -> None:
    assert load_warnings(write_cfg, MULTI + "c['title'] = 'x' * 19\n") == [
        'WARNING: Title is too long to be displayed. "Buildbot" will be used instead.']


def test_missing_usage_data_key_warns_that_nothing_is_sent(
        write_cfg: Callable[[str], Path]) -> None:
    [notice] = load_warnings(write_cfg, MULTI + "del c['buildbotNetUsageData']\n")
    assert (notice.splitlines()[0], "never sends usage data" in notice) == (
        "`buildbotNetUsageData` is not configured and defaults to basic.", True)


def test_usage_data_accepts_none_strings_and_callables(load: Load) -> None:
    values = [load(MULTI + f"c['buildbotNetUsageData'] = {v}\n").buildbotNetUsageData
              for v in ("None", "'full'", "'basic'")]
    assert values == [None, "full", "basic"]
    assert callable(load(MULTI + "c['buildbotNetUsageData'] = len\n").buildbotNetUsageData)


def test_validation_patterns_match_the_reference(load: Load) -> None:
    cfg = load(MULTI)
    assert {k: v.pattern for k, v in cfg.validation.items()} == {
        "branch": r"^[\w.+/~-]*$", "revision": r"^[ \w\.\-/]*$",
        "property_name": r"^[\w\.\-/~:]*$", "property_value": r"^[\w\.\-/~:]*$"}
    assert all(isinstance(v, re.Pattern) for v in cfg.validation.values())
