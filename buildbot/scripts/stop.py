"""`buildbot stop`: signal a daemonized master and wait for its process to go away."""

from __future__ import annotations

import contextlib
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


def _master_pid(pidfile: str) -> int | None:
    try:
        return base.read_pid_file(pidfile)
    except ValueError:  # unreadable: as if there were none
        return None


def _deliver(pid: int, signame: str, pidfile: str) -> bool:
    """Send SIG<signame> to `pid`; False when that process has gone (its stale pid file is
    then removed). Other OSErrors (e.g. no permission) rise."""
    try:
        os.kill(pid, getattr(signal, "SIG" + signame))
    except ProcessLookupError:
        with contextlib.suppress(OSError):
            os.unlink(pidfile)
        return False
    return True


def stop(config: dict[str, Any], signame: str = "TERM", wait: bool | None = None) -> int:
    """Entry point of `buildbot stop`; also used by `restart` (which always waits)."""
    basedir = config["basedir"]
    if not base.is_buildmaster_dir(basedir):
        return 1
    clean = bool(config.get("clean"))
    signame = "USR1" if clean else signame  # USR1: finish running builds, then stop
    if wait is None:
        wait = not config.get("no-wait")
    pidfile = os.path.join(basedir, "twistd.pid")
    pid = _master_pid(pidfile)
    try:
        running = pid is not None and _deliver(pid, signame, pidfile)
    except OSError as e:
        print(f"cannot send SIG{signame} to process {pid}: {e.strerror}")
        return 1
    if pid is None or not running:
        base.emit(config, "buildmaster not running")
        return 0
    if not wait:
        base.emit(config, f"sent SIG{signame} to process")
        return 0
    # a clean stop waits as long as the builds take
    if wait_for_exit(pid, None if clean else STOP_WAIT_SECONDS):
        base.emit(config, f"buildbot process {pid} is dead")
        return 0
    if not config.get("quiet"):
        print("never saw process go away")
    return 1
