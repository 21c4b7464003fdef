"""The `poller` dialect: `?poller=<name>` forces an immediate poll of polling change
sources (all of them without the argument). Creates no change itself. The `allowed`
option (list of names) restricts which pollers may be triggered (the reference looks it
up under a bytes key, so it never applies)."""

from __future__ import annotations

from typing import Any

from twisted.web import server

from buildbot.util import bytes2unicode
from buildbot.util.deferred import gather, maybe_await
from buildbot.www.hooks.base import BaseHookHandler


class PollingHandler(BaseHookHandler):
    """Polls change sources that have a `force()` method."""

    async def getChanges(self, req: server.Request) -> tuple[list[dict[str, Any]], None]:
        args: dict[bytes, list[bytes]] = req.args or {}
        wanted = [bytes2unicode(n) for n in args.get(b"poller", [])]
        allowed = None
        if isinstance(self.options, dict) and "allowed" in self.options:
            allowed = [bytes2unicode(n) for n in self.options["allowed"]]
        # Duck-typed: www does not import the change sources (STYLE §1).
        sources = [s for s in (getattr(self.master, "change_svc", None) or [])
                   if callable(getattr(s, "force", None)) and getattr(s, "name", None)]
        pollers = [s for s in sources
                   if (not wanted or s.name in wanted) and (allowed is None or s.name in allowed)]
        missing = sorted(set(wanted) - {s.name for s in pollers})
        if missing:
            raise ValueError(f"Could not find pollers: {','.join(missing)}")
        await gather(maybe_await(p.force()) for p in pollers)
        return [], None


poller = PollingHandler
