"""Headless Chromium driven over the DevTools protocol (for end-to-end UI tests).

```python
async with chromium() as browser:
    page = await browser.new_page()
    await page.navigate("http://127.0.0.1:8010/")
    await page.wait_for("document.querySelector('.bb-sidebar') !== null", "the sidebar")
    title = await page.evaluate("document.title")
```

Uses Debian's `chromium` (CI installs it; tests are skipped without it). The DevTools
WebSocket client is autobahn's; waiting happens inside the page (a promise polling the
condition), never with sleeps here.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet import defer, endpoints, protocol

from tests.www.harness import with_timeout

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0"]
DEVTOOLS_RE = re.compile(rb"DevTools listening on (ws://[^\s]+)")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Process(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.listening: defer.Deferred[str] = defer.Deferred()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.stderr = b""

    def errReceived(self, data: bytes) -> None:
        self.stderr += data
        m = DEVTOOLS_RE.search(self.stderr)
        if m and not self.listening.called:
            self.listening.callback(m.group(1).decode())

    def processEnded(self, reason: Any) -> None:
        if not self.listening.called:
            self.listening.errback(RuntimeError(
                f"chromium exited before listening: {self.stderr[-2000:]!r}"))
        self.ended.callback(None)


class CdpConnection:
    """One DevTools WebSocket: numbered commands, replies matched by id, events by method."""

    def __init__(self) -> None:
        self.proto: Any = None
        self.opened: defer.Deferred[None] = defer.Deferred()
        self.next_id = 0
        self.pending: dict[int, defer.Deferred[Any]] = {}
        self.events: list[dict[str, Any]] = []

    async def connect(self, url: str) -> None:
        from twisted.internet import reactor

        conn = self

        class Proto(WebSocketClientProtocol):
            def onOpen(self) -> None:
                conn.proto = self
                conn.opened.callback(None)

            def onMessage(self, payload: bytes, isBinary: bool) -> None:
                msg = json.loads(payload)
                d = conn.pending.pop(msg.get("id", -1), None)
                if d is None:
                    conn.events.append(msg)
                elif "error" in msg:
                    d.errback(RuntimeError(f"CDP error: {msg['error']}"))
                else:
                    d.callback(msg.get("result", {}))

        factory = WebSocketClientFactory(url)
        factory.protocol = Proto
        factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=0)
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        await endpoints.TCP4ClientEndpoint(reactor, host, int(port)).connect(factory)
        await with_timeout(self.opened, "the DevTools connection")

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   session: str | None = None, timeout: float = 60.0) -> Any:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending[self.next_id] = d
        self.proto.sendMessage(json.dumps(msg).encode())
        return await with_timeout(d, f"the DevTools reply to {method}", timeout)


class Page:
    """A browser tab."""

    def __init__(self, cdp: CdpConnection, session: str) -> None:
        self.cdp = cdp
        self.session = session

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 60.0) -> Any:
        return await self.cdp.send(method, params, self.session, timeout)

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def evaluate(self, expression: str, timeout: float = 60.0) -> Any:
        res = await self.send("Runtime.evaluate", {"expression": expression,
                                                   "awaitPromise": True,
                                                   "returnByValue": True}, timeout)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page exception: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    async def wait_for(self, condition: str, what: str, timeout: float = 60.0) -> Any:
        """Wait (inside the page) until the JS expression `condition` is truthy."""
        script = f"""new Promise((resolve, reject) => {{
            const deadline = Date.now() + {int(timeout * 1000)};
            const check = () => {{
                let v; try {{ v = ({condition}); }} catch (e) {{ v = false; }}
                if (v) resolve(v);
                else if (Date.now() > deadline) reject(new Error("timeout"));
                else setTimeout(check, 50);
            }};
            check();
        }})"""
        try:
            return await self.evaluate(script, timeout + 5)
        except RuntimeError as e:
            raise AssertionError(f"timed out waiting in the browser for {what}") from e


class Browser:
    def __init__(self, cdp: CdpConnection) -> None:
        self.cdp = cdp

    async def new_page(self) -> Page:
        target = await self.cdp.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.cdp.send("Target.attachToTarget",
                                       {"targetId": target["targetId"], "flatten": True})
        page = Page(self.cdp, attached["sessionId"])
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Start a headless Chromium with a throw-away profile; stop it afterwards."""
    from twisted.internet import reactor

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed (Debian package `chromium`)")
    profile = tempfile.mkdtemp(prefix="bb-chromium-")
    proc = _Process()
    transport = reactor.spawnProcess(  # type: ignore[attr-defined]  # the global reactor is untyped
        proc, exe, [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"], env=None)
    try:
        url = await with_timeout(proc.listening, "chromium to start", 120)
        cdp = CdpConnection()
        await cdp.connect(url)
        yield Browser(cdp)
        try:
            await cdp.send("Browser.close", timeout=5)
        except (AssertionError, RuntimeError):
            pass
    finally:
        if not proc.ended.called:
            try:
                transport.signalProcess("KILL")
            except Exception:  # noqa: BLE001, S110  (already gone)
                pass
        await with_timeout(proc.ended, "chromium to exit", 60)
        shutil.rmtree(profile, ignore_errors=True)
