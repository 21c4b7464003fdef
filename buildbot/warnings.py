"""Warning categories of the master, importable as in the reference (`buildbot.warnings`).

`ConfigWarning` is for configuration problems that do not stop the master (a long title, an
absolute builddir, ...). `DeprecatedApiWarning` marks master.cfg or plugin APIs that still
work but will go away; `warn_deprecated` prefixes the message with the version that
deprecated it, as "[<version> and later] <message>".
"""

from __future__ import annotations

import warnings


class ConfigWarning(Warning):
    """A configuration problem that does not prevent loading the configuration."""


class DeprecatedApiWarning(Warning):
    """Use of an API (class, argument, attribute) that is deprecated."""


def warn_deprecated(version: str, msg: str, stacklevel: int = 2) -> None:
    """Emit a `DeprecatedApiWarning` saying `msg` applies since `version`.

    `stacklevel` counts from the caller of this function, as for `warnings.warn`.
    """
    warnings.warn(f"[{version} and later] {msg}", category=DeprecatedApiWarning,
                  stacklevel=stacklevel + 1)
