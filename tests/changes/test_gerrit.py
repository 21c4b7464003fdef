"""Gerrit change sources against local stand-ins: an SSH server (twisted.conch) speaking
`gerrit stream-events` / `gerrit query` to the real `ssh` client, and an HTTP server playing
the events-log plugin. Events are in Gerrit's documented JSON format (fixtures); the changes
stored must equal what Buildbot 4.3's event handling gives for them (recorded in
gerrit_expected_changes*.json by running 4.3's class on the same events)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from buildbot.changes.gerritchangesource import GerritChangeSource, GerritEventLogPoller
from tests.changes.remote_sources import configure
from tests.fixtures.stack import Stack
from tests.reporters.remote_services import RecordedRequest, RecordingHttpServer

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parent / "fixtures"
STREAM = (FIXTURES / "gerrit_stream_events.jsonl").read_bytes().splitlines()
EVENTS_LOG = (FIXTURES / "gerrit_events_log.jsonl").read_bytes()
CHANGE_FIELDS = ("author", "branch", "category", "comments", "files", "project", "properties",
                 "repository", "revision", "revlink")


async def stored_changes(stack: Stack) -> list[dict[str, Any]]:
    rows = sorted(await stack.data.get(("changes",)), key=lambda c: c["changeid"])
    return [{k: ({p: v for p, (v, _) in c[k].items()} if k == "properties" else c[k])
             for k in CHANGE_FIELDS} for c in rows]


def expected(name: str, source_class: str) -> list[dict[str, Any]]:
    """4.3's addChange arguments (recorded with a subclass named Src as the source)."""
    found = [{k: c.get(k, "" if k == "revlink" else None) for k in CHANGE_FIELDS}
             for c in json.loads((FIXTURES / name).read_text())]
    for c in found:
        c["properties"]["event.source"] = source_class
    return found


