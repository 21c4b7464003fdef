"""TLS support check: `has_ssl`, `ensureHasSSL(module)` and the Twisted TLS names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ssl_import_error: str | None = None
try:
    from twisted.internet.ssl import *
    from twisted.internet.ssl import ClientContextFactory  # noqa: F401
    has_ssl = True
except ImportError as e:  # pragma: no cover - pyOpenSSL missing
    has_ssl = False
    ssl_import_error = str(e)


def ensureHasSSL(module: str) -> None:
    """Raise a configuration-style error naming `module` when TLS is not available."""
    if not has_ssl:
        raise RuntimeError(f"TLS dependencies required for {module} are not installed: "
                           f"{ssl_import_error}; pip install 'pyOpenSSL' 'service_identity'")


def skipUnless(f: Callable[..., Any]) -> Callable[..., Any]:
    """Test decorator: skip when TLS is not available."""
    if has_ssl:
        return f
    import pytest
    skip = pytest.mark.skip(reason=f"TLS not available: {ssl_import_error}")
    skipped: Callable[..., Any] = skip(f)
    return skipped
