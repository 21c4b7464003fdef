"""`UpcloudLatentWorker` (UpCloud): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class UpcloudLatentWorker(UnavailableLatentWorker):
    """Buildbot 4.3's UpCloud latent worker; configuring it is an error here."""

    service = "UpCloud"
