"""Placeholders for names that exist in Buildbot 4.3 only as parts of its own internals.

Code written for 4.3 may import such a name (a module import at the top of a plugin); that
import works here. Using the name raises `InternalToReferenceError`, which says what the
name was and why this master has no counterpart. Each one is listed in docs/differences.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

MARK = "__buildbot_internal__"


class InternalToReferenceError(NotImplementedError):
    """Raised when code uses a Buildbot 4.3 internal that this master does not have."""


def _fail(qualname: str, why: str) -> NoReturn:
    raise InternalToReferenceError(
        f"{qualname} is internal to Buildbot 4.3 and has no counterpart in this master: {why} "
        "(see docs/differences.md)")


def internal_class(module: str, name: str, why: str, base: type = object) -> type:
    """A class named `name` (placed in `module`) whose instantiation raises."""
    qualname = f"{module}.{name}"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        _fail(qualname, why)

    cls = type(name, (base,), {"__init__": __init__, "__module__": module, MARK: why,
                               "__doc__": f"Internal to Buildbot 4.3: {why}"})
    return cls


def internal_function(module: str, name: str, why: str) -> Callable[..., Any]:
    """A function named `name` (placed in `module`) that raises when called."""
    qualname = f"{module}.{name}"

    def placeholder(*args: Any, **kwargs: Any) -> NoReturn:
        _fail(qualname, why)

    placeholder.__name__ = placeholder.__qualname__ = name
    placeholder.__module__ = module
    placeholder.__doc__ = f"Internal to Buildbot 4.3: {why}"
    setattr(placeholder, MARK, why)
    return placeholder


def differs_internally(why: str) -> Callable[[T], T]:
    """Mark a class of ours that has a 4.3 name but is built by the master with other arguments.

    The class works here; only its constructor, which user code never calls, differs.
    """
    def mark(obj: T) -> T:
        setattr(obj, MARK, why)
        return obj
    return mark


def internal_method(qualname: str, why: str) -> Callable[..., Any]:
    """A method (of class `qualname`'s owner) that raises when called; `qualname` is
    "module.Class.method"."""
    def placeholder(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
        _fail(qualname, why)

    module = qualname.rsplit(".", 2)[0]
    placeholder.__name__ = qualname.rsplit(".", 1)[1]
    placeholder.__qualname__ = ".".join(qualname.rsplit(".", 2)[1:])
    placeholder.__module__ = module
    placeholder.__doc__ = f"Internal to Buildbot 4.3: {why}"
    setattr(placeholder, MARK, why)
    return placeholder
