"""The `base` dialect: one change from form or query fields; base class of dialects."""

from __future__ import annotations

import json
from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode


class BaseHookHandler:
    """A dialect handler: `getChanges(request)` returns `(change dicts, src)` (or a
    Deferred / coroutine of it) and raises ValueError to reject the request."""

    def __init__(self, master: Any, options: Any) -> None:
        self.master = master
        self.options = options

    async def render_secret(self, value: Any) -> Any:
        """A configured secret as text (rendered through the master for Secret/Interpolate)."""
        if value is None or isinstance(value, (str, bytes)):
            return bytes2unicode(value)
        render = getattr(self.master, "render_secrets", None)
        if render is not None:
            return bytes2unicode(await render(value))
        return str(value)

    def getChanges(self, request: server.Request) -> Any:
        args: dict[bytes, list[bytes]] = request.args or {}

        def first(name: bytes) -> str | None:
            values = args.get(name)
            text: str | None = bytes2unicode(values[0]) if values else None
            return text

        try:
            files = json.loads(first(b"files") or "[]")
            properties = json.loads(first(b"properties") or "{}")
        except ValueError as e:
            raise ValueError(f"invalid JSON in files or properties: {e}") from e
        if not isinstance(files, list) or not isinstance(properties, dict):
            raise ValueError("files must be a JSON list and properties a JSON object")  # noqa: TRY004
        when_text = first(b"when_timestamp")
        if when_text is None:
            when_text = first(b"when")
        try:
            when = float(when_text) if when_text is not None else None
        except ValueError as e:
            raise ValueError(f"invalid when_timestamp: {when_text}") from e
        chdict = {
            "author": first(b"author") or first(b"who"),
            "committer": first(b"committer"),
            "files": files,
            "comments": first(b"comments"),
            "revision": first(b"revision"),
            "when_timestamp": when,
            "branch": first(b"branch"),
            "category": first(b"category"),
            "revlink": first(b"revlink"),
            "properties": properties,
            "repository": first(b"repository") or "",
            "project": first(b"project") or "",
            "codebase": first(b"codebase"),
        }
        return [chdict], None


base = BaseHookHandler
