"""Loading master.cfg into a `MasterConfig`.

`loadConfigDict(basedir, filename)` executes the file and returns its `BuildmasterConfig`
dict; `MasterConfig.loadFromDict(d, filename)` validates every key and builds the config
object; `FileLoader(basedir, filename).loadConfig()` (or `load_master_config`) does both.
Every problem found is collected and raised at the end as one `ConfigErrors`, in the order
found: errors from constructors run by the file, unknown keys, each key's loader, then the
cross-checks.

Loading blocks (it runs user code and imports): a running master calls it in a thread.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from buildbot.config import crosschecks, load_components, load_globals
from buildbot.config.errors import ConfigErrors, capture_config_errors, error
from buildbot.interfaces import IRenderable
from buildbot.util.comparable import ComparableMixin
from buildbot.util.deferred import ensure_deferred, gather
from buildbot.util.www_settings import default_www_settings

log = Logger()

DEFAULT_DB_URL = "sqlite:///state.sqlite"

# Every key BuildmasterConfig may hold (anything else is reported as unknown).
KNOWN_CONFIG_KEYS = frozenset({
    "buildbotNetUsageData", "buildbotURL", "buildCacheSize", "builders", "caches",
    "change_source", "codebaseGenerator", "codebases", "configurators", "changeCacheSize",
    "changeHorizon", "collapseRequests", "db", "db_url", "logCompressionLimit",
    "logCompressionMethod", "logEncoding", "logMaxSize", "logMaxTailSize", "machines",
    "manhole", "masterHeartbeat", "metrics", "mq", "multiMaster", "prioritizeBuilders",
    "projects", "properties", "protocols", "revlink", "schedulers", "secretsProviders",
    "select_next_worker", "services", "title", "titleURL", "user_managers", "validation", "workers", "www",
})

# The `MasterConfig.load_*` methods, in the order their errors are reported (4.3's).
_LOAD_ORDER = (
    "load_global", "load_validation", "load_dbconfig", "load_mq", "load_metrics",
    "load_secrets", "load_caches", "load_schedulers", "load_projects", "load_codebases",
    "load_builders", "load_workers", "load_change_sources", "load_machines",
    "load_user_managers", "load_www", "load_services",
)


def _delegate_load(loader: Any, doc: str) -> Any:
    # The key loaders live in load_globals/load_components (one function per key); 4.3's
    # public methods take (filename, config_dict) and fill `self`.
    def method(self: MasterConfig, filename: str, config_dict: dict[str, Any]) -> None:
        loader(self, config_dict, filename)
    method.__doc__ = doc
    return method


def _delegate_check(check: Any) -> Any:
    def method(self: MasterConfig) -> None:
        check(self)
    method.__doc__ = check.__doc__
    return method


@implementer(IRenderable)
class DBConfig(dict[str, Any]):
    """`c['db']` after loading: a dict with `db_url` and `engine_kwargs`, also readable as
    attributes (`config.db.db_url`, as in the reference)."""

    def __init__(self, db_url: Any = DEFAULT_DB_URL,
                 engine_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(db_url=db_url, engine_kwargs=engine_kwargs or {})

    @property
    def db_url(self) -> Any:
        """The database URL (a str, or a renderable giving one)."""
        return self["db_url"]

    @property
    def engine_kwargs(self) -> dict[str, Any]:
        """Extra SQLAlchemy `create_engine` arguments."""
        kwargs: dict[str, Any] = self["engine_kwargs"]
        return kwargs

    def getRenderingFor(self, iprops: Any) -> defer.Deferred[DBConfig]:
        """A new `DBConfig` with the URL and engine arguments rendered against `iprops`
        (e.g. a URL holding an `Interpolate('%(secret:db_password)s')`)."""
        async def render() -> DBConfig:
            url, kwargs = await gather([iprops.render(self.db_url),
                                        iprops.render(self.engine_kwargs)])
            if url is self.db_url and kwargs == self.engine_kwargs:
                return self  # nothing to render: lets render() stop re-rendering the result
            return DBConfig(url, kwargs)
        return ensure_deferred(render())


def _default_revlink() -> Any:
    try:
        from buildbot.revlinks import default_revlink_matcher
    except ImportError:  # revlinks not available: changes simply get no link
        return None
    return default_revlink_matcher


def _new_properties() -> Any:
    # Imported here: the properties module is heavier and only needed once loading.
    from buildbot.process.properties import Properties

    return Properties()


class MasterConfig(ComparableMixin):
    """A validated master configuration. Attribute names are the reference's.

    Two configs are equal when every BuildmasterConfig key's value is (`compare_attrs`).

    Components are kept so that reconfiguration can match old and new by name: `workers`,
    `change_sources`, `machines`, `projects`, `codebases` are lists (in config order),
    `builders` a list of `BuilderConfig` (in config order), `schedulers` and `services` dicts
    name → object.
    """

    def __init__(self) -> None:
        self.title = "Buildbot"
        self.titleURL = "http://buildbot.net/"
        self.buildbotURL = "http://localhost:8080/"
        self.buildbotNetUsageData: Any = "basic"
        self.changeHorizon: int | None = None
        self.logCompressionLimit = 4 * 1024
        self.logCompressionMethod = load_globals.default_log_compression_method()
        self.logEncoding: Any = "utf-8"
        self.logMaxSize: int | None = None
        self.logMaxTailSize: int | None = None
        self.properties: Any = _new_properties()
        self.collapseRequests: Any = None
        self.codebaseGenerator: Any = None
        self.prioritizeBuilders: Any = None
        self.select_next_worker: Any = None
        self.revlink: Any = _default_revlink()
        self.multiMaster: Any = False
        # ours (docs/multi-master.md): check-in interval and expiry of masters, in seconds
        self.masterHeartbeat: dict[str, float] = dict(load_globals.DEFAULT_MASTER_HEARTBEAT)
        self.manhole: Any = None
        self.protocols: dict[str, dict[str, Any]] = {}
        self.validation = dict(load_globals.DEFAULT_VALIDATION)
        self.db = DBConfig()
        self.mq: dict[str, Any] = {"type": "simple"}
        self.metrics: dict[str, Any] | None = None
        self.caches: dict[str, int] = {"Builds": 15, "Changes": 10}
        self.configurators: list[Any] = []
        self.secretsProviders: list[Any] = []
        self.schedulers: dict[str, Any] = {}
        self.projects: list[Any] = []
        self.codebases: list[Any] = []
        self.builders: list[Any] = []
        self.workers: list[Any] = []
        self.change_sources: list[Any] = []
        self.machines: list[Any] = []
        self.user_managers: list[Any] = []
        self.services: dict[str, Any] = {}
        self.www: dict[str, Any] = default_www_settings()

    compare_attrs = tuple(sorted(KNOWN_CONFIG_KEYS))

    def preChangeGenerator(self, **kwargs: Any) -> dict[str, Any]:
        """The change attributes a callable `category` or `c['codebaseGenerator']` is given,
        with 4.3's defaults for those not passed."""
        from buildbot.data.changes import pre_change  # the one place this dict is built

        return pre_change(**kwargs)

    @classmethod
    def loadFromDict(cls, config_dict: dict[str, Any], filename: str) -> MasterConfig:
        """Validate `config_dict` (a BuildmasterConfig) read from `filename`.

        Raises `ConfigErrors` with every problem found. May run configurators, which
        change `config_dict` in place.
        """
        with capture_config_errors(raise_on_error=True):
            return cls._load(config_dict, filename)
        raise AssertionError("unreachable: capture_config_errors re-raises")  # for mypy

    @classmethod
    def _load(cls, config_dict: dict[str, Any], filename: str) -> MasterConfig:
        config = cls()
        unknown = sorted(str(k) for k in set(config_dict) - KNOWN_CONFIG_KEYS)
        if len(unknown) == 1:
            error(f"Unknown BuildmasterConfig key {unknown[0]}")
        elif unknown:
            error(f"Unknown BuildmasterConfig keys {', '.join(unknown)}")
        config.run_configurators(filename, config_dict)
        for name in _LOAD_ORDER:  # through the methods, so that a subclass may override one
            getattr(config, name)(filename, config_dict)
        crosschecks.run_cross_checks(config)
        return config

    @staticmethod
    def get_dbconfig_from_config(config_dict: dict[str, Any],
                                 throwErrors: bool = True) -> DBConfig:
        """The database settings of a BuildmasterConfig dict (`c['db']` or `c['db_url']`),
        without loading the rest (the CLI's database commands use it). With `throwErrors`
        a problem is a config error; without, the usable part is returned."""
        db, problem = load_globals.read_db_config(config_dict)
        if problem is not None and throwErrors:
            error(problem)
        return db

    load_global = _delegate_load(load_globals.load_global, "The scalar global keys.")
    load_validation = _delegate_load(load_globals.load_validation, "`c['validation']`.")
    load_dbconfig = _delegate_load(load_globals.load_db, "`c['db']` or `c['db_url']`.")
    load_mq = _delegate_load(load_globals.load_mq, "`c['mq']`.")
    load_metrics = _delegate_load(load_globals.load_metrics, "`c['metrics']`.")
    load_secrets = _delegate_load(load_components.load_secrets, "`c['secretsProviders']`.")
    load_caches = _delegate_load(load_globals.load_caches, "`c['caches']` and the old keys.")
    load_schedulers = _delegate_load(load_components.load_schedulers, "`c['schedulers']`.")
    load_projects = _delegate_load(load_components.load_projects, "`c['projects']`.")
    load_codebases = _delegate_load(load_components.load_codebases, "`c['codebases']`.")
    load_builders = _delegate_load(load_components.load_builders, "`c['builders']`.")
    load_workers = _delegate_load(load_components.load_workers, "`c['workers']`.")
    load_change_sources = _delegate_load(load_components.load_change_sources,
                                         "`c['change_source']`.")
    load_machines = _delegate_load(load_components.load_machines, "`c['machines']`.")
    load_user_managers = _delegate_load(load_components.load_user_managers,
                                        "`c['user_managers']`.")
    load_www = _delegate_load(load_globals.load_www, "`c['www']`.")
    load_services = _delegate_load(load_components.load_services, "`c['services']`.")

    check_single_master = _delegate_check(crosschecks.check_single_master)
    check_schedulers = _delegate_check(crosschecks.check_schedulers)
    check_locks = _delegate_check(crosschecks.check_locks)
    check_projects = _delegate_check(crosschecks.check_projects)
    check_builders = _delegate_check(crosschecks.check_builders)
    check_ports = _delegate_check(crosschecks.check_ports)
    check_machines = _delegate_check(crosschecks.check_machines)

    def check_wamp_proto(self, options: dict[str, Any]) -> None:
        """Check wamp connection options (`router_url`, `realm`). 4.3 calls this for
        `c['protocols']['wamp']` and checks nothing there; here `load_mq` calls it for a
        wamp `c['mq']`, whose options these are."""
        load_globals.check_wamp_options(options)

    def run_configurators(self, filename: str, config_dict: dict[str, Any]) -> None:
        """Let each `c['configurators']` entry change `config_dict` before it is loaded."""
        configurators = config_dict.get("configurators", [])
        if not isinstance(configurators, (list, tuple)):
            error("c['configurators'] must be a list of configurators (such as "
                  "util.JanitorConfigurator(...))")
            return
        self.configurators = list(configurators)
        for configurator in self.configurators:
            configurator.configure(config_dict)

    def __repr__(self) -> str:
        return (f"<MasterConfig {len(self.builders)} builders, {len(self.workers)} workers, "
                f"{len(self.schedulers)} schedulers>")


