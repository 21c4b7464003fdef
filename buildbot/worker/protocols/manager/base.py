"""Ports shared by several usernames: the common part of the PB and msgpack port managers.

A manager keeps one *dispatcher* per normalized port string. A dispatcher listens on its
port and owns a table `username -> (password, factory)`; registering the first username on a
port starts listening (once the manager runs), unregistering the last one closes the port.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from buildbot.util.deferred import maybe_await
from buildbot.util.internal import differs_internally, internal_class
from buildbot.util.service import AsyncService

log = Logger()

# A password is a str/bytes, or a callable returning one (possibly asynchronously), so that
# secrets are rendered at login time rather than kept in clear text by the manager.
Password = str | bytes | Callable[[], Any]
# `factory(transport_side, username)` returns (possibly asynchronously) the per-connection
# object: for PB the avatar, for msgpack the Connection.
PFactory = Callable[[Any, str], Any]


async def render_password(password: Password) -> bytes:
    """The password as bytes (UTF-8), calling/awaiting it first if it is a callable."""
    if callable(password):
        password = await maybe_await(password())
    if isinstance(password, str):
        return password.encode("utf-8")
    if isinstance(password, bytes):
        return password
    raise TypeError(f"password must render to str or bytes, not {type(password).__name__}")


class Registration:
    """One username registered on one port; `unregister()` removes it."""

    def __init__(self, manager: PortManager, portstr: str, username: str) -> None:
        self.manager = manager
        self.portstr = portstr
        self.username: str | None = username

    def __repr__(self) -> str:
        return f"<Registration of {self.username!r} on {self.portstr}>"

    async def unregister(self) -> None:
        """Remove the username; the port closes when no username is left (idempotent)."""
        if self.username is None:
            return
        username, self.username = self.username, None
        await self.manager._unregister(self.portstr, username)

    def getPort(self) -> int:
        """The TCP port number actually listened on (useful with port 0)."""
        disp = self.manager.dispatchers[self.portstr]
        if disp.port is None:
            raise RuntimeError(f"{self.portstr} is not listening (is the manager running?)")
        return int(disp.port.getHost().port)


class Dispatcher:
    """One listening port and the usernames registered on it."""

    def __init__(self, portstr: str, reactor: Any) -> None:
        self.portstr = portstr
        self.reactor = reactor
        self.users: dict[str, tuple[Password, PFactory]] = {}
        self.port: Any = None  # IListeningPort

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {', '.join(self.users)} on {self.portstr}>"

    def make_factory(self) -> Any:
        """The protocol factory served on the port."""
        raise NotImplementedError

    async def start_listening(self) -> None:
        if self.port is None:
            endpoint = serverFromString(self.reactor, self.portstr)
            self.port = await endpoint.listen(self.make_factory())
            log.info("listening for workers on {portstr} ({kind})", portstr=self.portstr,
                     kind=type(self).__name__)

    async def stop_listening(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            await maybe_await(port.stopListening())

    def register(self, username: str, password: Password, pfactory: PFactory) -> None:
        if username in self.users:
            raise KeyError(f"username {username!r} is already registered on port {self.portstr}")
        self.users[username] = (password, pfactory)

    def unregister(self, username: str) -> None:
        del self.users[username]


class PortManager(AsyncService):
    """Service owning the dispatchers of one protocol. Subclasses set `dispatcher_class`."""

    dispatcher_class: type[Dispatcher] = Dispatcher

    def __init__(self, name: str, reactor: Any = None) -> None:
        super().__init__(name)
        if reactor is None:
            from twisted.internet import reactor as default_reactor
            reactor = default_reactor
        self.reactor = reactor
        self.dispatchers: dict[str, Dispatcher] = {}

    def normalize_portstr(self, portstr: int | str) -> str:
        """The port's identity: an int or a string without ':' becomes `tcp:<P>`."""
        if isinstance(portstr, int) or ":" not in portstr:
            return f"tcp:{portstr}"
        return portstr

    async def register(self, config_portstr: int | str, username: str, password: Password,
                       pfactory: PFactory) -> Registration:
        """Accept `username`/`password` on `config_portstr` (as configured: an int or a
        string without ':' means a TCP port); `pfactory` makes its connections.

        Raises KeyError if the username is already registered on that port, or the listening
        error if the port cannot be opened (the registration is then undone).
        """
        key = self.normalize_portstr(config_portstr)
        disp = self.dispatchers.get(key)
        created = disp is None
        if disp is None:
            disp = self.dispatchers[key] = self.dispatcher_class(key, self.reactor)
        disp.register(username, password, pfactory)
        if self.running and disp.port is None:
            try:
                await disp.start_listening()
            except BaseException:
                disp.unregister(username)
                if created and not disp.users:
                    del self.dispatchers[key]
                raise
        return Registration(self, key, username)

    async def _unregister(self, portstr: str, username: str) -> None:
        disp = self.dispatchers[portstr]
        disp.unregister(username)
        if not disp.users:
            del self.dispatchers[portstr]
            await disp.stop_listening()

    async def start(self) -> None:
        await super().start()
        for disp in list(self.dispatchers.values()):
            await disp.start_listening()

    async def stop(self) -> None:
        for disp in list(self.dispatchers.values()):
            await disp.stop_listening()
        await super().stop()


# -- Buildbot 4.3 names (see docs/differences.md) --------------------------------------
_INTERNAL_WHY = ("the worker connections of this master are implemented differently "
                 "(buildbot.worker.protocols)")
BaseDispatcher = internal_class(__name__, "BaseDispatcher", _INTERNAL_WHY)
BaseManager = internal_class(__name__, "BaseManager", _INTERNAL_WHY)
differs_internally(_INTERNAL_WHY)(Dispatcher)
