"""Kept for imports written for Buildbot 4.3 (`buildbot.process.subunitlogobserver`, which
holds nothing; `SubunitLogObserver` is in `buildbot.steps.subunit`)."""
