"""Helpers shared by the change hook dialects."""

from __future__ import annotations

import datetime
import json
from fnmatch import fnmatch
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode


def parse_date(text: str) -> datetime.datetime:
    """ISO 8601 timestamps as forges send them (`Z` or an offset)."""
    try:
        return datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError) as e:
        raise ValueError(f"invalid timestamp: {text!r}") from e


def json_body(request: server.Request) -> Any:
    """The request body parsed as JSON (ValueError with the parser's message otherwise)."""
    content = request.content.read() if request.content is not None else b""
    return json.loads(bytes2unicode(content))


def extract_properties(basename: str, payload: dict[str, Any], whitelist: list[str],
                       denylist: list[str] | None = None) -> dict[str, Any]:
    """`<basename>.<a>.<b>` properties for the payload's leaves whose flattened name
    matches a whitelist pattern."""
    found: dict[str, Any] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}"
            if denylist and name in denylist:
                continue
            if isinstance(value, dict):
                walk(name, value)
            elif any(fnmatch(name, pattern) for pattern in whitelist):
                found[name] = value

    walk(basename, payload)
    return found


class PullRequestMixin:
    """The reference's mixin for dialect subclasses: `extractProperties(payload)`."""

    property_basename = ""
    external_property_whitelist: list[str] = []  # noqa: RUF012  (reference API)
    external_property_denylist: list[str] = []  # noqa: RUF012

    def extractProperties(self, payload: dict[str, Any]) -> dict[str, Any]:
        return extract_properties(self.property_basename, payload,
                                  self.external_property_whitelist,
                                  self.external_property_denylist)


def codebase_for(codebase: Any, payload: dict[str, Any]) -> Any:
    return codebase(payload) if callable(codebase) else codebase
