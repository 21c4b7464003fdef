"""Local stand-ins for the remote services reporters talk to, on 127.0.0.1:0.

`RecordingHttpServer` is a twisted.web site recording every request (method, path with query,
headers, body) and answering through a `respond(request) -> (code, body)` function.
`RecordingSmtpServer` is twisted.mail's ESMTP server side, recording each mail transaction
(sender, recipients, message text), optionally requiring AUTH (user/password).
Both wait for what they record with a timeout naming what never arrived.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from twisted.cred import checkers, portal
from twisted.internet import defer, protocol
from twisted.mail import imap4, smtp
from twisted.protocols import basic
from twisted.web import resource, server
from zope.interface import implementer


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


# (code, body) now, or a Deferred of it to answer later
Responder = Callable[[RecordedRequest], Any]


class _Waiters:
    """Fires waiters when a list reaches a length."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._waiters: list[tuple[Callable[[list[Any]], bool], defer.Deferred[None]]] = []

    def add(self, item: Any) -> None:
        self.items.append(item)
        for pred, d in list(self._waiters):
            if pred(self.items) and not d.called:
                self._waiters.remove((pred, d))
                d.callback(None)

    async def wait_until(self, pred: Callable[[list[Any]], bool], what: str,
                         timeout: float = 20.0) -> list[Any]:
        """The items once `pred(items)` holds (checked now and at each new item)."""
        from twisted.internet import reactor

        if not pred(self.items):
            d: defer.Deferred[None] = defer.Deferred()
            self._waiters.append((pred, d))
            d.addTimeout(timeout, reactor)
            try:
                await d
            except defer.TimeoutError:
                raise AssertionError(f"{what}: not seen within {timeout} s; got "
                                     f"{self.items!r}") from None
        return list(self.items)

    async def wait_for(self, n: int, what: str, timeout: float = 20.0) -> list[Any]:
        return await self.wait_until(lambda items: len(items) >= n, f"{what} ({n} wanted)",
                                     timeout)


class _RecordingResource(resource.Resource):
    isLeaf = True

    def __init__(self, owner: RecordingHttpServer) -> None:
        super().__init__()
        self.owner = owner

    def render(self, request: Any) -> bytes | int:
        headers = {k.decode().lower(): v[-1].decode()
                   for k, v in request.requestHeaders.getAllRawHeaders()}
        rec = RecordedRequest(request.method.decode(), request.uri.decode(), headers,
                              request.content.read())
        answer = self.owner.respond(rec)
        self.owner.requests.add(rec)
        if isinstance(answer, defer.Deferred):
            def write(result: tuple[int, Any]) -> None:
                if not request._disconnected:
                    request.write(self._encode(request, *result))
                    request.finish()

            answer.addCallback(write).addErrback(lambda f: f.trap(defer.CancelledError))
            request.notifyFinish().addErrback(lambda _: answer.cancel())
            return server.NOT_DONE_YET
        return self._encode(request, *answer)

    @staticmethod
    def _encode(request: Any, code: int, body: Any) -> bytes:
        request.setResponseCode(code)
        if isinstance(body, (dict, list)):
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(body).encode()
        return body if isinstance(body, bytes) else str(body or "").encode()


class _TrackingSite(server.Site):
    """A Site that can close its open connections (so no server timer outlives a test)."""

    def __init__(self, root: Any) -> None:
        super().__init__(root)
        self.noisy = False
        self.open: dict[Any, defer.Deferred[None]] = {}

    def buildProtocol(self, addr: Any) -> Any:
        channel = super().buildProtocol(addr)
        lost: defer.Deferred[None] = defer.Deferred()
        self.open[channel] = lost
        original = channel.connectionLost

        def connection_lost(reason: Any) -> None:
            original(reason)
            self.open.pop(channel, None)
            lost.callback(None)

        channel.connectionLost = connection_lost
        return channel

    async def close_all(self) -> None:
        waiting = list(self.open.items())
        for channel, _ in waiting:
            channel.transport.abortConnection()
        for _, lost in waiting:
            await lost


