"""`Sender`: sends one change to a master's PBChangeSource (what `buildbot sendchange` and
VCS hook scripts use)."""

from __future__ import annotations

from typing import Any

from twisted.cred import credentials
from twisted.internet import defer
from twisted.spread import pb

from buildbot.util.deferred import ensure_deferred


class Sender:
    """`Sender("host:port", auth=("change", "changepw"), encoding="utf8")`."""

    def __init__(self, master: str, auth: tuple[str, str] = ("change", "changepw"),
                 encoding: str = "utf8") -> None:
        self.username = auth[0].encode("utf-8")
        self.password = auth[1].encode("utf-8")
        self.host, port = master.split(":")
        self.port = int(port)
        self.encoding = encoding

    def send(self, branch: str | None, revision: str | None, comments: str | None,
             files: list[str], who: str | None = None, category: str | None = None,
             when: float | None = None, properties: dict[str, Any] | None = None,
             repository: str = "", vc: str | None = None, project: str = "",
             revlink: str = "", codebase: str | None = None) -> defer.Deferred[Any]:
        """Log in, send the change, disconnect; the Deferred fires when the master has
        stored it (or fails with the master's error)."""
        change: dict[str, Any] = {
            "project": project, "repository": repository, "who": who, "files": files,
            "comments": comments, "branch": branch, "revision": revision,
            "category": category, "when": when, "properties": properties or {},
            "revlink": revlink, "src": vc}
        if codebase is not None:
            change["codebase"] = codebase
        for key, value in list(change.items()):
            if isinstance(value, bytes):
                change[key] = value.decode(self.encoding, "replace")
        change["files"] = [f.decode(self.encoding, "replace") if isinstance(f, bytes) else f
                           for f in files]
        return ensure_deferred(self._send(change))

    async def _send(self, change: dict[str, Any]) -> Any:
        from twisted.internet import reactor

        factory: Any = pb.PBClientFactory()
        tcp: Any = reactor
        tcp.connectTCP(self.host, self.port, factory)
        try:
            remote = await factory.login(credentials.UsernamePassword(self.username,
                                                                      self.password))
            return await remote.callRemote("addChange", change)
        finally:
            factory.disconnect()
