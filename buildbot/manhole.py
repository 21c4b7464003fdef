"""Manholes (`c['manhole']`): a Python shell inside the running master, over telnet or SSH,
with `master` (and the `show` helper) in its namespace. For debugging a live master.

`port` is a strports description ("tcp:1234:interface=127.0.0.1"). A bare port number
listens on 127.0.0.1 only (4.3 listens on every interface; see docs/differences.md): the
shell runs arbitrary code as the master's user.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any

from twisted.application import strports
from twisted.conch import manhole, telnet
from twisted.conch.insults import insults
from twisted.cred import checkers, portal
from twisted.internet import protocol
from twisted.logger import Logger
from zope.interface import implementer

from buildbot import config
from buildbot.util import ComparableMixin, service, unicode2bytes

try:  # the SSH side needs `cryptography` (an optional dependency of Twisted)
    from twisted.conch import manhole_ssh
    from twisted.conch.checkers import (
        IAuthorizedKeysDB,
        SSHPublicKeyChecker,
        readAuthorizedKeyFile,
    )
    from twisted.conch.openssh_compat.factory import OpenSSHFactory
    from twisted.conch.ssh import transport as ssh_transport
except ImportError:  # pragma: no cover - cryptography is installed with us
    manhole_ssh = None  # type: ignore[assignment]  # placeholder while the optional library is missing
    SSHPublicKeyChecker = object  # type: ignore[assignment,misc]  # placeholder while the optional library is missing
    OpenSSHFactory = None  # type: ignore[assignment,misc]  # placeholder while the optional library is missing
    ssh_transport = None  # type: ignore[assignment]  # placeholder while the optional library is missing

log = Logger()

NO_CRYPTOGRAPHY = "cryptography required for ssh mahole."  # sic: 4.3's message


def _listen_description(port: int | str) -> str:
    if isinstance(port, int):
        return f"tcp:{port}:interface=127.0.0.1"
    return port


class makeTelnetProtocol:
    """Protocol factory of the telnet listener: login first, then the shell."""

    def __init__(self, portal: portal.Portal) -> None:
        self.portal = portal

    def __call__(self) -> telnet.TelnetTransport:
        return telnet.TelnetTransport(telnet.AuthenticatingTelnetProtocol, self.portal)


class chainedProtocolFactory:
    """The terminal protocol an SSH session runs: a colored Python shell on `namespace`."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def __call__(self) -> insults.ServerProtocol:
        return insults.ServerProtocol(manhole.ColoredManhole, self.namespace)


@implementer(portal.IRealm)
class _TelnetRealm:
    def __init__(self, namespace: Callable[[], dict[str, Any]]) -> None:
        self.namespace = namespace

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        if telnet.ITelnetProtocol not in interfaces:
            raise NotImplementedError("the telnet manhole only serves telnet sessions")
        shell = telnet.TelnetBootstrapProtocol(insults.ServerProtocol, manhole.ColoredManhole,
                                               self.namespace())
        return telnet.ITelnetProtocol, shell, lambda: None


@implementer(IAuthorizedKeysDB)
class _AuthorizedKeysFile:
    """The keys of one authorized_keys-style file, whatever the user name; read at each login
    so that edits apply without a reconfig."""

    def __init__(self, path: str) -> None:
        self.path = path

    def getAuthorizedKeys(self, username: bytes) -> list[Any]:
        try:
            with open(self.path, "rb") as f:
                return list(readAuthorizedKeyFile(f))
        except OSError as e:
            log.error("Manhole: cannot read authorized keys {path}: {err}", path=self.path, err=e)
            return []


class AuthorizedKeysChecker(SSHPublicKeyChecker):
    """Accepts the SSH keys listed in one authorized_keys-style file."""

    def __init__(self, authorized_keys_file: str) -> None:
        self.authorized_keys_file = os.path.expanduser(authorized_keys_file)
        keydb: Any = _AuthorizedKeysFile(self.authorized_keys_file)
        super().__init__(keydb)

    def checkKey(self, credentials: Any) -> bool:
        """Whether the public key of `credentials` (its `blob`) is listed in the file."""
        keydb: Any = self._keydb
        return any(key.blob() == credentials.blob
                   for key in keydb.getAuthorizedKeys(credentials.username))


if ssh_transport is not None:
    class _ServerTransport(ssh_transport.SSHServerTransport):
        """Logs a client's ordinary goodbye (`ssh` exiting) as information, not an error."""

        def receiveError(self, reasonCode: int, description: bytes) -> None:
            if reasonCode == ssh_transport.DISCONNECT_BY_APPLICATION:
                log.info("Manhole: SSH client disconnected: {why}", why=description)
            else:
                super().receiveError(reasonCode, description)


def _password_checker(username: str, password: str) -> Any:
    checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()
    checker.addUser(unicode2bytes(username), unicode2bytes(password))
    return checker


