"""Shared pieces of the `buildbot` subcommands.

- option classes: `SubcommandOptions` (defaults from `.buildbot/options`, required options) and
  `BasedirOptions` (one optional positional basedir);
- basedir checks (`is_buildmaster_dir`, `check_basedir`, `check_pid_file`);
- reading `buildbot.tac` and loading the master configuration with the CLI's messages;
- `run_in_reactor`, which runs a command's coroutine under the reactor and turns any
  unexpected exception into a printed traceback and exit status 1.

This module stays light (stdlib and `twisted.python` only at import time) so that
`buildbot --help` and the option parsing never pull in the reactor, SQLAlchemy or the master.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from twisted.python import usage

if TYPE_CHECKING:
    from buildbot.config.master import MasterConfig

#: The text by which the CLI recognises a buildmaster's `buildbot.tac`.
TAC_MARKER = "Application('buildmaster')"

#: How many parent directories `.buildbot/options` is searched in, at most.
OPTIONS_SEARCH_DEPTH = 20


class BusyError(RuntimeError):
    """A live process owns the basedir's pid file."""


def emit(config: dict[str, Any], *lines: str) -> None:
    """Print each line unless the command runs with `--quiet`."""
    if not config.get("quiet"):
        for line in lines:
            print(line)


# --------------------------------------------------------------------------------------------
# option classes


def load_options_file(here: str | None = None, home: str | None = None) -> dict[str, Any]:
    """Execute the first `.buildbot/options` file found and return its public names.

    Searched in `<here>/.buildbot`, then each parent directory (at most
    `OPTIONS_SEARCH_DEPTH` levels), then `~/.buildbot`. Directories owned by someone else
    are skipped with a notice: the file is Python code and would run as the current user.
    A file that fails to execute is a usage error naming the file.
    """
    here = os.path.abspath(here or os.getcwd())
    candidates: list[str] = []
    for _ in range(OPTIONS_SEARCH_DEPTH + 1):
        candidates.append(os.path.join(here, ".buildbot"))
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    candidates.append(home or os.path.expanduser("~/.buildbot"))

    names: dict[str, Any] = {}
    for directory in candidates:
        if not os.path.isdir(directory):
            continue
        if hasattr(os, "getuid") and os.stat(directory)[stat.ST_UID] != os.getuid():
            print(f"skipping {directory} because you don't own it")
            continue
        optfile = os.path.join(directory, "options")
        if not os.path.exists(optfile):
            continue
        try:
            with open(optfile, encoding="utf-8") as f:
                source = f.read()
            exec(compile(source, optfile, "exec"), names)  # noqa: S102  # the user's own file
        except Exception as e:
            raise usage.UsageError(f"error while reading {optfile}: {e!r}") from e
        break
    return {k: v for k, v in names.items() if not k.startswith("__")}


