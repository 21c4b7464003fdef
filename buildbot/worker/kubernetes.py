"""`KubeLatentWorker` (Kubernetes): not implemented here (a config error names it)."""

from buildbot.worker.unavailable import UnavailableLatentWorker


class KubeLatentWorker(UnavailableLatentWorker):
    """Buildbot 4.3's Kubernetes latent worker; configuring it is an error here."""

    service = "Kubernetes"
