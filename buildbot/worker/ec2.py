"""`EC2LatentWorker` (Amazon EC2): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class EC2LatentWorker(UnavailableLatentWorker):
    """Buildbot 4.3's Amazon EC2 latent worker; configuring it is an error here."""

    service = "Amazon EC2"
