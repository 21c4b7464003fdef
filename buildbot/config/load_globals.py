"""Loaders for the site-wide keys of `BuildmasterConfig` (title, logs, db, mq, caches, www...).

Each `load_*(config, config_dict, filename)` reads its keys from the user's dict, reports
problems with `error()` (messages are the reference's, users and log watchers match them)
and stores the accepted values on the `MasterConfig`.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from buildbot.config.errors import error
from buildbot.interfaces import IRenderable
from buildbot.warnings import ConfigWarning

if TYPE_CHECKING:
    from buildbot.config.master import DBConfig, MasterConfig

TITLE_MAX_DISPLAY_LENGTH = 18

USAGE_DATA_NOTICE = (
    "`buildbotNetUsageData` is not configured and defaults to basic.\n"
    "This master never sends usage data anywhere, whatever this setting says: the key is "
    "only accepted so that configurations written for Buildbot keep working.\n"
    "Set it to None to silence this notice.\n"
)

LOG_COMPRESSION_METHODS = ("raw", "bz2", "gz", "lz4", "zstd", "br")
# Methods needing an optional library: method -> (importable module, how to get it).
_COMPRESSION_LIBRARIES = {
    "lz4": ("lz4", "the lz4 library ('pip install lz4')"),
    "zstd": ("zstandard", "the zstandard library ('pip install zstandard')"),
    "br": ("brotli", "the brotli library ('pip install brotli')"),
}

DEFAULT_VALIDATION = {
    "branch": re.compile(r"^[\w.+/~-]*$"),
    "revision": re.compile(r"^[ \w\.\-/]*$"),
    "property_name": re.compile(r"^[\w\.\-/~:]*$"),
    "property_value": re.compile(r"^[\w\.\-/~:]*$"),
}

MQ_KEYS = {"simple": {"type", "debug"}, "wamp": {"type", "router_url", "realm", "wamp_debug_level"},
           "amqp": {"type", "url", "exchange", "queue_prefix", "queue_expires",
                    "queue_max_length", "max_buffer", "prefetch", "debug"}}
DB_KEYS = {"db_url", "engine_kwargs"}

WWW_KEYS = frozenset({
    "port", "plugins", "auth", "authz", "avatar_methods", "logfileName",
    "change_hook_dialects", "change_hook_auth", "allowed_origins", "cookie_expiration_time",
    "custom_templates_dir", "debug", "default_page", "json_cache_seconds", "jsonp",
    "logRotateLength", "maxRotatedFiles", "rest_minimum_version", "ui_default_config",
    "versions", "ws_ping_interval", "project_widgets", "graphql", "theme",
    "metrics",  # ours: GET /metrics (docs/monitoring.md)
})


def library_available(module: str) -> bool:
    """True if `module` can be imported."""
    return importlib.util.find_spec(module) is not None


def default_log_compression_method() -> str:
    """'zstd' when the zstandard library is installed, else 'gz' (as the reference)."""
    return "zstd" if library_available("zstandard") else "gz"


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def load_global(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """Site identity, log settings, global properties and global callables."""
    for key in ("title", "titleURL", "buildbotURL"):
        if key in d:
            if isinstance(d[key], str):
                setattr(config, key, d[key] if key == "title" else _with_slash(d[key]))
            else:
                error(f"c['{key}'] must be a string")
    if len(config.title) > TITLE_MAX_DISPLAY_LENGTH:
        warnings.warn('WARNING: Title is too long to be displayed. "Buildbot" will be used '
                      "instead.", category=ConfigWarning, stacklevel=2)

    if "buildbotNetUsageData" not in d:
        warnings.warn(USAGE_DATA_NOTICE, category=ConfigWarning, stacklevel=2)
    else:
        usage = d["buildbotNetUsageData"]
        if usage is None or isinstance(usage, str) or callable(usage):
            config.buildbotNetUsageData = usage
        else:
            error("c['buildbotNetUsageData'] must be a string or callable")

    for key in ("changeHorizon", "logCompressionLimit"):
        if key in d:
            _set_int(config, d, key, allow_none=key == "changeHorizon")
    if "logCompressionMethod" in d:
        _load_log_compression_method(config, d["logCompressionMethod"])
    for key in ("logMaxSize", "logMaxTailSize"):
        if key in d:
            _set_int(config, d, key, allow_none=True)
    if "logEncoding" in d:
        config.logEncoding = d["logEncoding"]

    if "properties" in d:
        if isinstance(d["properties"], dict):
            config.properties.update(d["properties"], filename)
        else:
            error("c['properties'] must be a dictionary")

    if "collapseRequests" in d:
        value = d["collapseRequests"]
        if value in (None, True, False) or callable(value):
            config.collapseRequests = value
        else:
            error("collapseRequests must be a callable, True, or False")
    _set_callable(config, d, "codebaseGenerator",
                  "codebaseGenerator must be a callable accepting a dict and returning a str")
    _set_callable(config, d, "prioritizeBuilders", "prioritizeBuilders must be a callable")
    _set_callable(config, d, "select_next_worker", "select_next_worker must be a callable")

    if "protocols" in d:
        _load_protocols(config, d["protocols"])
    _set_callable(config, d, "revlink", "revlink must be a callable")

    if "multiMaster" in d:
        config.multiMaster = d["multiMaster"]
    if "masterHeartbeat" in d:
        _load_master_heartbeat(config, d["masterHeartbeat"])
    if "manhole" in d:
        config.manhole = d["manhole"]


# Masters check in every `interval` seconds; one silent for `expiry` seconds is expired by
# the others (Buildbot 4.3: 60 s and 10 minutes, fixed).
DEFAULT_MASTER_HEARTBEAT: dict[str, float] = {"interval": 5.0, "expiry": 30.0}


def _load_master_heartbeat(config: MasterConfig, value: Any) -> None:
    if not isinstance(value, dict):
        error("c['masterHeartbeat'] must be a dictionary with 'interval' and/or 'expiry'")
        return
    unknown = sorted(set(value) - set(DEFAULT_MASTER_HEARTBEAT))
    if unknown:
        error(f"c['masterHeartbeat'] has unknown keys {unknown}: "
              "only 'interval' and 'expiry' are allowed")
        return
    merged = dict(DEFAULT_MASTER_HEARTBEAT, **value)
    for key, v in merged.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            error(f"c['masterHeartbeat']['{key}'] must be a positive number of seconds")
            return
    if merged["expiry"] < 2 * merged["interval"]:
        error("c['masterHeartbeat']['expiry'] must be at least twice its 'interval' "
              "(a master would be expired between two of its own check-ins)")
        return
    config.masterHeartbeat = {k: float(v) for k, v in merged.items()}


def _set_int(config: MasterConfig, d: dict[str, Any], key: str, allow_none: bool) -> None:
    value = d[key]
    if _is_int(value) or (allow_none and value is None):
        setattr(config, key, value)
    else:
        error(f"c['{key}'] must be an int")


def _set_callable(config: MasterConfig, d: dict[str, Any], key: str, msg: str) -> None:
    if key not in d:
        return
    value: Callable[..., Any] | None = d[key]
    if value is not None and not callable(value):
        error(msg)
    else:
        setattr(config, key, value)


def _load_log_compression_method(config: MasterConfig, method: Any) -> None:
    if method not in LOG_COMPRESSION_METHODS:
        error("c['logCompressionMethod'] must be 'raw', 'bz2', 'gz', 'lz4', 'br' or 'zstd'")
        return
    needed = _COMPRESSION_LIBRARIES.get(method)
    if needed is not None and not library_available(needed[0]):
        error(f"To set c['logCompressionMethod'] to '{method}' you must install {needed[1]}")
        return
    config.logCompressionMethod = method


def _load_protocols(config: MasterConfig, protocols: Any) -> None:
    if not isinstance(protocols, dict):
        error("c['protocols'] must be dict")
        return
    # Only dict options are kept; every bad entry is reported (key first, then options).
    accepted = {p: o for p, o in protocols.items() if isinstance(o, dict)}
    for proto in protocols:
        if not isinstance(proto, str):
            error("c['protocols'] keys must be strings")
        if proto not in accepted:
            error(f"c['protocols']['{proto}'] must be a dict")
    config.protocols = accepted


def load_validation(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['validation']`: regexes applied to user input (force form, ...)."""
    if "validation" not in d:
        return
    validation = d["validation"]
    if not isinstance(validation, dict):
        error("c['validation'] must be a dictionary")
        return
    unknown = [k for k in validation if k not in DEFAULT_VALIDATION]
    if unknown:
        error(f"unrecognized validation key(s): {', '.join(map(str, unknown))}")
        return
    config.validation.update(validation)