class SubcommandOptions(usage.Options):
    """Options of one subcommand.

    Class attributes a subcommand sets:
    - `synopsis`: the "Usage: ..." line printed by `--help` and after usage errors;
    - `options_file_names`: `(name in .buildbot/options, parameter)` pairs; the file's value
      becomes the parameter's default (shown as such by `--help`). Earlier pairs win when two
      names feed one parameter. Only valued parameters, not flags, can be defaulted this way;
    - `required_options`: parameters that must end up not None.
    """

    synopsis: ClassVar[str] = ""
    #: Text printed by --help after the options (whitespace is normalised).
    longdesc: ClassVar[str] = ""
    options_file_names: ClassVar[Sequence[tuple[str, str]]] = ()
    required_options: ClassVar[Sequence[str]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.longdesc = " ".join(cls.longdesc.split())

    def __init__(self) -> None:
        super().__init__()  # Twisted's Options is unannotated
        self.options_file: dict[str, Any] = {}
        if self.options_file_names:
            self.options_file = load_options_file()
            applied: set[str] = set()
            for file_name, param in self.options_file_names:
                if param in applied or file_name not in self.options_file:
                    continue
                if param in self.defaults:
                    self[param] = self.defaults[param] = self.options_file[file_name]
                    applied.add(param)

    def getSynopsis(self) -> str:
        return self.synopsis or super().getSynopsis()

    def postOptions(self) -> None:
        missing = [name for name in self.required_options if self.get(name) is None]
        if len(missing) == 1:
            raise usage.UsageError(f"Required argument missing: {missing[0]}")
        if missing:
            raise usage.UsageError("Required arguments missing: " + ", ".join(missing))


class BasedirOptions(SubcommandOptions):
    """A subcommand taking one optional basedir argument (default: the current directory).

    After parsing, `self['basedir']` is absolute with `~` expanded.
    """

    def parseArgs(self, *args: str) -> None:
        if len(args) > 1:
            raise usage.UsageError("I wasn't expecting so many arguments")
        self["basedir"] = args[0] if args else os.getcwd()

    def postOptions(self) -> None:
        super().postOptions()
        self["basedir"] = os.path.abspath(os.path.expanduser(self["basedir"]))


def validate_master_option(master: Any) -> tuple[str, int]:
    """Check a `host:port` option and return it split; a usage error otherwise."""
    try:
        host, port = master.split(":")
        return host, int(port)
    except (AttributeError, TypeError, ValueError) as e:
        raise usage.UsageError("master must have the form 'hostname:port'") from e


# --------------------------------------------------------------------------------------------
# basedir checks


def is_buildmaster_dir(basedir: str) -> bool:
    """True if `basedir` holds a buildmaster's `buildbot.tac`; else print why and return False."""
    problem = _tac_problem(os.path.join(basedir, "buildbot.tac"))
    if problem is not None:
        print(f"{problem}\ninvalid buildmaster directory '{basedir}'")
    return problem is None


def _tac_problem(tac: str) -> str | None:
    """Why `tac` is not a buildmaster's tac file (unreadable, or made for something else)."""
    try:
        contents = Path(tac).read_text(encoding="utf-8")
    except OSError as e:
        return f"error reading '{tac}': {e.strerror}"
    return None if TAC_MARKER in contents else f"unexpected content in '{tac}'"


def read_pid_file(pidfile: str) -> int | None:
    """The pid recorded in `pidfile`, or None if the file is missing or unreadable.

    Raises ValueError when the file holds something other than a number.
    """
    try:
        with open(pidfile, encoding="utf-8") as f:
            text = f.read().strip()
    except OSError:
        return None
    try:
        return int(text)
    except ValueError as e:
        raise ValueError(f"Pidfile {pidfile} contains non-numeric value") from e


def process_exists(pid: int) -> bool:
    """True if a live process has this pid (even one owned by another user).

    A zombie (exited, not yet reaped by its parent, which for a daemon is init and may take
    a while) counts as gone.
    """
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: trust kill()
    return state != b"Z"


def check_pid_file(pidfile: str) -> None:
    """Raise BusyError if `pidfile` names a live process; remove it if the process is gone.

    Raises ValueError for a non-numeric pid file.
    """
    pid = read_pid_file(pidfile)
    if pid is None:
        return
    if process_exists(pid):
        raise BusyError(f"'{pidfile}' exists - is this master still running?")
    print(f"Removing stale pidfile {pidfile}")
    os.remove(pidfile)


def read_tac(basedir: str, quiet: bool = False) -> dict[str, Any] | None:
    """Execute `<basedir>/buildbot.tac` and return its globals (None if there is no tac).

    The tac runs as twistd would run it (it builds, but does not start, the master); any
    exception it raises propagates after its traceback is printed to stderr (unless quiet).
    """
    tac = os.path.join(basedir, "buildbot.tac")
    if not os.path.exists(tac):
        return None
    names: dict[str, Any] = {"__file__": tac}
    try:
        with open(tac, encoding="utf-8") as f:
            source = f.read()
        exec(compile(source, tac, "exec"), names)  # noqa: S102  # the master's own tac
    except Exception:
        if not quiet:
            traceback.print_exc()
        raise
    return names


def report_tac_failure(basedir: str) -> None:
    """Print, to stderr, that the tac failed to load and the exception being handled."""
    print(f"Unable to load 'buildbot.tac' from '{basedir}':", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)


def config_file_from_tac(basedir: str, quiet: bool = False) -> str:
    """The config file name `buildbot.tac` names (`master.cfg` when unset or no tac)."""
    names = read_tac(basedir, quiet=quiet)
    if names is None:
        return "master.cfg"
    return str(names.get("configfile", "master.cfg"))


def check_basedir(config: dict[str, Any]) -> bool:
    """The full basedir check of upgrade-master, cleanupdb and copy-db; prints why on failure."""
    emit(config, "checking basedir")
    basedir = config["basedir"]
    if not is_buildmaster_dir(basedir):
        return False
    if sys.platform != "win32":
        emit(config, "checking for running master")
        try:
            check_pid_file(os.path.join(basedir, "twistd.pid"))
        except (BusyError, ValueError, OSError) as e:
            print(str(e))
            return False
    try:
        tac = read_tac(basedir, quiet=True)
    except Exception:
        report_tac_failure(basedir)
        return False
    for name in ("rotateLength", "maxRotatedFiles"):
        if tac is not None and isinstance(tac.get(name), str):
            print(f"ERROR: {name} is a string, it should be a number")
            print("ERROR: Please, edit your buildbot.tac file and run again")
            print("ERROR: See http://trac.buildbot.net/ticket/2588 for more details")
            return False
    return True


def load_master_config(config: dict[str, Any], config_file: str) -> MasterConfig | None:
    """Load the master config for a maintenance command, printing errors the CLI's way.

    Returns None (after printing "Errors loading configuration:" and the messages, or the
    traceback of an unexpected exception) when the config cannot be loaded.
    """
    emit(config, f"checking {config_file}")
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import FileLoader

    try:
        return FileLoader(config["basedir"], config_file).loadConfig()
    except ConfigErrors as e:
        print("Errors loading configuration:")
        for msg in e.errors:
            print("  " + msg)
    except Exception:
        print("Errors loading configuration:")
        traceback.print_exc(file=sys.stdout)
    return None


def db_config(master_cfg: Any) -> tuple[Any, dict[str, Any]]:
    """`(db_url, engine_kwargs)` of a loaded MasterConfig (its `db` is a dict)."""
    db = master_cfg.db
    if isinstance(db, dict):
        return db["db_url"], dict(db.get("engine_kwargs") or {})
    return db.db_url, dict(getattr(db, "engine_kwargs", None) or {})


def strip_url_password(url: str) -> str:
    """`url` with its password (if any) replaced by `xxxx`, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:xxxx@{hostport}"))


# --------------------------------------------------------------------------------------------
# running under the reactor


class ReactorStoppedError(RuntimeError):
    """The reactor stopped (a signal, or code calling reactor.stop) before the command ended."""


def get_reactor() -> Any:
    """The global reactor, untyped: its interfaces are added at run time, which mypy cannot
    follow."""
    from twisted.internet import reactor

    return reactor


def run_in_reactor(command: Callable[[], Awaitable[int | None]]) -> int:
    """Run `command()` with the reactor running and return its exit status.

    An unexpected exception prints its traceback to stderr and gives status 1 (the
    reference exits 0 in that case; see docs/differences.md). A reactor stopped early (for
    instance by Ctrl-C) also gives 1.
    """
    from twisted.internet import defer

    reactor = get_reactor()
    outcome: list[int] = []

    async def call() -> None:
        try:
            outcome.append(int(await command() or 0))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            outcome.append(1)
        finally:
            if reactor.running:
                reactor.stop()

    reactor.callWhenRunning(lambda: defer.Deferred.fromCoroutine(call()))
    reactor.run()
    if not outcome:
        print("interrupted before the command finished", file=sys.stderr)
        return 1
    return outcome[0]


def print_wrapped(text: str, width: int = 80) -> None:
    """Print `text` as one paragraph re-wrapped to `width` columns."""
    import textwrap

    print(textwrap.fill(" ".join(text.split()), width))


@contextlib.contextmanager
def in_directory(path: str) -> Iterator[None]:
    """Run the block with `path` as the current directory."""
    orig_cwd = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(orig_cwd)


def load_basedir_config(config: dict[str, Any]) -> MasterConfig | None:
    """Check the basedir, read its tac and load its configuration (maintenance commands).

    Prints what it checks and why it fails; returns None on failure. Run it inside
    `in_directory(basedir)`: relative paths in master.cfg are relative to the basedir.
    """
    if not check_basedir(config):
        return None
    basedir = config["basedir"]
    try:
        config_file = config_file_from_tac(basedir, quiet=True)
    except Exception:
        report_tac_failure(basedir)
        return None
    return load_master_config(config, config_file)
