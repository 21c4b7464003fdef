"""The `buildbot` command line: `run()` is the console script.

The top level parses `buildbot [--verbose] [--version] [--help] <command> [options]`, then
calls the command's function with the parsed options; its return value is the exit status.
Command modules are imported lazily, so parsing never loads the reactor or the master.
"""

from __future__ import annotations

import importlib
import locale
import sys
from typing import Any

from twisted.python import usage

import buildbot
from buildbot.scripts import base
from buildbot.scripts.checkconfig import CheckConfigOptions
from buildbot.scripts.cleanupdb import CleanupDBOptions
from buildbot.scripts.copydb import CopyDBOptions
from buildbot.scripts.create_master import CreateMasterOptions
from buildbot.scripts.dataspec import DataSpecOptions
from buildbot.scripts.devproxy import DevProxyOptions
from buildbot.scripts.reconfig import ReconfigOptions
from buildbot.scripts.restart import RestartOptions
from buildbot.scripts.sendchange import SendChangeOptions
from buildbot.scripts.start import StartOptions
from buildbot.scripts.stop import StopOptions
from buildbot.scripts.trycmd import TryOptions
from buildbot.scripts.tryserver import TryServerOptions
from buildbot.scripts.upgrade_master import UpgradeMasterOptions
from buildbot.scripts.user import UserOptions

#: command name -> (options class, "module:function" it runs, one-line description)
COMMANDS: dict[str, tuple[type[base.SubcommandOptions], str, str]] = {
    "create-master": (CreateMasterOptions, "create_master:createMaster",
                      "Create a new buildmaster directory, or update an existing one"),
    "upgrade-master": (UpgradeMasterOptions, "upgrade_master:upgradeMaster",
                       "Upgrade a buildmaster directory and its database to this version"),
    "start": (StartOptions, "start:start", "Start a buildmaster"),
    "stop": (StopOptions, "stop:stop", "Stop a buildmaster"),
    "restart": (RestartOptions, "restart:restart", "Restart a buildmaster"),
    "reconfig": (ReconfigOptions, "reconfig:reconfig",
                 "Make a running buildmaster re-read its configuration (SIGHUP)"),
    "sighup": (ReconfigOptions, "reconfig:reconfig", "Same as reconfig"),
    "sendchange": (SendChangeOptions, "sendchange:sendchange",
                   "Send a change to a buildmaster's PBChangeSource"),
    "try": (TryOptions, "trycmd:trycmd", "Run builds of your uncommitted changes"),
    "tryserver": (TryServerOptions, "tryserver:tryserver",
                  "Master-side helper of 'buildbot try' over ssh (not run by users)"),
    "checkconfig": (CheckConfigOptions, "checkconfig:checkconfig",
                    "Check a master configuration file for errors"),
    "user": (UserOptions, "user:user", "Manage users in a buildmaster's database"),
    "dataspec": (DataSpecOptions, "dataspec:dataspec", "Write the data API specification as JSON"),
    "dev-proxy": (DevProxyOptions, "devproxy:devproxy",
                  "Serve the local web UI against a remote buildmaster's API (UI development)"),
    "cleanupdb": (CleanupDBOptions, "cleanupdb:cleanupDatabase",
                  "Recompress logs and compact the database"),
    "copy-db": (CopyDBOptions, "copydb:copy_database", "Copy the database to another database"),
}


class Options(usage.Options):
    """Top-level options of `buildbot`."""

    synopsis = "Usage:    buildbot <command> [command options]"
    longdesc = ""
    subCommands = [[name, None, opts, doc] for name, (opts, _, doc) in COMMANDS.items()]
    optFlags = [["verbose", None, "Log what the command does (Twisted logging) to stderr"]]

    def opt_version(self) -> None:
        """Print the Buildbot and Twisted versions (and this implementation's) and exit."""
        # The first line stays 4.3's, for scripts that parse it.
        print(f"Buildbot version: {buildbot.version}")
        print(f"{buildbot.project} version: {buildbot.__version__}")
        super().opt_version()  # unannotated Twisted

    def opt_verbose(self) -> None:
        from twisted.logger import ILogObserver, globalLogBeginner, textFileLogObserver

        self["verbose"] = 1
        observer: ILogObserver = textFileLogObserver(sys.stderr)  # type: ignore[assignment]  # textFileLogObserver provides ILogObserver
        # the command's own output stays on stdout (4.3 diverts it into the log)
        globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)

    def postOptions(self) -> None:
        if not hasattr(self, "subOptions"):
            raise usage.UsageError("must specify a command")


def check_locale() -> str | None:
    """Why the locale is unusable (Python could not encode text safely), or None if fine."""
    try:
        locale.getencoding()
    except (KeyError, ValueError) as e:
        return (
            "Your environment has incorrect locale settings. This means python cannot handle "
            "strings safely.\n Please check 'LANG', 'LC_CTYPE', 'LC_ALL' and 'LANGUAGE' are "
            f"either unset or set to a valid locale.\n{e}"
        )
    return None


def command_function(name: str) -> Any:
    """The function implementing command `name`."""
    module, _, function = COMMANDS[name][1].partition(":")
    return getattr(importlib.import_module(f"buildbot.scripts.{module}"), function)


def run(argv: list[str] | None = None) -> None:
    """Console script `buildbot`: parse the command line, run the command, exit with its status."""
    if argv is None:
        argv = sys.argv[1:]
    problem = check_locale()
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(1)
    config = Options()  # unannotated Twisted
    try:
        config.parseOptions(argv)
    except usage.error as e:
        print(f"{sys.argv[0]}:  {e}")
        print()
        print(str(getattr(config, "subOptions", config)))
        sys.exit(1)
    assert config.subCommand is not None
    sys.exit(command_function(config.subCommand)(config.subOptions))


if __name__ == "__main__":
    run()
