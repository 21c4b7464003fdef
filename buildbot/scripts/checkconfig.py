"""`buildbot checkconfig`: load a master configuration and report every error in it."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

from buildbot.scripts import base


class CheckConfigOptions(base.SubcommandOptions):
    """Options of `buildbot checkconfig`."""

    synopsis = (
        "Usage:\t\tbuildbot checkconfig [configFile]\n"
        "\t\tIf not specified, the config file specified in 'buildbot.tac' "
        "from the current directory will be used"
    )
    optFlags = [
        ["quiet", "q", "Print nothing; only the exit status tells the result"],
    ]
    longdesc = """
    The argument is a master directory (its buildbot.tac names the configuration file,
    master.cfg by default) or a configuration file, which is then loaded with the current
    directory as the basedir. Exit status 0 means the configuration loaded without errors.
    Some problems only show when the master starts (for instance a web plugin that is not
    installed), so a good result is not a guarantee.
    """

    def parseArgs(self, *args: str) -> None:
        if args:
            self["configFile"] = args[0]


def locate_config(target: str, quiet: bool) -> tuple[str, str] | None:
    """`(basedir, config file)` for a checkconfig argument, or None if the tac fails to load.

    A directory is a basedir whose tac names the file; anything else is a file name taken
    relative to the current directory, with the current directory as the basedir.
    """
    if os.path.isdir(target):
        try:
            return target, base.config_file_from_tac(target, quiet=True)
        except Exception:  # noqa: BLE001 - a broken tac is the verdict; -q asks for no output
            if not quiet:
                base.report_tac_failure(target)
            return None
    return os.getcwd(), target


def check_config(basedir: str, config_file: str, quiet: bool) -> int:
    """Load the configuration and print the verdict; returns the exit status."""
    from buildbot.config.errors import ConfigErrors
    from buildbot.config.master import FileLoader

    problems: list[str] = []
    try:
        FileLoader(basedir, config_file).loadConfig()
    except ConfigErrors as err:
        problems = list(err.errors)
    except Exception:  # noqa: BLE001 - any failure of the user's file is the verdict
        # The reference prints the traceback and exits 0; an unloadable file is not good.
        problems = [f"unexpected error while loading '{config_file}':\n"
                    f"{traceback.format_exc().rstrip()}"]
    if not quiet:
        if problems:
            print("\n  ".join(["Configuration Errors:", *problems]), file=sys.stderr)
        else:
            print("Config file is good!")
    return 1 if problems else 0


async def checkconfig_async(config: dict[str, Any]) -> int:
    """Do the whole of checkconfig; returns the exit status."""
    quiet = bool(config.get("quiet"))
    located = locate_config(config.get("configFile") or os.getcwd(), quiet)
    if located is None:
        return 1
    return check_config(*located, quiet=quiet)


def checkconfig(config: dict[str, Any]) -> int:
    """Entry point of `buildbot checkconfig` (run under the reactor, as plugins may expect)."""
    return base.run_in_reactor(lambda: checkconfig_async(config))
