"""`OpenStackLatentWorker` (OpenStack): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class OpenStackLatentWorker(UnavailableLatentWorker):
    """Buildbot 4.3's OpenStack latent worker; configuring it is an error here."""

    service = "OpenStack"
