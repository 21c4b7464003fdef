"""Workers as configured in master.cfg (`from buildbot.worker import Worker`)."""

from buildbot.worker.base import AbstractWorker, Worker
from buildbot.worker.latent import AbstractLatentWorker
from buildbot.worker.local import LocalWorker

__all__ = ["AbstractLatentWorker", "AbstractWorker", "LocalWorker", "Worker"]
