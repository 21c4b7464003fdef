"""Small argument checks shared by master.cfg classes (steps, reporters, builders, ...).

Each reports a problem through `buildbot.config.errors.error` (collected while a
configuration loads) and returns a usable value so the caller can carry on. Messages and
fallback values follow the reference, since plugins call these functions too.
"""

from __future__ import annotations

import importlib.util
from typing import Any, TypeVar

from buildbot.config.errors import error

T = TypeVar("T")


def _class_name(class_inst: Any) -> str:
    return class_inst.__name__ if isinstance(class_inst, type) else type(class_inst).__name__


def check_param_length(value: Any, name: str, max_length: int) -> None:
    """Report `name` if `value` is a string longer than `max_length` (a database column size)."""
    if isinstance(value, str) and len(value) > max_length:
        error(f"{name} '{value}' exceeds maximum length of {max_length}")


def check_param_type(value: Any, default_value: T, class_inst: Any, name: str,
                     types: tuple[type, ...], types_msg: str) -> T:
    """Return `value` if it is one of `types`; otherwise report it and return `default_value`.

    `class_inst` (a class or an instance) names the owner in the message.
    """
    if isinstance(value, types):
        return value  # type: ignore[return-value]  # value is one of the accepted types
    error(f"{_class_name(class_inst)} argument {name} must be an instance of {types_msg}")
    return default_value


def check_param_bool(value: Any, class_inst: Any, name: str) -> bool:
    """`value` if it is a bool, else report and return False."""
    return check_param_type(value, False, class_inst, name, (bool,), "bool")


def check_param_str(value: Any, class_inst: Any, name: str) -> str:
    """`value` if it is a str, else report and return "(unknown)"."""
    return check_param_type(value, "(unknown)", class_inst, name, (str,), "str")


def check_param_str_none(value: Any, class_inst: Any, name: str) -> str | None:
    """`value` if it is a str or None, else report and return "(unknown)"."""
    return check_param_type(value, "(unknown)", class_inst, name, (str, type(None)),
                            "str or None")


def check_param_int(value: Any, class_inst: Any, name: str) -> int:
    """`value` if it is an int, else report and return 0."""
    return check_param_type(value, 0, class_inst, name, (int,), "int")


def check_param_int_none(value: Any, class_inst: Any, name: str) -> int | None:
    """`value` if it is an int or None, else report and return None."""
    return check_param_type(value, None, class_inst, name, (int, type(None)), "int or None")


def check_param_number_none(value: Any, class_inst: Any, name: str) -> int | float | None:
    """`value` if it is an int, a float or None, else report and return 0."""
    return check_param_type(value, 0, class_inst, name, (int, float, type(None)),
                            "int or float or None")


def markdown_available() -> bool:
    """True if the `markdown` package can be imported (it is optional)."""
    return importlib.util.find_spec("markdown") is not None


def check_markdown_support(class_inst: Any) -> bool:
    """True if markdown descriptions can be rendered; otherwise report it for `class_inst`."""
    if markdown_available():
        return True
    error(f"{_class_name(class_inst)}: Markdown library is required in order to use markdown "
          "format ('pip install Markdown')")
    return False
