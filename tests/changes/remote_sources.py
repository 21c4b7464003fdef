"""Helpers of the change source tests: configure a source on the stack, read back the
changes it stored."""

from __future__ import annotations

from typing import Any

from tests.fixtures.stack import Stack


async def configure(stack: Stack, source: Any) -> Any:
    """`source` attached to the stack's master and configured (not started)."""
    source.master = stack.master
    await source.reconfigServiceWithSibling(source)
    return source


async def stored_changes(stack: Stack) -> list[dict[str, Any]]:
    """The stored changes' user-visible fields, oldest first."""
    rows = await stack.data.get(("changes",))
    keep = ("author", "committer", "revision", "revlink", "comments", "when_timestamp",
            "branch", "category", "project", "repository", "files", "properties")
    return [{k: c[k] for k in keep} for c in sorted(rows, key=lambda c: c["changeid"])]
