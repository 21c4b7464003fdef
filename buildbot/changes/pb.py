"""PBChangeSource: receives changes from `buildbot sendchange` (and hook scripts using
`buildbot.clients.sendchange.Sender`) over Perspective Broker."""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger
from twisted.spread import pb

from buildbot import config
from buildbot.changes.base import ChangeSource
from buildbot.util.deferred import as_deferred

log = Logger()


class NewCredPerspective(pb.Avatar):
    """A PB avatar as the PB port manager expects it (`attached` / `detached`)."""

    def attached(self, mind: Any) -> Any:
        return self

    def detached(self, mind: Any) -> None:
        pass


class ChangePerspective(NewCredPerspective):
    """One logged-in sendchange client."""

    def __init__(self, master: Any, prefix: str | None) -> None:
        self.master = master
        self.prefix = prefix

    @as_deferred  # PB answers with the Deferred's result; it cannot await a coroutine
    async def perspective_addChange(self, changedict: dict[str, Any]) -> None:
        """Store the change the client sent (the sendchange dict: `who`, `when`, `files`,
        ...); files outside `prefix` are dropped, the prefix is removed from the others."""
        log.info("perspective_addChange called")
        change = dict(changedict)
        for key in ("revlink", "repository", "project"):
            if key in change and not change[key]:
                change[key] = ""
        if "committer" in change and not change["committer"]:
            change["committer"] = None
        if "who" in change:
            change["author"] = change.pop("who")
        if "when" in change:
            change["when_timestamp"] = change.pop("when")
        for key, value in change.items():
            if isinstance(value, bytes):
                change[key] = value.decode("utf8", "replace")
        files = []
        for path in change.get("files") or []:
            if isinstance(path, bytes):
                path = path.decode("utf8", "replace")
            if self.prefix:
                if not path.startswith(self.prefix):
                    continue
                path = path[len(self.prefix):]
            files.append(path)
        change["files"] = files
        if not files:
            log.info("No files listed in change... bit strange, but not fatal.")
        if "links" in change:
            log.info("Found links: {links!r}", links=change.pop("links"))
        if change.get("when_timestamp") is not None:
            change["when_timestamp"] = int(change["when_timestamp"])
        await self.master.data.updates.addChange(**change)


class PBChangeSource(ChangeSource):
    """Accepts `user`/`passwd` logins on `port` (default: the worker PB port,
    `c['protocols']['pb']['port']`) while this master owns the source."""

    compare_attrs = ChangeSource.compare_attrs

    def checkConfig(self, user: str = "change", passwd: str = "changepw",
                    port: int | str | None = None, prefix: str | None = None) -> None:
        if self.name is None:
            self.name = f"PBChangeSource:{prefix}:{port}" if prefix else \
                f"PBChangeSource:{port}"
        self.user = user
        self.passwd = passwd
        self.port = port
        self.prefix = prefix
        self.registration: Any = None
        self.registered_port: int | str | None = None

    def reconfigService(self, user: str = "change", passwd: str = "changepw",
                        port: int | str | None = None, prefix: str | None = None) -> Any:
        self.user, self.passwd, self.port, self.prefix = user, passwd, port, prefix
        return None

    def describe(self) -> str:
        text = f"PBChangeSource listener on {self.registered_port}"
        if self.prefix is not None:
            text += f" (prefix '{self.prefix}')"
        return text

    def _calculatePort(self, cfg: Any) -> int | str | None:
        port = self.port
        if port is None:
            port = ((getattr(cfg, "protocols", None) or {}).get("pb") or {}).get("port")
        return port

    async def reconfigServiceWithBuildbotConfig(self, new_config: Any) -> None:
        port = self._calculatePort(new_config)
        if not port:
            config.error("No port specified for PBChangeSource, and no worker port configured")
        if port != self.registered_port and self.isActive():
            await self._unregister_port()
            await self._register_port(port)

    async def reconfigServiceWithSibling(self, sibling: Any) -> None:
        await super().reconfigServiceWithSibling(sibling)
        if self.isActive():
            port = self._calculatePort(self.master.config)
            if port != self.registered_port or self.registration is None:
                await self._unregister_port()
                await self._register_port(port)

    async def activate(self) -> None:
        await self._register_port(self._calculatePort(self.master.config))

    async def deactivate(self) -> None:
        await self._unregister_port()

    async def _register_port(self, port: int | str | None) -> None:
        if not port:
            log.error("No port specified for PBChangeSource, and no worker port configured")
            return
        self.registered_port = port
        self.registration = await self.master.pbmanager.register(
            port, self.user, self.passwd, self.getPerspective)

    async def _unregister_port(self) -> None:
        self.registered_port = None
        registration, self.registration = self.registration, None
        if registration is not None:
            await registration.unregister()

    def getPerspective(self, mind: Any, username: str) -> ChangePerspective:
        assert username == self.user
        return ChangePerspective(self.master, self.prefix)
