"""`LibVirtWorker` (libvirt): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class LibVirtWorker(UnavailableLatentWorker):
    """Buildbot 4.3's libvirt latent worker; configuring it is an error here."""

    service = "libvirt"


class Connection:
    """Buildbot 4.3's libvirt connection helper (`util.Connection`); unavailable here."""

    def __init__(self, uri: str, *args: object, **kwargs: object) -> None:
        from buildbot import config
        from buildbot.worker.unavailable import unavailable_message

        config.error(unavailable_message("util.Connection", "libvirt"))
        self.uri = uri
