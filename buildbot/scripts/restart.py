"""`buildbot restart`: stop the master, waiting for it to exit, then start it again."""

from __future__ import annotations

from typing import Any

from buildbot.scripts import base, start, stop


class RestartOptions(base.BasedirOptions):
    """Options of `buildbot restart`."""

    synopsis = "Usage:    buildbot restart [<basedir>]"
    optFlags = [
        ["quiet", "q", "Do not follow twistd.log while the master starts"],
        ["nodaemon", None, "Start again in the foreground instead of as a daemon"],
        ["clean", "c", "Clean shutdown: let running builds finish before restarting"],
    ]
    optParameters = [
        ["start_timeout", None, None,
         ("Seconds without start-up progress in twistd.log before giving up "
          "(default: $START_TIMEOUT, else 10)")],
    ]


def restart(config: dict[str, Any]) -> int:
    """Entry point of `buildbot restart`."""
    if not base.is_buildmaster_dir(config["basedir"]):
        return 1
    if stop.stop(config, wait=True) != 0:
        return 1
    base.emit(config, "now restarting buildbot process..")
    return start.start(config)
