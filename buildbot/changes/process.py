"""Running version-control commands for pollers, without blocking the reactor."""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import defer, protocol
from twisted.python.failure import Failure


class _Collector(protocol.ProcessProtocol):
    def __init__(self, stdin: bytes | None) -> None:
        self.stdin = stdin
        self.out: list[bytes] = []
        self.err: list[bytes] = []
        self.done: defer.Deferred[tuple[int, bytes, bytes]] = defer.Deferred()

    def connectionMade(self) -> None:
        transport: Any = self.transport
        if self.stdin is not None:
            transport.write(self.stdin)
        transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.out.append(data)

    def errReceived(self, data: bytes) -> None:
        self.err.append(data)

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        if code is None:
            code = -1 if getattr(reason.value, "signal", None) is not None else 0
        self.done.callback((code, b"".join(self.out), b"".join(self.err)))


async def run_process(reactor: Any, argv: list[str], path: str | None = None,
                      env: dict[str, str] | None = None, stdin: bytes | None = None
                      ) -> tuple[int, bytes, bytes]:
    """Run `argv` in `path`; (exit code, stdout, stderr). `reactor` must provide
    IReactorProcess; a test clock without it makes us use the global reactor."""
    if not hasattr(reactor, "spawnProcess"):
        from twisted.internet import reactor as global_reactor
        reactor = global_reactor
    collector = _Collector(stdin)
    reactor.spawnProcess(collector, argv[0], argv, env=env if env is not None else
                         dict(os.environ), path=path)
    return await collector.done