def read_db_config(d: dict[str, Any]) -> tuple[DBConfig, str | None]:
    """The DBConfig that `c['db']` (or the older `c['db_url']`) gives, and the first problem
    with it (None if there is none). Unknown keys of `c['db']` are a problem but do not stop
    the known ones being used; a value of the wrong type gives the default settings."""
    from buildbot.config.master import DBConfig

    if "db" in d:
        db = d["db"]
        if not isinstance(db, dict):
            return DBConfig(), ("c['db'] must be a dictionary with the keys db_url and "
                                "engine_kwargs")
        url = db.get("db_url", DBConfig().db_url)
        engine_kwargs = db.get("engine_kwargs", {})
        url_key = "c['db']['db_url']"
        unknown = "unrecognized keys in c['db']" if set(db) - DB_KEYS else None
    elif "db_url" in d:
        url, engine_kwargs, url_key, unknown = d["db_url"], {}, "c['db_url']", None
    else:
        return DBConfig(), None
    if not isinstance(url, str) and not IRenderable.providedBy(url):
        return DBConfig(), unknown or (f"{url_key} must be a string (or a renderable giving "
                                       "one), such as 'sqlite:///state.sqlite'")
    if not isinstance(engine_kwargs, dict):
        return DBConfig(url), unknown or ("c['db']['engine_kwargs'] must be a dictionary of "
                                          "SQLAlchemy engine arguments")
    return DBConfig(db_url=url, engine_kwargs=engine_kwargs), unknown