def loadConfigDict(basedir: str, configFileName: str) -> tuple[str, dict[str, Any]]:
    """Execute master.cfg and return `(path of the file, its BuildmasterConfig dict)`.

    The file runs with globals `basedir` and `__file__` only (so `__name__` resolves to
    'builtins'), with `basedir` appended to `sys.path` meanwhile. Raises `ConfigErrors` for
    a missing basedir or file, a file that fails, or one without a BuildmasterConfig dict.
    Errors recorded by constructors the file runs go to the active capture (see
    `FileLoader.loadConfig`); without one, the first such error is raised at once.
    """
    basedir = os.path.expanduser(basedir)
    filename = os.path.join(basedir, configFileName)
    missing = (f"basedir '{basedir}' does not exist" if not os.path.isdir(basedir) else
               f"configuration file '{filename}' does not exist"
               if not os.path.exists(filename) else None)
    if missing is not None:
        raise ConfigErrors([missing])
    try:
        # Bytes: compile() then honours a PEP 263 coding line (UTF-8 otherwise), and bad
        # bytes surface as a SyntaxError like any other mistake in the file.
        with open(filename, "rb") as f:
            source = f.read()
    except OSError as e:
        raise ConfigErrors([f"unable to open configuration file '{filename}': {e}"]) from e

    log.info("Loading configuration from '{filename}'", filename=filename)
    globals_: dict[str, Any] = {"basedir": basedir, "__file__": os.path.abspath(filename)}
    _exec_config(source, filename, basedir, globals_)
    if "BuildmasterConfig" not in globals_:
        raise ConfigErrors([
            f"Configuration file '{filename}' does not define 'BuildmasterConfig'"])
    config_dict = globals_["BuildmasterConfig"]
    if not isinstance(config_dict, dict):
        raise ConfigErrors([(
            f"Configuration file '{filename}' defines 'BuildmasterConfig' as "
            f"{type(config_dict).__name__}; it must be a dict, such as BuildmasterConfig = {{}}")])
    return filename, config_dict


