"""Steps for the rpm package format (re-exports)."""

from buildbot.steps.package.rpm.mock import MockBuildSRPM, MockRebuild
from buildbot.steps.package.rpm.rpmbuild import RpmBuild
from buildbot.steps.package.rpm.rpmlint import RpmLint

__all__ = ["MockBuildSRPM", "MockRebuild", "RpmBuild", "RpmLint"]
