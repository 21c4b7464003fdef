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
        change = {key: _decoded(value) for key, value in changedict.items()}
        for sent, stored in _SENDCHANGE_RENAMES:
            if sent in change:
                change[stored] = change.pop(sent)
        # an empty value of these fields is stored as "" (None for the committer)
        for key in _BLANK_WHEN_EMPTY:
            if key in change and not change[key]:
                change[key] = ""
        if "committer" in change and not change["committer"]:
            change["committer"] = None
        change["files"] = _files_under(self.prefix, changedict.get("files"))
        if not change["files"]:
            log.info("No files listed in change... bit strange, but not fatal.")
        if "links" in change:
            log.info("Found links: {links!r}", links=change.pop("links"))
        if change.get("when_timestamp") is not None:
            change["when_timestamp"] = int(change["when_timestamp"])
        await self.master.data.updates.addChange(**change)


# sendchange's names of Change fields and the data API's
_SENDCHANGE_RENAMES = (("who", "author"), ("when", "when_timestamp"))
_BLANK_WHEN_EMPTY = ("revlink", "repository", "project")


def _decoded(value: Any) -> Any:
    return value.decode("utf8", "replace") if isinstance(value, bytes) else value


def _files_under(prefix: str | None, paths: Any) -> list[str]:
    """The changed files inside `prefix`, relative to it (all of them without a prefix)."""
    names = [_decoded(path) for path in paths or []]
    if not prefix:
        return names
    return [name[len(prefix):] for name in names if name.startswith(prefix)]


class PBChangeSource(ChangeSource):
    """Accepts `user`/`passwd` logins on `port` (default: the worker PB port,
    `c['protocols']['pb']['port']`) while this master owns the source."""

    compare_attrs = ChangeSource.compare_attrs

    def __init__(self, user: str = "change", passwd: str = "changepw",
                 port: int | str | None = None, prefix: str | None = None,
                 name: str | None = None) -> None:
        if name is None:
            name = f"PBChangeSource:{prefix}:{port}" if prefix else f"PBChangeSource:{port}"
        # Kept as keywords, so that 4.3's reconfigService(name=None, *args, **kwargs) can
        # take them: a positional `user` would land in `name`.
        super().__init__(name=name, user=user, passwd=passwd, port=port, prefix=prefix)

    def checkConfig(self, user: str = "change", passwd: str = "changepw",
                    port: int | str | None = None, prefix: str | None = None) -> None:
        self._take_settings(user, passwd, port, prefix)
        # the login registered with the PB port manager while this master is active
        self.registration: Any = None
        self.registered_port: int | str | None = None
        self._registered_login: tuple[Any, ...] | None = None

    def reconfigService(self, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """Take the (new) login settings; an active source re-registers when its port or
        credentials changed (reconfigServiceWithSibling)."""
        self._take_settings(*args, **kwargs)
        return None

    def _take_settings(self, user: str = "change", passwd: str = "changepw",
                       port: int | str | None = None, prefix: str | None = None) -> None:
        self.user, self.passwd, self.port, self.prefix = user, passwd, port, prefix

    def describe(self) -> str:
        scope = "" if self.prefix is None else f" (prefix '{self.prefix}')"
        return f"PBChangeSource listener on {self.registered_port}{scope}"

    def _calculatePort(self, cfg: Any) -> int | str | None:
        # without a port of its own, the source shares the workers' PB port
        if self.port is not None:
            return self.port
        protocols = getattr(cfg, "protocols", None) or {}
        return (protocols.get("pb") or {}).get("port")

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
            if (port, self.user, self.passwd) != self._registered_login:
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
        self._registered_login = (port, self.user, self.passwd)
        self.registration = await self.master.pbmanager.register(
            port, self.user, self.passwd, self.getPerspective)

    async def _unregister_port(self) -> None:
        self.registered_port = self._registered_login = None
        registration, self.registration = self.registration, None
        if registration is not None:
            await registration.unregister()

    def getPerspective(self, mind: Any, username: str) -> ChangePerspective:
        assert username == self.user
        return ChangePerspective(self.master, self.prefix)
