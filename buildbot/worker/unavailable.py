"""Latent workers of Buildbot 4.3 that this master does not implement.

Their names stay importable (`worker.EC2LatentWorker`, `buildbot.worker.ec2`, ...) so that a
master.cfg using one fails with a configuration error naming it, instead of an import error.
docs/workers.md lists them with their state.
"""

from __future__ import annotations

from typing import Any

from buildbot import config
from buildbot.worker.latent import AbstractLatentWorker


def unavailable_message(what: str, service: str) -> str:
    return (f"{what} ({service}) is not implemented by this Buildbot master; "
            "see docs/workers.md for the latent workers available "
            "(DockerLatentWorker, or a subclass of AbstractLatentWorker)")


class UnavailableLatentWorker(AbstractLatentWorker):
    """Refuses to be configured; subclasses set `service`."""

    service = "a cloud service"

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        config.error(unavailable_message(type(self).__name__, self.service))
        # Only reached while errors are being collected: an inert worker of that name.
        super().__init__(name, None)
