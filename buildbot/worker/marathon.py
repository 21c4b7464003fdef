"""`MarathonLatentWorker` (Marathon): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class MarathonLatentWorker(UnavailableLatentWorker):
    """Buildbot 4.3's Marathon latent worker; configuring it is an error here."""

    service = "Marathon"
