"""Exceptions raised by the database layer.

Class names (and, where plugins may catch them by a builtin base, the bases) follow
Buildbot 4.3, whose modules also re-export them: `buildbot.db.buildrequests.AlreadyClaimedError`,
`buildbot.db.exceptions.DatabaseNotReadyError`, ...
"""

from __future__ import annotations


class DbError(Exception):
    """Base class of every error the database layer raises on purpose."""


class DatabaseNotReadyError(DbError):
    """The database is missing, not at the current schema revision, or not a Buildbot one."""


class DbOperationError(DbError):
    """A query failed for a reason the caller cannot fix by changing its arguments.

    `operation` names what was being done (component, method and step), `__cause__` holds the
    driver's exception.
    """

    def __init__(self, operation: str, cause: BaseException) -> None:
        super().__init__(f"database operation {operation} failed: {cause}")
        self.operation = operation


class UpgradeError(DatabaseNotReadyError):
    """The database cannot be upgraded automatically (too old, too new, or not ours)."""


class UpgradeFromBefore0p9Error(UpgradeError):
    """The database comes from Buildbot 0.8 or older."""

    def __init__(self) -> None:
        super().__init__(
            "You are trying to upgrade a Buildbot 0.8.x master to a newer Buildbot version. "
            "This is not supported. Please start from a clean database "
            "(http://docs.buildbot.net/latest/manual/upgrading/0.9-upgrade.html)")


class UpgradeFromBefore3p0Error(UpgradeError):
    """The database uses sqlalchemy-migrate at a version other than the last one (58)."""

    def __init__(self) -> None:
        super().__init__(
            "You are trying to upgrade to Buildbot 3.0 or newer from a Buildbot version "
            "older than 2.10.x. This is not supported. Please upgrade to 2.10.x first.")


class AlreadyClaimedError(DbError):
    """At least one of the build requests is claimed already (nothing was claimed)."""


class NotClaimedError(DbError):
    """At least one build request is complete already, or missing (nothing was changed)."""


class AlreadyCompleteError(DbError, RuntimeError):
    """The buildset is complete already."""


class LogSlugExistsError(DbError, KeyError):
    """A log with this slug exists in the step already."""


class LogCompressionFormatUnavailableError(DbError, LookupError):
    """A log chunk uses a codec that is unknown or whose module is not installed."""


class SchedulerAlreadyClaimedError(DbError):
    """Another master owns the scheduler."""


class ChangeSourceAlreadyClaimedError(DbError):
    """Another master (or this one, already) owns the change source."""


class TestResultSetAlreadyCompleted(DbError):
    """The test result set is complete already."""

    __test__ = False  # not a pytest test class despite the name


class InvalidValueError(DbError, ValueError):
    """An argument is not acceptable (too long for the column on MySQL, not an identifier...)."""


class MasterFencedError(AlreadyClaimedError, NotClaimedError):
    """This master is marked inactive in the database (another master expired it after a
    silence longer than the expiry): it may no longer claim requests, start or finish builds.
    Both claim errors, so that callers that handle a lost race handle this too."""