class RecordingHttpServer:
    """An HTTP server recording requests; `url` is its base URL (no trailing slash)."""

    def __init__(self, respond: Responder | None = None) -> None:
        self.respond: Responder = respond or (lambda req: (201, {}))
        self.requests = _Waiters()
        self.port: Any = None
        self.url = ""

    def start(self) -> None:
        from twisted.internet import reactor

        self.site = _TrackingSite(_RecordingResource(self))
        self.port = reactor.listenTCP(0, self.site, interface="127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port.getHost().port}"

    async def stop(self) -> None:
        if self.port is not None:
            await self.port.stopListening()
            self.port = None
            await self.site.close_all()

    async def wait_for(self, n: int, timeout: float = 20.0) -> list[RecordedRequest]:
        return await self.requests.wait_for(n, f"requests to {self.url}", timeout)


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes
    helo: str = ""
    authenticated: str | None = None
    message: Message = field(init=False)

    def __post_init__(self) -> None:
        self.message = message_from_bytes(self.data)


class _Transaction:
    def __init__(self, owner: RecordingSmtpServer, helo: str, sender: str,
                 avatar: str | None) -> None:
        self.owner, self.helo, self.sender, self.avatar = owner, helo, sender, avatar
        self.recipients: list[str] = []
        self.lines: list[bytes] = []
        self.stored = False


@implementer(smtp.IMessage)
class _Message:
    def __init__(self, tx: _Transaction, first: bool) -> None:
        self.tx, self.first = tx, first

    def lineReceived(self, line: bytes) -> None:
        if self.first:
            self.tx.lines.append(line)

    def eomReceived(self) -> defer.Deferred[None]:
        if self.first and not self.tx.stored:
            self.tx.stored = True
            self.tx.owner.mails.add(ReceivedMail(self.tx.sender, self.tx.recipients,
                                                 b"\n".join(self.tx.lines) + b"\n",
                                                 self.tx.helo, self.tx.avatar))
        return defer.succeed(None)

    def connectionLost(self) -> None:
        pass


@implementer(smtp.IMessageDelivery)
class _Delivery:
    def __init__(self, owner: RecordingSmtpServer, avatar: str | None = None) -> None:
        self.owner = owner
        self.avatar = avatar
        self.tx: _Transaction | None = None

    def receivedHeader(self, helo: Any, origin: Any, recipients: Any) -> None:
        return None

    def validateFrom(self, helo: Any, origin: Any) -> Any:
        if self.owner.credentials and self.avatar is None:
            raise smtp.SMTPBadSender(origin, 530, "authentication required")
        self.tx = _Transaction(self.owner, helo[0].decode() if helo else "", str(origin),
                               self.avatar)
        return origin

    def validateTo(self, user: Any) -> Any:
        tx = self.tx
        assert tx is not None
        first = not tx.recipients
        tx.recipients.append(str(user.dest))
        return lambda: _Message(tx, first)


@implementer(portal.IRealm)
class _Realm:
    def __init__(self, owner: RecordingSmtpServer) -> None:
        self.owner = owner

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        name = avatarId.decode() if isinstance(avatarId, bytes) else str(avatarId)
        return smtp.IMessageDelivery, _Delivery(self.owner, name), lambda: None


class _SmtpFactory(protocol.ServerFactory):
    def __init__(self, owner: RecordingSmtpServer) -> None:
        self.owner = owner

    def buildProtocol(self, addr: Any) -> Any:
        p = smtp.ESMTP()
        p.factory = self
        p.host = b"localhost"
        p.delivery = _Delivery(self.owner)
        if self.owner.credentials:
            checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()
            for user, password in self.owner.credentials.items():
                checker.addUser(user.encode(), password.encode())
            p.portal = portal.Portal(_Realm(self.owner), [checker])
            p.challengers = {b"LOGIN": smtp.LOGINCredentials, b"PLAIN": imap4.PLAINCredentials}
        return p


class RecordingSmtpServer:
    """An ESMTP server on 127.0.0.1 recording mails; `credentials={"user": "pw"}` makes it
    require AUTH before MAIL FROM, `tls=True` serves SMTPS with a self-signed certificate."""

    def __init__(self, credentials: dict[str, str] | None = None, tls: bool = False) -> None:
        self.credentials = credentials or {}
        self.tls = tls
        self.mails = _Waiters()
        self.port: Any = None
        self.portnum = 0

    def start(self) -> None:
        from twisted.internet import reactor, ssl

        if self.tls:  # SMTPS: TLS from the first byte
            cert = ssl.PrivateCertificate.loadPEM(self_signed_pem())
            self.port = reactor.listenSSL(0, _SmtpFactory(self), cert.options(),
                                          interface="127.0.0.1")
        else:
            self.port = reactor.listenTCP(0, _SmtpFactory(self), interface="127.0.0.1")
        self.portnum = self.port.getHost().port

    async def stop(self) -> None:
        if self.port is not None:
            await self.port.stopListening()
            self.port = None

    async def wait_for(self, n: int, timeout: float = 20.0) -> list[ReceivedMail]:
        return await self.mails.wait_for(n, "mails", timeout)


class _IrcServerProtocol(basic.LineReceiver):
    delimiter = b"\r\n"

    def __init__(self, owner: RecordingIrcServer) -> None:
        self.owner = owner
        self.nick = ""

    def connectionMade(self) -> None:
        self.owner.clients.append(self)

    def connectionLost(self, reason: Any = None) -> None:
        if self in self.owner.clients:
            self.owner.clients.remove(self)
        self.owner.closed.add(self.nick)

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace")
        self.owner.lines.add(text)
        command, _, rest = text.partition(" ")
        if command == "NICK":
            self.nick = rest.strip()
        elif command == "USER":
            self.send(f":irc.test 001 {self.nick} :Welcome")
        elif command == "JOIN":
            channel = rest.split(" ")[0].lstrip(":")
            self.send(f":{self.nick}!bot@test JOIN :{channel}")
        elif command == "PRIVMSG" or command == "NOTICE":
            target, _, message = rest.partition(" :")
            self.owner.said.add((command, target, message))
        elif command == "PING":
            self.send(f"PONG {rest}")
        elif command == "QUIT":
            self.transport.loseConnection()

    def send(self, line: str) -> None:
        self.sendLine(line.encode("utf-8"))


class _IrcFactory(protocol.ServerFactory):
    def __init__(self, owner: RecordingIrcServer) -> None:
        self.owner = owner

    def buildProtocol(self, addr: Any) -> Any:
        return _IrcServerProtocol(self.owner)


class RecordingIrcServer:
    """A minimal IRC server: welcomes, confirms JOINs, records what clients say
    (`said`: (PRIVMSG|NOTICE, target, text)) and can speak to them (`say`)."""

    def __init__(self) -> None:
        self.lines = _Waiters()
        self.said = _Waiters()
        self.closed = _Waiters()
        self.clients: list[_IrcServerProtocol] = []
        self.port: Any = None
        self.portnum = 0

    def start(self) -> None:
        from twisted.internet import reactor

        self.port = reactor.listenTCP(0, _IrcFactory(self), interface="127.0.0.1")
        self.portnum = self.port.getHost().port

    def say(self, nick: str, target: str, text: str) -> None:
        for client in self.clients:
            client.send(f":{nick}!user@test PRIVMSG {target} :{text}")

    async def stop(self) -> None:
        for client in list(self.clients):
            client.transport.loseConnection()
        if self.port is not None:
            await self.port.stopListening()
            self.port = None

    async def wait_said(self, n: int, timeout: float = 20.0) -> list[tuple[str, str, str]]:
        return await self.said.wait_for(n, "IRC messages from the bot", timeout)

    async def wait_line(self, prefix: str, timeout: float = 20.0) -> str:
        """The first line received starting with `prefix` (waiting for it if needed)."""
        lines = await self.lines.wait_until(
            lambda items: any(i.startswith(prefix) for i in items), f"IRC line {prefix!r}",
            timeout)
        return next(line for line in lines if line.startswith(prefix))


def self_signed_pem(hostname: str = "localhost") -> bytes:
    """A private key and a self-signed certificate for `hostname`, PEM-encoded together."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + \
        cert.public_bytes(serialization.Encoding.PEM)
