"""`buildbot reconfig` / `buildbot sighup`: make a running master re-read its configuration."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from buildbot.scripts import base
from buildbot.scripts.polling import PollingClock, run_polling
from buildbot.scripts.logwatcher import (
    BuildmasterTimeoutError,
    LogWatcher,
    ProcessDiedError,
    ReconfigError,
)


class ReconfigOptions(base.BasedirOptions):
    """Options of `buildbot reconfig` and `buildbot sighup`."""

    synopsis = "Usage:    buildbot reconfig [<basedir>]"
    optFlags = [
        ["quiet", "q", "Send the signal and return; do not follow twistd.log"],
    ]
    optParameters = [
        ["progress_timeout", None, None,
         "Seconds to wait for a progress line in twistd.log before giving up (default 10)"],
    ]


def progress_timeout(config: dict[str, Any]) -> float | None:
    """--progress_timeout as a number (None when unset); raises ValueError if not numeric."""
    value = config.get("progress_timeout")
    return None if value is None else float(value)


async def reconfig_async(config: dict[str, Any], timeout: float | None,
                         clock: PollingClock) -> int:
    """Send SIGHUP and follow twistd.log until the reconfiguration ends."""
    basedir = config["basedir"]
    pidfile = os.path.join(basedir, "twistd.pid")
    try:
        pid = base.read_pid_file(pidfile)
    except ValueError as e:
        print(str(e))
        return 1
    if pid is None or not base.process_exists(pid):
        # The reference prints a traceback and exits 0 when the pid file is missing.
        print(f"buildmaster not running (no live process in '{pidfile}')")
        return 1
    if config.get("quiet"):
        os.kill(pid, signal.SIGHUP)
        return 0

    watcher = LogWatcher(os.path.join(basedir, "twistd.log"), timeout=timeout, clock=clock,
                         still_alive=lambda: base.process_exists(pid))
    try:
        watcher.open()  # before the signal, so that no line of the reconfig is missed
    except OSError as e:
        print(f"cannot read twistd.log ({e.strerror}); sending SIGHUP to process {pid} anyway")
        os.kill(pid, signal.SIGHUP)
        return 1
    print(f"sending SIGHUP to process {pid}")
    os.kill(pid, signal.SIGHUP)
    try:
        await watcher.watch()
    except Exception as e:  # noqa: BLE001 - the CLI tells the user every failure, exits 1
        if isinstance(e, BuildmasterTimeoutError):
            print("Never saw reconfiguration finish.")
        elif isinstance(e, ReconfigError):
            base.print_wrapped(
                "Reconfiguration failed. Please inspect the master.cfg file for errors, "
                "correct them, then try 'buildbot reconfig' again.")
        elif isinstance(e, ProcessDiedError):
            print(f"The buildmaster process {pid} exited during the reconfiguration; "
                  "see twistd.log.")
        else:
            print(f"Error while following twistd.log: {e}")
        return 1
    print("Reconfiguration appears to have completed successfully")
    return 0


def reconfig(config: dict[str, Any]) -> int:
    """Entry point of `buildbot reconfig` and `buildbot sighup`."""
    if sys.platform == "win32":
        print("Reconfig (through SIGHUP) is not supported on Windows.")
        return 0
    try:
        timeout = progress_timeout(config)
    except ValueError:
        print("Progress timeout must be a number")
        return 1
    # No reactor: following the log needs none, and its import costs more than the rest.
    return run_polling(lambda clock: reconfig_async(config, timeout, clock))
