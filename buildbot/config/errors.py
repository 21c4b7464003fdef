"""Configuration errors: collected while master.cfg is loaded, reported together.

Constructors of master.cfg classes call `error(msg)` for each bad argument. Inside a capture
context (`capture_config_errors()`, active while the master loads its configuration) the
message is recorded and execution goes on, so one run reports every problem; outside one, the
error is raised at once as `ConfigErrors([msg])`.

The active capture is per thread (a `ContextVar`): a configuration loaded in a worker thread
does not swallow errors raised meanwhile by code running in the reactor thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar


class ConfigErrors(Exception):
    """One or more configuration error messages, in the order they were found.

    `str()` gives the messages one per line; the object is true iff it holds any message.
    """

    def __init__(self, errors: Iterable[str] | None = None) -> None:
        self.errors: list[str] = list(errors) if errors is not None else []
        super().__init__(self.errors)

    def __repr__(self) -> str:
        return f"ConfigErrors({self.errors!r})"

    def __str__(self) -> str:
        return "\n".join(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def addError(self, msg: str) -> None:
        """Append one message."""
        self.errors.append(msg)

    def merge(self, errors: ConfigErrors) -> None:
        """Append every message of `errors`, keeping their order."""
        self.errors.extend(errors.errors)


_active: ContextVar[ConfigErrors | None] = ContextVar("buildbot_config_errors", default=None)


def error(error: str, always_raise: bool = False) -> None:
    """Report a configuration error (the parameter name is the reference's).

    Recorded in the active capture (and returns) if there is one and `always_raise` is false;
    raises `ConfigErrors([error])` otherwise.
    """
    errors = _active.get()
    if errors is None or always_raise:
        raise ConfigErrors([error])
    errors.addError(error)


@contextlib.contextmanager
def capture_config_errors(raise_on_error: bool = False) -> Iterator[ConfigErrors]:
    """Collect `error()` calls made inside the block into the yielded `ConfigErrors`.

    A `ConfigErrors` raised inside the block is merged into the collection (after the messages
    already recorded) instead of propagating. With `raise_on_error`, the collection is raised
    at the end of the block if it holds any message (or if the block was interrupted by a
    `ConfigErrors`, even an empty one). Captures nest: an inner capture keeps its
    messages to itself.
    """
    errors = ConfigErrors()
    token = _active.set(errors)
    interrupted = False
    try:
        yield errors
    except ConfigErrors as e:
        interrupted = True
        if e is not errors:
            errors.merge(e)
    finally:
        _active.reset(token)
    if raise_on_error and (errors or interrupted):
        raise errors
