#!/usr/bin/env python3
"""N WebSocket clients subscribed to every build and step event of a master.

    python benchmarks/ws_subscribers.py ws://127.0.0.1:8010/ws 100

Runs its own reactor (a separate process, so that its CPU is not the master's), prints
`ready` once every client is subscribed, and on SIGTERM or SIGINT prints one JSON line:
the number of events each client received. Used by build_throughput.py --ws-subscribers.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    connectWS,
)
from twisted.internet import reactor

PATHS = ("builds/*/*", "steps/*/*")


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    counts = [0] * n
    subscribed = [0]

    class Client(WebSocketClientProtocol):
        index = 0

        def onOpen(self) -> None:
            for i, path in enumerate(PATHS):
                self.sendMessage(json.dumps(
                    {"cmd": "startConsuming", "path": path, "_id": i}).encode())

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            msg: Any = json.loads(payload)
            if "k" in msg:
                counts[self.index] += 1
            elif msg.get("code") == 200:
                subscribed[0] += 1
                if subscribed[0] == n * len(PATHS):
                    print("ready", flush=True)

    for i in range(n):
        factory = WebSocketClientFactory(url)
        factory.protocol = type("Client%d" % i, (Client,), {"index": i})
        connectWS(factory)

    def report(*_: Any) -> None:
        print(json.dumps(counts), flush=True)
        reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]  # the global reactor is untyped

    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]  # the global reactor is untyped


if __name__ == "__main__":
    main()
