"""The `buildbot` command line: `run()` is the console script.

The top level parses `buildbot [--verbose] [--version] [--help] <command> [options]`, then
calls the command's function with the parsed options; its return value is the exit status.
Command modules are imported lazily: parsing imports the named command's module only (its
options class), so it never loads the reactor or the master, nor other commands' needs.
"""

from __future__ import annotations

import importlib
import locale
import sys
from typing import Any

from twisted.python import usage

import buildbot
from buildbot.scripts import base

#: command name -> ("module:OptionsClass" parsing its options, "module:function" it runs,
#: one-line description). Modules are named, not imported: a command loads only its own
#: (`buildbot reconfig` never imports what `cleanupdb` or `start` need).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "create-master": ("create_master:CreateMasterOptions", "create_master:createMaster",
                      "Create a new buildmaster directory, or update an existing one"),
    "upgrade-master": ("upgrade_master:UpgradeMasterOptions", "upgrade_master:upgradeMaster",
                       "Upgrade a buildmaster directory and its database to this version"),
    "start": ("start:StartOptions", "start:start", "Start a buildmaster"),
    "stop": ("stop:StopOptions", "stop:stop", "Stop a buildmaster"),
    "restart": ("restart:RestartOptions", "restart:restart", "Restart a buildmaster"),
    "reconfig": ("reconfig:ReconfigOptions", "reconfig:reconfig",
                 "Make a running buildmaster re-read its configuration (SIGHUP)"),
    "sighup": ("reconfig:ReconfigOptions", "reconfig:reconfig", "Same as reconfig"),
    "sendchange": ("sendchange:SendChangeOptions", "sendchange:sendchange",
                   "Send a change to a buildmaster's PBChangeSource"),
    "try": ("trycmd:TryOptions", "trycmd:trycmd", "Run builds of your uncommitted changes"),
    "tryserver": ("tryserver:TryServerOptions", "tryserver:tryserver",
                  "Master-side helper of 'buildbot try' over ssh (not run by users)"),
    "checkconfig": ("checkconfig:CheckConfigOptions", "checkconfig:checkconfig",
                    "Check a master configuration file for errors"),
    "user": ("user:UserOptions", "user:user", "Manage users in a buildmaster's database"),
    "dataspec": ("dataspec:DataSpecOptions", "dataspec:dataspec",
                 "Write the data API specification as JSON"),
    "dev-proxy": ("devproxy:DevProxyOptions", "devproxy:devproxy",
                  "Serve the local web UI against a remote buildmaster's API (UI development)"),
    "cleanupdb": ("cleanupdb:CleanupDBOptions", "cleanupdb:cleanupDatabase",
                  "Recompress logs and compact the database"),
    "copy-db": ("copydb:CopyDBOptions", "copydb:copy_database",
                "Copy the database to another database"),
}


def _command_attribute(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(f"buildbot.scripts.{module}"), name)


def options_class(name: str) -> type[base.SubcommandOptions]:
    """The options class of command `name` (its module is imported now)."""
    cls: type[base.SubcommandOptions] = _command_attribute(COMMANDS[name][0])
    return cls


def _options_factory(name: str) -> Any:
    # Twisted's usage.Options calls the parser entry of subCommands to build the parser:
    # a factory importing the command's module then keeps the others unimported.
    def make() -> base.SubcommandOptions:
        return options_class(name)()

    return make


class Options(usage.Options):
    """Top-level options of `buildbot`."""

    synopsis = "Usage:    buildbot <command> [command options]"
    longdesc = ""
    subCommands = [[name, None, _options_factory(name), doc]
                   for name, (_, _, doc) in COMMANDS.items()]
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
    return _command_attribute(COMMANDS[name][1])


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