def _exec_config(source: bytes, filename: str, basedir: str, globals_: dict[str, Any]) -> None:
    """Run the file's code. An exception it raises becomes a `ConfigErrors` raised at once
    (errors its constructors recorded before stay in the active capture, and come first)."""
    sys.path.append(basedir)
    try:
        code = compile(source, filename, "exec")
        # Running master.cfg is the point (the line shows in users' tracebacks: keep it plain).
        exec(code, globals_)  # noqa: S102
    except ConfigErrors:
        raise
    except SyntaxError:
        error("encountered a SyntaxError while parsing config file:\n"
              f"{traceback.format_exc()} ", always_raise=True)
    except Exception as e:  # noqa: BLE001  # any failure of user code is a config error
        log.failure("error while parsing config file:")
        error(f"error while parsing config file: {e} (traceback in logfile)", always_raise=True)
    finally:
        _remove_last(sys.path, basedir)


def _remove_last(items: list[str], value: str) -> None:
    # The file may itself have changed sys.path: remove our entry, not whatever is last.
    for i in range(len(items) - 1, -1, -1):
        if items[i] == value:
            del items[i]
            return


class FileLoader(ComparableMixin):
    """Loads and validates `configFileName` (relative to `basedir`, or absolute). Loaders
    of the same file compare equal."""

    compare_attrs = ("basedir", "configFileName")

    def __init__(self, basedir: str, configFileName: str) -> None:
        self.basedir = basedir
        self.configFileName = configFileName

    def loadConfig(self) -> MasterConfig:
        """Read, execute and validate the file; raises `ConfigErrors` listing every problem."""
        return load_master_config(self.basedir, self.configFileName)


