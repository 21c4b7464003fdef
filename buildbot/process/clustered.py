"""Re-export: `ClusteredBuildbotService` lives in `buildbot.util.clustered` (the reference
imports it from `buildbot.util.service`)."""

from buildbot.util.clustered import ClusteredBuildbotService

__all__ = ["ClusteredBuildbotService"]
