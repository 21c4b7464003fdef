"""`PullRequestMixin`: turns a forge's JSON payload into change properties.

Nested keys become dotted property names under `property_basename` (`github.head.sha`);
a name is kept when it matches one of the `external_property_whitelist` glob patterns and
is not listed in `external_property_denylist`.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any


class PullRequestMixin:
    """Adds `extractProperties(payload)` to change sources and webhooks."""

    # per-instance lists in practice; class defaults as in 4.3
    external_property_whitelist: list[str] = []  # noqa: RUF012
    external_property_denylist: list[str] = []  # noqa: RUF012
    property_basename = "pullrequest"

    def extractProperties(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Leaf values of `payload` selected by the allow/deny lists, keyed by dotted path
        (in the payload's order)."""
        return dict(self._wanted_leaves(self.property_basename, payload))

    def _wanted_leaves(self, prefix: str, node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for key, value in node.items():
            dotted = f"{prefix}.{key}"
            if dotted in self.external_property_denylist:
                continue
            if isinstance(value, dict):
                yield from self._wanted_leaves(dotted, value)
            elif self._property_wanted(dotted):
                yield dotted, value

    def _property_wanted(self, dotted: str) -> bool:
        # fnmatch (not fnmatchcase) in the reference: case folding only differs on Windows
        return any(fnmatchcase(dotted, pattern) for pattern in self.external_property_whitelist)