class FakeGerritSsh:
    """An SSH server whose `gerrit stream-events` sends `STREAM` lines on demand and whose
    `gerrit query` answers from gerrit_query.jsonl."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.commands: list[bytes] = []
        self.streams: list[Any] = []
        self.stream_opened: defer.Deferred[None] = defer.Deferred()
        self.port: Any = None

    def start(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from twisted.conch import avatar
        from twisted.conch import interfaces as conch_if
        from twisted.conch.checkers import SSHPublicKeyChecker  # noqa: F401
        from twisted.conch.ssh import connection, factory, keys, session, userauth
        from twisted.cred import checkers, credentials, portal
        from twisted.internet import reactor
        from zope.interface import implementer

        host = keys.Key(ed25519.Ed25519PrivateKey.generate())
        client = ed25519.Ed25519PrivateKey.generate()
        key_file = self.tmp / "id_ed25519"
        key_file.write_bytes(client.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption()))
        key_file.chmod(0o600)
        owner = self

        @implementer(checkers.ICredentialsChecker)
        class AnyKey:
            credentialInterfaces = (credentials.ISSHPrivateKey,)

            def requestAvatarId(self, creds: Any) -> Any:
                if creds.signature is None:
                    from twisted.conch.error import ValidPublicKey

                    return defer.fail(ValidPublicKey())
                return defer.succeed(creds.username)

        # the avatar is its own ISession (no global adapter registration needed)
        @implementer(conch_if.ISession)
        class User(avatar.ConchUser):
            def __init__(self) -> None:
                super().__init__()
                self.channelLookup[b"session"] = session.SSHSession

            def execCommand(self, proto: Any, cmd: bytes) -> None:
                owner.commands.append(cmd)
                if cmd == b"gerrit stream-events":
                    owner.streams.append(proto)
                    if not owner.stream_opened.called:
                        owner.stream_opened.callback(None)
                elif cmd.startswith(b"gerrit query"):
                    proto.outReceived((FIXTURES / "gerrit_query.jsonl").read_bytes())
                    proto.processEnded(_done())

            def getPty(self, *a: Any) -> None:
                pass

            def openShell(self, proto: Any) -> None:
                raise OSError("no shell")

            def eofReceived(self) -> None:
                pass

            def closed(self) -> None:
                pass

            def windowChanged(self, *a: Any) -> None:
                pass

        def _done() -> Any:
            from twisted.internet.error import ProcessDone
            from twisted.python.failure import Failure

            return Failure(ProcessDone(0))

        class Realm:
            def requestAvatar(self, avatar_id: Any, mind: Any, *ifaces: Any) -> Any:
                return ifaces[0], User(), lambda: None

        fac = factory.SSHFactory()
        fac.portal = portal.Portal(implementer(portal.IRealm)(Realm)(), [AnyKey()])
        fac.publicKeys = {host.sshType(): host.public()}
        fac.privateKeys = {host.sshType(): host}
        fac.services = {b"ssh-userauth": userauth.SSHUserAuthServer,
                        b"ssh-connection": connection.SSHConnection}
        fac.noisy = False
        self.port = reactor.listenTCP(0, fac, interface="127.0.0.1")
        config = self.tmp / "ssh_config"
        config.write_text(f"Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
                          f"  IdentityFile {key_file}\n  IdentitiesOnly yes\n  LogLevel ERROR\n")
        wrapper_dir = self.tmp / "bin"
        wrapper_dir.mkdir()
        wrapper = wrapper_dir / "ssh"
        wrapper.write_text(f"#!/bin/sh\nexec {shutil.which('ssh')} -F {config} \"$@\"\n")
        wrapper.chmod(0o755)
        self.bin = str(wrapper_dir)

    def send(self, *lines: bytes) -> None:
        for line in lines:
            self.streams[-1].outReceived(line + b"\n")

    async def stop(self) -> None:
        if self.port is not None:
            await self.port.stopListening()


@pytest_twisted.async_yield_fixture
async def gerrit_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     logged_errors: Any) -> Any:
    srv = FakeGerritSsh(tmp_path)
    srv.start()
    monkeypatch.setenv("PATH", srv.bin + os.pathsep + os.environ["PATH"])
    yield srv
    await srv.stop()
    # conch logs the client's normal goodbye (after `gerrit query`) as an error
    logged_errors.flush("disconnected by user")


async def wait_changes(stack: Stack, n: int) -> None:
    from twisted.internet import reactor

    seen = stack.mq_record(("changes", None, "new"))
    for _ in range(200):
        if len(await stack.data.get(("changes",))) >= n:
            return
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0.05, d.callback, None)  # re-check after the next mq message
        await d
    raise AssertionError(f"{n} changes never arrived; mq saw {seen}")


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
@pytest_twisted.ensureDeferred
async def test_ssh_stream_events_become_changes_as_in_4_3(stack: Stack,
                                                          gerrit_ssh: FakeGerritSsh) -> None:
    port = gerrit_ssh.port.getHost().port
    source = GerritChangeSource("127.0.0.1", "bb", gerritport=port,
                                gitBaseURL="ssh://bb@gerrit.example.org:29418")
    await configure(stack, source)
    await source.activate()
    try:
        from twisted.internet import reactor

        await gerrit_ssh.stream_opened.addTimeout(20, reactor)
        gerrit_ssh.send(b"not json", *STREAM)
        await wait_changes(stack, 2)
        assert await stored_changes(stack) == expected("gerrit_expected_changes.json",
                                                       "GerritChangeSource")
        oid = await stack.updates.getObjectId(source.name, "GerritChangeSource")
        assert await stack.updates.getState(oid, "last_event_ts") == 1700000200
        assert gerrit_ssh.commands == [b"gerrit stream-events"]
        assert source.describe() == ("GerritChangeSource watching the remote Gerrit "
                                     "repository bb@127.0.0.1 ")
        files = await source.getFiles(12345, 2)
        assert files == ["/COMMIT_MSG", "src/frob.c"]
        assert gerrit_ssh.commands[-1] == \
            b"gerrit query 12345 --format JSON --files --patch-sets"
    finally:
        await source.deactivate()
    assert await stack.updates.getState(oid, "last_event_hashes") is not None


@pytest_twisted.ensureDeferred
async def test_event_log_poller_reads_new_events_once(http_stack: Stack,
                                                      server: RecordingHttpServer) -> None:
    stack = http_stack
    server.respond = lambda req: (200, EVENTS_LOG)
    source = GerritEventLogPoller(server.url + "/", auth=("u", "pw"), gitBaseURL="https://g/git",
                                  handled_events=["patchset-created", "ref-updated",
                                                  "comment-added"])
    await configure(stack, source)
    stack.clock.advance(1700086400 - stack.clock.seconds())

    await source._connector.do_poll()
    await source._connector.do_poll()  # the same second again: nothing new

    want = expected("gerrit_expected_changes_log.json", "GerritEventLogPoller")
    assert await stored_changes(stack) == want
    first, second = server.requests.items
    assert first.path == "/plugins/events-log/events/?t1=2023-10-16+22%3A13%3A20"
    assert second.path == "/plugins/events-log/events/?t1=2023-11-14+22%3A16%3A40"
    assert first.headers["authorization"] == "Basic dTpwdw=="
    oid = await stack.updates.getObjectId(source.name, "GerritEventLogPoller")
    assert await stack.updates.getState(oid, "last_event_ts") == 1700000200


def later_patchset(number: int, ts: int) -> dict[str, Any]:
    event = json.loads(STREAM[0])
    event["patchSet"] = {**event["patchSet"], "number": number,
                         "ref": f"refs/changes/45/12345/{number}",
                         "revision": f"{number:040d}"}
    event["eventCreatedOn"] = ts
    return event


async def wait_for_changes(stack: Stack, n: int) -> list[dict[str, Any]]:
    """The stored changes once there are `n` (checked at each announced change)."""
    from twisted.internet import reactor

    arrived: defer.Deferred[None] = defer.Deferred()

    def check(*_: Any) -> None:
        d = defer.ensureDeferred(stack.data.get(("changes",)))
        d.addCallback(lambda rows: len(rows) >= n and not arrived.called
                      and arrived.callback(None))

    consumer = await stack.mq.startConsuming(check, ("changes", None, "new"))
    check()
    try:
        await arrived.addTimeout(20, reactor)
    except defer.TimeoutError:
        raise AssertionError(f"{n} changes never arrived: {await stored_changes(stack)}") \
            from None
    finally:
        consumer.stopConsuming()
    return await stored_changes(stack)


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
@pytest_twisted.ensureDeferred
async def test_stream_gaps_are_filled_from_the_events_log_without_duplicates(
        http_stack: Stack, server: RecordingHttpServer, gerrit_ssh: FakeGerritSsh) -> None:
    from twisted.internet import reactor

    stack = http_stack
    stack.master.reactor = reactor  # the stream, polls and timers run for real here
    log_lines = EVENTS_LOG.splitlines()
    server.respond = lambda req: (200, b"\n".join(log_lines) + b"\n")
    source = GerritChangeSource("127.0.0.1", "bb", gerritport=gerrit_ssh.port.getHost().port,
                                http_url=server.url, http_auth=("bb", "pw"))
    await configure(stack, source)
    # what a 4.3 master left behind: everything before the first event was handled
    oid = await stack.updates.getObjectId(source.name, "GerritChangeSource")
    await stack.updates.setState(oid, "last_event_ts", 1700000050)
    source._seen.last_ts = None
    source._state_loaded = False
    await source.reconfigService("127.0.0.1", "bb", gerritport=gerrit_ssh.port.getHost().port,
                                 http_url=server.url, http_auth=("bb", "pw"))
    await source.activate()
    try:
        await gerrit_ssh.stream_opened.addTimeout(20, reactor)
        # missed while the master was down: the two handled events of the log
        first = await wait_for_changes(stack, 2)
        assert [c["category"] for c in first] == ["patchset-created", "ref-updated"]
        # new events reach the log and the stream; the stream's wait for the poll
        for event in (later_patchset(3, 1700000300), later_patchset(4, 1700000400)):
            log_lines.append(json.dumps(event).encode())
            gerrit_ssh.send(json.dumps(event).encode())
        await wait_for_changes(stack, 4)
        # synchronized: the stream alone delivers
        polls = len(server.requests.items)
        gerrit_ssh.send(json.dumps(later_patchset(5, 1700000500)).encode())
        changes = await wait_for_changes(stack, 5)
    finally:
        await source.deactivate()
    assert [(c["category"], c["branch"]) for c in changes] == [
        ("patchset-created", "refs/changes/45/12345/2"), ("ref-updated", "main"),
        ("patchset-created", "refs/changes/45/12345/3"),
        ("patchset-created", "refs/changes/45/12345/4"),
        ("patchset-created", "refs/changes/45/12345/5")]
    assert len(server.requests.items) == polls
    assert all(r.path.startswith("/a/plugins/events-log/events/?t1=")
               for r in server.requests.items)
    assert await stack.updates.getState(oid, "last_event_ts") == 1700000500


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
@pytest_twisted.ensureDeferred
async def test_running_master_builds_reviews_matching_the_gerrit_change_filter(
        tmp_path: Path, gerrit_ssh: FakeGerritSsh) -> None:
    from buildbot.plugins import changes, schedulers, util
    from tests.fixtures.master import running_master, wait_for_message
    from tests.reporters.builds import master_config

    cfg = master_config(
        schedulers=[schedulers.AnyBranchScheduler(
            name="reviews", builderNames=["b0"], treeStableTimer=None,
            change_filter=util.GerritChangeFilter(branch="main",
                                                  eventtype="patchset-created"))],
        change_source=[changes.GerritChangeSource(
            "127.0.0.1", "bb", gerritport=gerrit_ssh.port.getHost().port)])
    async with running_master(tmp_path, cfg) as master:
        from twisted.internet import reactor

        await gerrit_ssh.stream_opened.addTimeout(20, reactor)
        buildset = wait_for_message(master, ("buildsets", None, "new"))
        merged = json.loads(STREAM[3])  # a ref-updated on main: not a review
        gerrit_ssh.send(json.dumps(merged).encode(), STREAM[0])
        _, body = await buildset
        assert [(ss["branch"], ss["revision"], ss["repository"]) for ss in
                body["sourcestamps"]] == [
            ("refs/changes/45/12345/2", "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",
             f"ssh://bb@127.0.0.1:{gerrit_ssh.port.getHost().port}/platform/tools")]
        assert len(await master.data.get(("changes",))) == 2
        assert len(await master.data.get(("buildsets",))) == 1
        (build_change,) = [c for c in await master.data.get(("changes",))
                           if c["category"] == "patchset-created"]
        assert build_change["properties"]["event.change.number"] == (12345, "Change")


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
@pytest_twisted.ensureDeferred
async def test_a_stream_that_ends_early_is_restarted_after_a_delay(
        stack: Stack, gerrit_ssh: FakeGerritSsh) -> None:
    from twisted.internet import reactor
    from twisted.internet.error import ProcessDone
    from twisted.logger import formatEvent, globalLogPublisher
    from twisted.python.failure import Failure

    warnings: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        if "stream-events" in str(event.get("log_format", "")):
            warnings.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)

    stack.master.reactor = reactor
    source = GerritChangeSource("127.0.0.1", "bb", gerritport=gerrit_ssh.port.getHost().port)
    await configure(stack, source)
    source.running = True  # what startService sets; a stopped source does not restart
    await source.activate()
    try:
        await gerrit_ssh.stream_opened.addTimeout(20, reactor)
        gerrit_ssh.stream_opened = defer.Deferred()
        gerrit_ssh.streams[-1].processEnded(Failure(ProcessDone(0)))  # Gerrit hangs up
        await gerrit_ssh.stream_opened.addTimeout(20, reactor)
        gerrit_ssh.send(STREAM[0])
        await wait_for_changes(stack, 1)
    finally:
        await source.deactivate()
        source.running = False
        globalLogPublisher.removeObserver(observe)
    assert gerrit_ssh.commands == [b"gerrit stream-events"] * 2
    assert [w.split("\n")[0] for w in warnings] == [
        f"{source.name}: stream-events failed; restarting after 0s."]


def test_gerrit_change_filter_decides_as_4_3() -> None:
    import sys

    from buildbot.changes.gerritchangesource import GerritChangeFilter
    from buildbot.process.properties import Properties

    sys.path.insert(0, str(Path(__file__).parent / "record"))
    try:
        from gerrit_filter_cases import CHANGES, FILTERS, build_kwargs
    finally:
        sys.path.pop(0)

    class Change:
        def __init__(self, spec: dict[str, Any]) -> None:
            self.branch, self.project = spec["branch"], spec["project"]
            self.repository = self.category = self.codebase = ""
            self.properties = Properties()
            for name, value in spec["properties"].items():
                self.properties.setProperty(name, value, "Change")

    def decide(spec: dict[str, Any]) -> Any:
        try:
            flt = GerritChangeFilter(**build_kwargs(spec))
        except ValueError as e:
            return f"ValueError: {e}"
        return [flt.filter_change(Change(c)) for c in CHANGES]

    recorded = json.loads((FIXTURES / "gerrit_filter_4_3.json").read_text())
    assert [decide(f) for f in FILTERS] == recorded


@pytest_twisted.ensureDeferred
async def test_event_log_poller_gets_files_from_the_rest_api(http_stack: Stack,
                                                            server: RecordingHttpServer) -> None:
    stack = http_stack
    files = {"/COMMIT_MSG": {"status": "A", "lines_inserted": 10, "size_delta": 551,
                             "size": 551},
             "src/frob.c": {"lines_inserted": 9, "lines_deleted": 2, "size_delta": 98,
                            "size": 7011}}

    def respond(req: RecordedRequest) -> tuple[int, bytes]:
        if req.path.startswith("/plugins/events-log/"):
            return 200, STREAM[0] + b"\n"
        assert req.path == "/changes/12345/revisions/2/files/"
        return 200, b")]}'\n" + json.dumps(files).encode() + b"\n"

    server.respond = respond
    source = GerritEventLogPoller(server.url, auth=None, gitBaseURL="https://g/git",
                                  get_files=True)
    await configure(stack, source)

    await source._connector.do_poll()

    (change,) = await stored_changes(stack)
    assert change["files"] == ["/COMMIT_MSG", "src/frob.c"]


def test_stream_process_is_started_once_with_the_overridable_protocol() -> None:
    from buildbot.changes.gerrit_connectors import GerritSshStreamEventsConnector

    spawned: list[tuple[Any, list[str]]] = []
    events: list[str] = []
    lines: list[bytes] = []

    class Reactor:
        def seconds(self) -> float:
            return 100.0

        def spawnProcess(self, proto: Any, exe: str, args: list[str], env: Any) -> Any:
            spawned.append((proto, args))
            return object()

    class Connector(GerritSshStreamEventsConnector):
        class LocalPP(GerritSshStreamEventsConnector.LocalPP):
            def outReceived(self, data: bytes) -> None:
                events.append("out")
                super().outReceived(data)

    async def on_line(line: bytes) -> None:
        lines.append(line)

    conn = Connector(Reactor(), SimpleNamespace(name="g", running=True), "gerrit", "bb",
                     on_process_start_cb=lambda: events.append("start"),
                     on_line_received_cb=on_line)
    conn.start_stream_process()
    conn.start_stream_process()  # already running: nothing new
    assert len(spawned) == 1 and isinstance(spawned[0][0], Connector.LocalPP)
    assert spawned[0][1][-2:] == ["gerrit", "stream-events"]
    spawned[0][0].outReceived(b'{"type": "x"}\n')
    assert events == ["start", "out"] and lines == [b'{"type": "x"}']
    assert conn.connected
