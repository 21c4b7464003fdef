"""`buildbot tryserver`: store a try job read from stdin in a Try_Jobdir's maildir.

`buildbot try --connect=ssh` runs this on the master's host; the Try_Jobdir scheduler
watches `<jobdir>/new`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from twisted.python import usage

from buildbot.scripts import base


class TryServerOptions(base.SubcommandOptions):
    """Options of `buildbot tryserver`."""

    synopsis = "Usage:    buildbot tryserver [options]"
    optParameters = [
        ["jobdir", None, None, "The job directory (a maildir) of the Try_Jobdir scheduler"],
    ]

    def postOptions(self) -> None:
        if not self["jobdir"]:
            raise usage.UsageError("jobdir is required")


def deliver_job(jobdir: str, job: bytes) -> str:
    """Write `job` into the maildir `jobdir` atomically; returns the new file's path.

    The file is written in `tmp/` and renamed into `new/`, so the scheduler never sees a
    partial job. Its name is the time and the MD5 of the content (unique enough, as the
    same job at the same instant is the same job).
    """
    name = f"{time.time()}-{hashlib.md5(job).hexdigest()}"
    staging, delivered = (Path(jobdir, sub, name) for sub in ("tmp", "new"))
    staging.write_bytes(job)
    staging.replace(delivered)  # atomic within one filesystem: tmp/ and new/ share it
    return str(delivered)


def tryserver(config: dict[str, Any]) -> int:
    """Entry point of `buildbot tryserver`."""
    deliver_job(os.path.expanduser(config["jobdir"]), sys.stdin.buffer.read())
    return 0
