"""`buildbot stop`: signal a daemonized master and wait for its process to go away."""

from __future__ import annotations

import errno
import os
import signal
import time
from typing import Any

from buildbot.scripts import base

#: How long `stop` waits for the process to exit (a clean stop waits without limit).
STOP_WAIT_SECONDS = 10.0
POLL_INTERVAL = 0.1


class StopOptions(base.BasedirOptions):
    """Options of `buildbot stop`."""

    synopsis = "Usage:    buildbot stop [<basedir>]"
    optFlags = [
        ["quiet", "q", "Print nothing but errors"],
        ["clean", "c", "Clean shutdown: let running builds finish first (waits for them)"],
        ["no-wait", None, "Send the signal and return without waiting for the process to exit"],
    ]


def wait_for_exit(pid: int, timeout: float | None) -> bool:
    """Poll until process `pid` is gone; False if it is still there after `timeout` s."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while base.process_exists(pid):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def stop(config: dict[str, Any], signame: str = "TERM", wait: bool | None = None) -> int:
    """Entry point of `buildbot stop`; also used by `restart` (which always waits)."""
    basedir = config["basedir"]
    quiet = bool(config.get("quiet"))
    if wait is None:
        wait = not config.get("no-wait")
    if config.get("clean"):
        signame = "USR1"
    if not base.is_buildmaster_dir(basedir):
        return 1

    pidfile = os.path.join(basedir, "twistd.pid")
    try:
        pid = base.read_pid_file(pidfile)
    except ValueError:
        pid = None
    if pid is None:
        base.emit(config, "buildmaster not running")
        return 0

    try:
        os.kill(pid, getattr(signal, "SIG" + signame))
    except OSError as e:
        if e.errno != errno.ESRCH:
            print(f"cannot send SIG{signame} to process {pid}: {e.strerror}")
            return 1
        base.emit(config, "buildmaster not running")
        try:
            os.unlink(pidfile)
        except OSError:
            pass
        return 0

    if not wait:
        base.emit(config, f"sent SIG{signame} to process")
        return 0
    if wait_for_exit(pid, None if config.get("clean") else STOP_WAIT_SECONDS):
        base.emit(config, f"buildbot process {pid} is dead")
        return 0
    if not quiet:
        print("never saw process go away")
    return 1
