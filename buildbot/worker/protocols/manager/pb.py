"""PB port manager: one Twisted PB port per port string, logins dispatched by username.

Each dispatcher is a Twisted cred realm and checker behind a `PBServerFactory(Portal)`, so a
stock PB client (the worker) logs in with the MD5 challenge of `twisted.spread.pb`
(as buildbot-worker 4.3 does). Bad credentials surface to the worker as `UnauthorizedLogin`
only (any other error type makes the worker process exit); every other refusal does exit it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.cred import checkers, credentials, portal
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb
from zope.interface import Interface, implementer

from buildbot.util.deferred import ensure_deferred, maybe_await
from buildbot.worker.protocols.base import WorkerConnectionLost
from buildbot.worker.protocols.manager.base import Dispatcher, PortManager, render_password
from buildbot.worker.protocols.pb_broker import OffsetBroker

log = Logger()


class LoginRefused(pb.Error, UnauthorizedLogin):
    """Unknown username or wrong password.

    An `UnauthorizedLogin` (the worker retries with backoff) and a `pb.Error` (Twisted sends
    it to the peer without logging a traceback on the master).
    """


class LoginRejected(pb.Error):
    """The login was refused for another reason (duplicate worker, failed handshake).

    Not an `UnauthorizedLogin`: the stock worker logs it and exits, as with the reference.
    """


def _peer_of(obj: Any) -> str:
    broker = getattr(obj, "broker", None)
    try:
        p = broker.transport.getPeer()  # type: ignore[union-attr]  # a connected broker has a transport
    except AttributeError:
        return "unknown address"
    host, port = getattr(p, "host", None), getattr(p, "port", None)
    return f"{host}:{port}" if host is not None else str(p)


@implementer(portal.IRealm, checkers.ICredentialsChecker)
class PBDispatcher(Dispatcher):
    """A PB port: cred checker (MD5 challenge) and realm for the usernames registered on it."""

    credentialInterfaces: ClassVar[list[Any]] = [credentials.IUsernameHashedPassword]

    def __init__(self, portstr: str, reactor: Any) -> None:
        super().__init__(portstr, reactor)
        me: Any = self  # a realm and a checker (zope interfaces, invisible to mypy)
        self.portal = portal.Portal(me, [me])

    def make_factory(self) -> Any:
        factory = pb.PBServerFactory(self.portal)
        factory.protocol = OffsetBroker  # Twisted's broker, reading banana without copies
        return factory

    # -- ICredentialsChecker --------------------------------------------------------------
    def requestAvatarId(self, creds: Any) -> defer.Deferred[bytes]:
        return ensure_deferred(self._check_credentials(creds))

    async def _check_credentials(self, creds: Any) -> bytes:
        raw = creds.username
        username = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        entry = self.users.get(username)
        if entry is None:
            log.warn("worker login refused on {portstr}: unknown name {name!r} (from {peer})",
                     portstr=self.portstr, name=username, peer=_peer_of(creds))
            raise LoginRefused(f"unknown name {username!r}")
        try:
            password = await render_password(entry[0])
        except Exception as e:
            # the worker must keep retrying (another error type would make it exit)
            log.failure("cannot render the password of {name!r}", name=username)
            raise LoginRefused(f"no usable password for {username!r}") from e
        if not creds.checkPassword(password):
            log.warn("worker login refused on {portstr}: wrong password for {name!r} "
                     "(from {peer})", portstr=self.portstr, name=username, peer=_peer_of(creds))
            raise LoginRefused(f"wrong password for {username!r}")
        return raw if isinstance(raw, bytes) else username.encode("utf-8")

    # -- IRealm --------------------------------------------------------------------------
    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type[Interface]
                      ) -> defer.Deferred[tuple[Any, Any, Any]]:
        return ensure_deferred(self._make_avatar(avatarId, mind, interfaces))

    async def _make_avatar(self, avatarId: Any, mind: Any, interfaces: tuple[Any, ...]
                           ) -> tuple[Any, Any, Any]:
        if pb.IPerspective not in interfaces:
            raise NotImplementedError("only PB perspectives are served")
        username = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else str(avatarId)
        peer = _peer_of(mind)
        entry = self.users.get(username)
        if entry is None:  # unregistered between the check and now
            raise LoginRefused(f"unknown name {username!r}")
        try:
            avatar = await maybe_await(entry[1](mind, username))
        except UnauthorizedLogin:
            raise
        except Exception as e:
            log.info("login of {name!r} from {peer} on {portstr} refused: {why}",
                     name=username, peer=peer, portstr=self.portstr, why=e)
            raise LoginRejected(str(e)) from e
        if avatar is None:
            raise LoginRejected(f"no perspective for {username!r}")
        # The login is answered only once the handshake (print, getWorkerInfo,
        # setBuilderList, ...) has run: the worker says "Connected to buildmaster" after it.
        try:
            await maybe_await(avatar.attached(mind))
        except WorkerConnectionLost as e:
            log.info("worker {name!r} ({peer}) went away during its handshake: {why}",
                     name=username, peer=peer, why=e)
            _safe_detach(avatar, mind)
            raise LoginRejected(str(e)) from e
        except Exception as e:
            log.failure("handshake with worker {name!r} ({peer}) failed", name=username,
                        peer=peer)
            _safe_detach(avatar, mind)
            raise LoginRejected(f"handshake failed: {e}") from e
        return (pb.IPerspective, avatar, lambda: avatar.detached(mind))


def _safe_detach(avatar: Any, mind: Any) -> None:
    # The logout is only wired once the login succeeds: tell the avatar ourselves.
    try:
        avatar.detached(mind)
    except Exception:
        log.failure("while detaching {avatar!r} after a failed handshake", avatar=avatar)


class PBManager(PortManager):
    """The `pbmanager` service: `register(portstr, username, password, pfactory)`.

    `pfactory(mind, username)` returns (possibly asynchronously) the avatar: an object with
    `attached(mind)` (awaited before the login is answered), `detached(mind)` (the logout,
    run when the connection closes) and `perspective_*` methods.
    """

    dispatcher_class = PBDispatcher

    def __init__(self, reactor: Any = None) -> None:
        super().__init__("pbmanager", reactor)