def load_master_config(basedir: str, filename: str = "master.cfg") -> MasterConfig:
    """Read, execute and validate `filename` in `basedir` (`FileLoader(...).loadConfig()`).

    Errors recorded while the file runs and those found validating it are raised together
    as one `ConfigErrors`.
    """
    with _collector_paused(), capture_config_errors(raise_on_error=True):
        return MasterConfig.loadFromDict(*_config_and_path(basedir, filename))
    raise AssertionError("unreachable: capture_config_errors re-raises")  # for mypy


_pause_lock = threading.Lock()
_pauses = 0  # loads running now (each in a thread of its own)
_resume_collector = False  # whether the collector was on when the first of them began


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector is off while a config loads (process-wide).

    A master.cfg with thousands of builders allocates enough objects to trigger several
    full collections, each walking every object of the master (its running config
    included, at a reconfig): about half the time of loading a 10,000-builder config.
    The garbage made meanwhile is collected once the collector is back on; a collector
    turned off by someone else stays off.
    """
    global _pauses, _resume_collector
    with _pause_lock:
        if _pauses == 0:
            _resume_collector = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _resume_collector:
                gc.enable()


def _config_and_path(basedir: str, filename: str) -> tuple[dict[str, Any], str]:
    path, config_dict = loadConfigDict(basedir, filename)
    return config_dict, path


class _TestMode:
    """The reference's process-wide "running under unit tests" switch (plugins' test suites
    set it); nothing in this master reads it."""

    enabled = False


def set_is_in_unit_tests(in_tests: bool) -> None:
    """Record whether the process runs unit tests."""
    _TestMode.enabled = bool(in_tests)


def get_is_in_unit_tests() -> bool:
    """What `set_is_in_unit_tests` recorded (False by default)."""
    return _TestMode.enabled
