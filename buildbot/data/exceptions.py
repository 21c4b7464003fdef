"""Errors of the data API (the reference's `buildbot.data.exceptions`)."""

from __future__ import annotations

# Re-exported for the process layer (which never imports db): a write the database refused
# for a reason of its own (disk full, I/O error, lost connection after retries).
from buildbot.db.errors import DbOperationError as StorageError

__all__ = ["ControlParamsError", "DataException", "InvalidControlException",
           "InvalidOptionError", "InvalidPathError", "InvalidQueryParameter", "NotFound",
           "StorageError"]


class DataException(Exception):
    """Base of every data API error."""


class InvalidPathError(DataException):
    """The path matches no endpoint (REST: 404)."""


class InvalidOptionError(DataException):
    """A query option is invalid (REST: 400)."""


class InvalidQueryParameter(InvalidOptionError):
    """A REST query-string parameter is invalid (REST: 400, message in the body)."""


class InvalidControlException(DataException):
    """The action is not supported on this endpoint (JSON-RPC -32601, HTTP 501)."""


class ControlParamsError(DataException):
    """Control parameters failed validation; `errors` maps field names to messages
    (JSON-RPC -32602, HTTP 400) — used by the force scheduler form."""

    def __init__(self, message: str | dict[str, str]) -> None:
        super().__init__(message)
        self.errors = message


class NotFound(DataException):
    """The resource an action targets does not exist."""
