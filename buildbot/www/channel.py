# mypy: disable-error-code="no-untyped-call"
# (twisted.web is unannotated)
"""The HTTP connection of the site: request size limits answered with a status, not a drop.

Twisted's own channel closes the connection without a word when the request line or a
header line is longer than 16 KiB, and answers a bare `400` to everything else it refuses.
Here every refusal is an HTTP answer naming the problem (`414` request line, `431`
headers, `413` body, `400` malformed), after which the connection reads and discards what
the client still sends, half-closes (so the answer is not lost to a TCP reset) and is
aborted if the client does not go away within `LINGER_SECONDS`.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger
from twisted.web import http

log = Logger()

MAX_REQUEST_LINE = 64 * 1024
MAX_HEADERS_SIZE = 64 * 1024  # request line and headers together
MAX_HEADERS = 200
# A force form may carry a file parameter (10 MB by default, JSON-encoded); forges send
# webhook payloads of up to 25 MB.
MAX_BODY = 16 * 1024 * 1024
MAX_HOOK_BODY = 32 * 1024 * 1024
LINGER_SECONDS = 5.0

REASONS = {
    400: b"Bad Request",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
}


def body_limit(target: bytes) -> int:
    """The largest request body accepted for a request target (path and query)."""
    return MAX_HOOK_BODY if target.startswith(b"/change_hook") else MAX_BODY


class GuardedChannel(http.HTTPChannel):
    """An `HTTPChannel` enforcing the limits above with proper answers."""

    MAX_LENGTH = MAX_REQUEST_LINE  # LineReceiver: the longest line (request line or header)
    totalHeadersSize = MAX_HEADERS_SIZE + 1024  # Twisted's check: ours below fires first
    maxHeaders = MAX_HEADERS + 10

    def __init__(self) -> None:
        super().__init__()
        self._target: bytes | None = None
        self._head_bytes = 0
        self._head_lines = 0
        self._refused = False
        self._linger: Any = None

    # -- limits --------------------------------------------------------------------------
    def lineReceived(self, line: bytes) -> None:
        if self._refused:
            return
        if self._target is None:
            if not line:  # a stray empty line between requests (tolerated by Twisted)
                super().lineReceived(line)
                return
            parts = line.split(b" ")
            self._target = parts[1] if len(parts) > 1 else b""
        else:
            self._head_lines += 1
        self._head_bytes += len(line) + 2
        if self._head_bytes > MAX_HEADERS_SIZE or self._head_lines > MAX_HEADERS:
            self.refuse(431, f"request headers exceed {MAX_HEADERS_SIZE} bytes or "
                             f"{MAX_HEADERS} lines")
            return
        super().lineReceived(line)

    def lineLengthExceeded(self, line: bytes) -> None:
        if self._target is None:
            self.refuse(414, f"request line longer than {MAX_REQUEST_LINE} bytes")
        else:
            self.refuse(431, f"request header line longer than {MAX_REQUEST_LINE} bytes")

    def allHeadersReceived(self) -> None:
        limit = body_limit(self._target or b"")
        length = self.length
        if length is not None and length > limit:
            self.refuse(413, f"request body of {length} bytes is larger than {limit} bytes")
            return
        super().allHeadersReceived()

    def body_received(self, total: int) -> bool:
        """Called by the request with the body bytes received so far (chunked bodies
        announce no length); False once the body is refused as too large."""
        limit = body_limit(self._target or b"")
        if total > limit:
            self.refuse(413, f"request body larger than {limit} bytes")
            return False
        return True

    def allContentReceived(self) -> None:
        self._target = None
        self._head_bytes = self._head_lines = 0
        super().allContentReceived()

    def _respondToBadRequestAndDisconnect(self) -> None:
        # Twisted's hook for every malformed request (bad request line, header, chunk
        # encoding, Content-Length): same polite answer as our own refusals.
        self.refuse(400, "malformed HTTP request")

    # -- refusing ------------------------------------------------------------------------
    def refuse(self, status: int, message: str) -> None:
        """Answer `status` with `message` (text) and close the connection politely."""
        if self._refused:
            return
        self._refused = True
        transport: Any = self.transport
        log.info("refused HTTP request from {peer}: {status} {message}",
                 peer=transport.getPeer() if transport is not None else None,
                 status=status, message=message)
        body = message.encode("utf-8") + b"\n"
        head = [b"HTTP/1.1 %d %s" % (status, REASONS.get(status, b"Error")),
                b"Content-Type: text/plain; charset=utf-8",
                b"Content-Length: %d" % len(body), b"Connection: close", b"", b""]
        self.setTimeout(None)
        transport.write(b"\r\n".join(head) + body)
        # Close only our side: closing both with unread input makes the kernel send a
        # reset, which can destroy the answer before the client reads it.
        half_close = getattr(transport, "loseWriteConnection", None)
        if half_close is None:
            transport.loseConnection()
            return
        half_close()
        clock: Any = getattr(getattr(self, "site", None), "reactor", None)
        if clock is None:
            from twisted.internet import reactor as clock
        self._linger = clock.callLater(LINGER_SECONDS, transport.abortConnection)

    def dataReceived(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped: the client may still be sending its body
        super().dataReceived(data)

    def rawDataReceived(self, data: bytes) -> None:
        if self._refused:
            return
        super().rawDataReceived(data)

    def connectionLost(self, reason: Any = None) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        self._linger = None
        super().connectionLost(reason)


def guarded_protocol(factory: Any) -> Any:
    """What `Site.protocol` returns: our channel in Twisted's HTTP/1.1-or-HTTP/2 wrapper."""
    # The wrapper is private Twisted API; Site builds it the same way for its own channel.
    return http._GenericHTTPChannelProtocol(GuardedChannel())