class _BaseManhole(service.AsyncMultiService):
    """Listens on `port`; SSH when `ssh_hostkey_dir` (holding `ssh_host_*_key` files) is
    given, telnet otherwise; `checker` authenticates the client."""

    def __init__(self, port: int | str, checker: Any, ssh_hostkey_dir: str | None = None
                 ) -> None:
        super().__init__()
        self.port = _listen_description(port)
        self.checker = checker
        self.ssh_hostkey_dir = ssh_hostkey_dir
        self.using_ssh = bool(ssh_hostkey_dir)
        factory = self._ssh_factory() if self.using_ssh else self._telnet_factory()
        listener: Any = factory
        strports.service(self.port, listener).setServiceParent(self)

    @property
    def master(self) -> Any:
        parent = self.parent
        return getattr(parent, "master", None) if parent is not None else None

    def _namespace(self) -> dict[str, Any]:
        return {"master": self.master, "show": show}

    def _telnet_factory(self) -> protocol.ServerFactory:
        factory = protocol.ServerFactory()
        realm: Any = _TelnetRealm(self._namespace)
        factory.protocol = makeTelnetProtocol(
            portal.Portal(realm, [self.checker]))
        return factory

    def _shell(self) -> insults.ServerProtocol:
        return chainedProtocolFactory(self._namespace())()

    def _ssh_factory(self) -> Any:
        if manhole_ssh is None:
            raise RuntimeError(NO_CRYPTOGRAPHY)
        realm: Any = manhole_ssh.TerminalRealm()
        realm.chainedProtocolFactory = self._shell
        factory = manhole_ssh.ConchFactory(portal.Portal(realm, [self.checker]))
        factory.protocol = _ServerTransport
        keys: Any = OpenSSHFactory()
        keys.dataRoot = keys.moduliRoot = self.ssh_hostkey_dir
        try:
            factory.publicKeys = keys.getPublicKeys()
            factory.privateKeys = keys.getPrivateKeys()
        except OSError as e:  # a config error rather than a traceback (4.3 raises)
            config.error(f"manhole ssh_hostkey_dir {self.ssh_hostkey_dir!r}: {e.strerror}")
            factory.publicKeys = factory.privateKeys = {}
        factory.primes = keys.getPrimes()
        return factory

    async def start(self) -> None:
        if self.using_ssh and not getattr(self._listener_factory(), "privateKeys", None):
            log.error("Manhole: no SSH host keys (ssh_host_*_key) in {dir}; not listening",
                      dir=os.path.abspath(str(self.ssh_hostkey_dir)))
            return
        log.info("Manhole listening {via} on port {port}",
                 via="via SSH" if self.using_ssh else "via telnet", port=self.port)
        await super().start()

    def _listener_factory(self) -> Any:
        return next(iter(self)).factory


class TelnetManhole(_BaseManhole, ComparableMixin):
    """A Python shell over telnet, behind a username and password (sent in clear text)."""

    compare_attrs = ("port", "username", "password")

    def __init__(self, port: int | str, username: str, password: str) -> None:
        self.username, self.password = username, password
        super().__init__(port, _password_checker(username, password))


class PasswordManhole(_BaseManhole, ComparableMixin):
    """A Python shell over SSH, behind a username and password."""

    compare_attrs = ("port", "username", "password", "ssh_hostkey_dir")

    def __init__(self, port: int | str, username: str, password: str,
                 ssh_hostkey_dir: str) -> None:
        if manhole_ssh is None:
            config.error(NO_CRYPTOGRAPHY)
        self.username, self.password = username, password
        super().__init__(port, _password_checker(username, password), ssh_hostkey_dir)


class AuthorizedKeysManhole(_BaseManhole, ComparableMixin):
    """A Python shell over SSH for the keys listed in `keyfile` (authorized_keys format)."""

    compare_attrs = ("port", "keyfile", "ssh_hostkey_dir")

    def __init__(self, port: int | str, keyfile: str, ssh_hostkey_dir: str) -> None:
        if manhole_ssh is None:
            config.error(NO_CRYPTOGRAPHY)
        self.keyfile = keyfile
        super().__init__(port, AuthorizedKeysChecker(keyfile), ssh_hostkey_dir)


class ArbitraryCheckerManhole(_BaseManhole, ComparableMixin):
    """A Python shell (over telnet, as in 4.3) authenticated by any twisted.cred checker."""

    compare_attrs = ("port", "checker")

    def __init__(self, port: int | str, checker: Any) -> None:
        if manhole_ssh is None:
            config.error(NO_CRYPTOGRAPHY)
        super().__init__(port, checker)


def _summary(value: Any, room: int) -> str:
    """One-line description of an attribute value in `show`'s table."""
    match value:
        case str() if len(value) > room:
            return repr(value[:room]) + "..."
        case str():
            return value
        case None | int():
            return str(value)
        case list() | tuple() | dict():
            return f"{value} ({len(value)} elements)"
    return str(type(value))


def show(x: Any) -> Any:
    """Print the data attributes of `x` (not methods, not dunders), one per line; return x.
    (A helper in the manhole's namespace: `show(master.botmaster)`.)"""
    print(f"data attributes of {x!r}")
    names = dir(x)
    width = max((len(n) for n in names), default=0)
    rows = ((n, getattr(x, n)) for n in names if not (n.startswith("__") and n.endswith("__")))
    for name, value in rows:
        if not isinstance(value, types.MethodType):
            print(f"{name.ljust(width)} : {_summary(value, 75 - width)}")
    return x
