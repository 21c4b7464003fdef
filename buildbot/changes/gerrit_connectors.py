"""Where Gerrit events come from: `gerrit stream-events` over SSH (a long-lived `ssh`
process, restarted with backoff) and the events-log plugin's HTTP endpoint (polled).

Both hand raw JSON lines to the change source; neither interprets events.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from buildbot.changes.process import run_process
from buildbot.reporters.http_session import http_session
from buildbot.util.deferred import ensure_deferred, maybe_await

log = Logger()


def _process_reactor(reactor: Any) -> Any:
    """`reactor` if it can run processes, else the global one (tests run on a Clock)."""
    if hasattr(reactor, "spawnProcess"):
        return reactor
    from twisted.internet import reactor as global_reactor

    return global_reactor


class _StreamProtocol(protocol.ProcessProtocol):
    """Splits the `ssh` process's stdout into lines, keeps the last lines of both streams
    for the failure log, and fires `ended` when the process is gone."""

    def __init__(self, connector: GerritSshStreamEventsConnector) -> None:
        self.connector = connector
        self.deliver = True
        self._partial = {1: b"", 2: b""}
        self.ended: defer.Deferred[None] = defer.Deferred()

    def _lines(self, fd: int, data: bytes) -> list[bytes]:
        *lines, self._partial[fd] = (self._partial[fd] + data).split(b"\n")
        return [line.rstrip(b"\r") for line in lines]

    def outReceived(self, data: bytes) -> None:
        for line in self._lines(1, data):
            self.connector.remember(b"stdout: " + line)
            if self.deliver and line:
                self.connector.deliver_line(line)

    def errReceived(self, data: bytes) -> None:
        for line in self._lines(2, data):
            if self.deliver:
                self.connector.remember(b"stderr: " + line)

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(None)
        self.connector.process_ended(self)


class GerritSshStreamEventsConnector:
    """Keeps `ssh <user>@<server> -p <port> gerrit stream-events` running while started.

    A process that dies within STREAM_GOOD_CONNECTION_TIME seconds of its start is
    restarted after a delay growing from STREAM_BACKOFF_MIN by STREAM_BACKOFF_EXPONENT up
    to STREAM_BACKOFF_MAX; one that ran longer is restarted at once. Lines reach
    `on_line_received_cb` one at a time, in order.
    """

    # The process protocol (4.3's name); a subclass may wrap it.
    LocalPP = _StreamProtocol
    debug = False  # log every line received
    MAX_STORED_OUTPUT_DEBUG_LINES = 20  # lines shown when a short-lived process ends
    # restart policy, in seconds (see the class docstring)
    STREAM_BACKOFF_MIN, STREAM_BACKOFF_MAX = 0.5, 60
    STREAM_BACKOFF_EXPONENT = 1.5
    STREAM_GOOD_CONNECTION_TIME = 120

    def __init__(self, reactor: Any, change_source: Any, gerritserver: str, username: str, *,
                 gerritport: int = 29418, identity_file: str | None = None,
                 ssh_server_alive_interval_s: int | None = 15,
                 ssh_server_alive_count_max: int | None = 3,
                 on_process_start_cb: Callable[[], None],
                 on_line_received_cb: Callable[[bytes], Awaitable[None]]) -> None:
        self.reactor = reactor
        self.change_source = change_source
        self.gerritserver, self.username, self.gerritport = gerritserver, username, gerritport
        self.identity_file = identity_file
        self.ssh_server_alive_interval_s = ssh_server_alive_interval_s
        self.ssh_server_alive_count_max = ssh_server_alive_count_max
        self.on_process_start_cb = on_process_start_cb
        self.on_line_received_cb = on_line_received_cb
        self._proto: _StreamProtocol | None = None
        self._transport: Any = None
        self._wanted = False
        self._retry_call: Any = None
        self._delay = self.STREAM_BACKOFF_MIN
        self._started_at = 0.0
        self._recent: list[bytes] = []
        # lines are handled strictly in order, each after the previous one's change is added
        self._queue: defer.Deferred[None] = defer.succeed(None)

    def build_gerrit_command(self, *gerrit_args: str) -> list[str]:
        """The ssh command line running `gerrit <gerrit_args>` on the server."""
        cmd = ["ssh", "-o", "BatchMode=yes"]
        if self.ssh_server_alive_interval_s is not None:
            cmd += ["-o", f"ServerAliveInterval={self.ssh_server_alive_interval_s}"]
        if self.ssh_server_alive_count_max is not None:
            cmd += ["-o", f"ServerAliveCountMax={self.ssh_server_alive_count_max}"]
        cmd += [f"{self.username}@{self.gerritserver}", "-p", str(self.gerritport)]
        if self.identity_file is not None:
            cmd += ["-i", self.identity_file]
        return [*cmd, "gerrit", *gerrit_args]

    @property
    def connected(self) -> bool:
        return self._proto is not None

    def start(self) -> None:
        self._wanted = True
        self.start_stream_process()

    async def stop(self) -> None:
        """Kill the process (its remaining output is dropped) and wait for it to end, and
        for the lines already received to be handled."""
        self._wanted = False
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        self._retry_call = None
        await self._kill()
        await self._queue

    async def restart(self) -> None:
        """Kill the process; it is started again as after a lost connection."""
        if self._proto is None:
            self.start()
        else:
            await self._kill()

    async def _kill(self) -> None:
        proto = self._proto
        if proto is None:
            return
        proto.deliver = False
        try:
            self._transport.signalProcess("KILL")
        except OSError:  # already gone; processEnded is on its way
            pass
        await proto.ended

    def _retry(self) -> None:
        self._retry_call = None
        if self._wanted:
            self.start_stream_process()

    def start_stream_process(self) -> None:
        """Spawn `gerrit stream-events` unless it runs already."""
        if self._proto is not None:
            return
        if self.debug:
            log.info("{name}: starting 'gerrit stream-events'", name=self.change_source.name)
        # before the process exists, so that no line can arrive ahead of the callback
        self.on_process_start_cb()
        self._started_at = self.reactor.seconds()
        self._recent = []
        self._proto = self.LocalPP(self)
        self._transport = _process_reactor(self.reactor).spawnProcess(
            self._proto, "ssh", self.build_gerrit_command("stream-events"),
            env=dict(os.environ))

    def remember(self, line: bytes) -> None:
        if self.debug:
            log.info("{name} {line}", name=self.change_source.name,
                     line=line.decode("utf-8", "replace"))
        self._recent = [*self._recent[1 - self.MAX_STORED_OUTPUT_DEBUG_LINES:], line]

    def deliver_line(self, line: bytes) -> None:
        async def handle(_: Any) -> None:
            try:
                await self.on_line_received_cb(line)
            except Exception:  # noqa: BLE001 - one bad event must not stop the stream
                log.failure("{name}: while handling a Gerrit event",
                            name=self.change_source.name)

        self._queue = self._queue.addCallback(lambda r: ensure_deferred(handle(r)))

    def process_ended(self, proto: _StreamProtocol) -> None:
        if proto is not self._proto:
            return  # a process killed by restart(); its successor is already there
        self._proto = None
        if self._wanted and self.change_source.running:
            self._restart_after(self.reactor.seconds() - self._started_at)

    def _restart_after(self, lifetime: float) -> None:
        # A process that lived long was a good connection that dropped: back at once, with
        # the backoff reset. A short-lived one means the server or the credentials are
        # wrong: wait, a little longer each time, and show what it printed.
        if lifetime >= self.STREAM_GOOD_CONNECTION_TIME:
            log.info("{name}: stream-events lost connection. Reconnecting...",
                     name=self.change_source.name)
            self._delay = self.STREAM_BACKOFF_MIN
            self.start_stream_process()
            return
        delay = self._delay
        self._delay = min(delay * self.STREAM_BACKOFF_EXPONENT, self.STREAM_BACKOFF_MAX)
        output = "\n".join(line.decode("utf-8", "ignore") for line in self._recent)
        log.warn("{name}: stream-events failed; restarting after {delay}s.\n"  # noqa: G010
                 "{n} log lines follow:\n{output}", name=self.change_source.name,
                 delay=round(delay), n=len(self._recent), output=output)
        self._retry_call = self.reactor.callLater(delay, self._retry)

    async def get_files(self, change: Any, patchset: Any) -> list[str]:
        """Files of one patch set, from `gerrit query` (["unknown"] when it fails)."""
        cmd = self.build_gerrit_command("query", str(change), "--format", "JSON", "--files",
                                        "--patch-sets")
        code, out, _ = await run_process(self.reactor, cmd)
        if code != 0 or not out.strip():
            return ["unknown"]
        answer = json.loads(out.splitlines()[0].decode("utf-8"))
        if answer.get("rowCount") == 0 or "patchSets" not in answer:
            return ["unknown"]
        for ps in answer["patchSets"]:
            if int(ps["number"]) == int(patchset):
                return [f["file"] for f in ps.get("files", [])]
        return ["unknown"]


class GerritHttpEventLogPollerConnector:
    """Reads `<base_url>/plugins/events-log/events/?t1=<UTC time>` (the events-log
    plugin): the events since the last one handled, or `first_fetch_lookback` days back
    when none was."""

    FIRST_FETCH_LOOKBACK_DAYS = 30
    debug = False

    def __init__(self, reactor: Any, change_source: Any, base_url: str, auth: Any,
                 get_last_event_ts: Callable[[], Any], first_fetch_lookback: int,
                 on_lines_received_cb: Callable[[list[bytes]], Awaitable[None]]) -> None:
        self._reactor = reactor
        self._change_source = change_source
        self._base_url = base_url.rstrip("/")
        self._auth = auth
        self._get_last_event_ts = get_last_event_ts
        self._first_fetch_lookback = first_fetch_lookback
        self._on_lines_received_cb = on_lines_received_cb
        self._http: Any = None

    async def setup(self) -> None:
        self._http = await http_session(self._change_source, self._base_url,
                                        auth=self._auth)

    def _since(self, last_ts: float | None) -> str:
        if last_ts is None:
            since = (datetime.datetime.fromtimestamp(self._reactor.seconds(), datetime.UTC)
                     - datetime.timedelta(days=self._first_fetch_lookback))
        else:
            since = datetime.datetime.fromtimestamp(last_ts, datetime.UTC)
        return since.strftime("%Y-%m-%d %H:%M:%S")

    async def poll(self) -> None:
        since = self._since(await maybe_await(self._get_last_event_ts()))
        if self.debug:
            log.info("{name}: Polling gerrit: {since}", name=self._change_source.name,
                     since=since)
        res = await self._http.get("/plugins/events-log/events/", params={"t1": since})
        if res.code != 200:
            log.warn("{name}: Polling gerrit: got HTTP error code {code}",  # noqa: G010
                     name=self._change_source.name, code=res.code)
            return
        body = await res.content()
        await self._on_lines_received_cb(body.splitlines())

    async def do_poll(self) -> None:
        """`poll()`, its failure logged (the poll loop goes on)."""
        try:
            await self.poll()
        except Exception:  # noqa: BLE001 - the poll loop goes on
            log.failure("{name}: while polling for changes", name=self._change_source.name)

    async def get_files(self, change: Any, patchset: Any) -> list[str]:
        """Files of one revision from the REST API ([] when the answer is unreadable)."""
        res = await self._http.get(f"/changes/{change}/revisions/{patchset}/files/")
        body = await res.content()
        # Gerrit prefixes every JSON answer with the line )]}' against XSSI
        try:
            return list(json.loads(body.splitlines()[1].decode("utf-8")))
        except (IndexError, ValueError):
            log.error("{name}: unreadable file list for change {change}/{patchset}: "
                      "{body!r}", name=self._change_source.name, change=change,
                      patchset=patchset, body=body[:200])
            return []