def load_db(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['db']` (or the older `c['db_url']`)."""
    db, problem = read_db_config(d)
    if problem is not None:
        error(problem)
        return
    config.db = db


def load_mq(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['mq']`: the message queue implementation (`simple`, `wamp` or `amqp`) and its
    options."""
    if "mq" not in d:
        return
    given = d["mq"]
    if not isinstance(given, dict):
        error("c['mq'] must be a dictionary such as {'type': 'simple'}")
        return
    mq = {"type": "simple", **given}
    known = MQ_KEYS.get(mq["type"])
    if known is None:
        error(f"mq type '{mq['type']}' is not known")
        return
    unknown = [str(k) for k in mq if k not in known]
    if unknown:
        error(f"unrecognized keys in c['mq']: {', '.join(unknown)}")
        return
    if mq["type"] == "amqp" and not isinstance(mq.get("url"), str):
        error("c['mq']['url'] is required for the amqp mq, "
              "e.g. 'amqp://guest:guest@127.0.0.1:5672/'")
        return
    if mq["type"] == "wamp" and not check_wamp_options(mq):
        return
    config.mq = mq


def check_wamp_options(options: dict[str, Any]) -> bool:
    """Report what is wrong in the options of a wamp `c['mq']`; True if nothing is (the mq
    would otherwise only fail once the master starts)."""
    ok = True
    url = options.get("router_url")
    if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
        error("c['mq']['router_url'] is required for the wamp mq and must be a ws:// or "
              f"wss:// URL, such as 'ws://127.0.0.1:8080/ws' (got {url!r})")
        ok = False
    if not isinstance(options.get("realm", "buildbot"), str):
        error("c['mq']['realm'] must be a string, such as 'buildbot'")
        ok = False
    return ok


def load_metrics(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['metrics']`: options of the metrics service (log_interval, periodic_interval)."""
    if "metrics" not in d:
        return
    if not isinstance(d["metrics"], dict):
        error("c['metrics'] must be a dictionary")
        return
    config.metrics = d["metrics"]


def load_caches(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['caches']` and the legacy `buildCacheSize` / `changeCacheSize` aliases."""
    if "caches" in d:
        caches = d["caches"]
        if not isinstance(caches, dict):
            error("c['caches'] must be a dictionary")
        else:
            for name, size in caches.items():
                if not _is_int(size):
                    error(f"value for cache size '{name}' must be an integer")
                elif size < 1:
                    error(f"'{name}' cache size must be at least 1, got '{size}'")
                else:
                    config.caches[name] = size
    for legacy, cache in (("buildCacheSize", "Builds"), ("changeCacheSize", "Changes")):
        if legacy in d:
            if "caches" in d:
                error(f"cannot specify c['caches'] and c['{legacy}']")
            else:
                config.caches[cache] = d[legacy]


def load_www(config: MasterConfig, d: dict[str, Any], filename: str) -> None:
    """`c['www']`, merged over the defaults in `MasterConfig.www`."""
    if "www" not in d:
        return
    www = d["www"]
    if not isinstance(www, dict):
        error("c['www'] must be a dictionary, such as {'port': 8010}")
        return
    unknown = [str(k) for k in www if k not in WWW_KEYS]
    if unknown:
        error(f"unknown www configuration parameter(s) {', '.join(unknown)}")

    versions = www.get("versions")
    if versions is not None:
        valid = isinstance(versions, list) and all(
            isinstance(v, tuple) and len(v) >= 2 for v in versions)
        if not valid:
            error("Invalid www configuration value of versions")

    if "metrics" in www:
        from buildbot.util.metrics_registry import check_metrics_setting

        problem = check_metrics_setting(www["metrics"])
        if problem:
            error(problem)

    expiration = www.get("cookie_expiration_time")
    if expiration is not None and not isinstance(expiration, datetime.timedelta):
        error('Invalid www["cookie_expiration_time"] configuration should be a '
              "datetime.timedelta")

    config.www.update(www)
