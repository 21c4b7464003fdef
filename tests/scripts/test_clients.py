"""Client commands over real PB connections to local stand-in servers (the master-side
services are someone else's), tryserver's maildir delivery, and try's source stamps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.cred import checkers, portal
from twisted.internet import defer
from twisted.spread import pb
from zope.interface import implementer

from buildbot.scripts import sendchange, tryclient, trycmd, tryserver, user
from buildbot.scripts.try_sourcestamp import SourceStamp, TryError, get_source_stamp, p4_patch
from tests.scripts.conftest import cli_env


class Recorder(pb.Avatar):
    """A PB perspective recording the remote calls it gets."""

    def __init__(self, server: PbServer, name: bytes) -> None:
        self.server, self.name = server, name

    def perspective_addChange(self, change: dict[str, Any]) -> None:
        self.server.calls.append(("addChange", change))

    def perspective_commandline(self, *args: Any) -> str:
        self.server.calls.append(("commandline", args))
        return "user(s) added:\nidentifier: jo"

    def perspective_getAvailableBuilderNames(self) -> list[str]:
        return ["linux", "win"]

    def perspective_try(self, *args: Any) -> Any:
        self.server.calls.append(("try", args))
        return self.server.buildset


@implementer(portal.IRealm)
class PbServer:
    """A PB server on 127.0.0.1 with one user/password, playing a master's PB services."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.buildset: Any = None
        self.port: Any = None
        self.connections = 0
        self._all_closed: list[defer.Deferred[None]] = []

    def connection_lost(self) -> None:
        self.connections -= 1
        if self.connections == 0:
            waiting, self._all_closed = self._all_closed, []
            for d in waiting:
                d.callback(None)

    def all_closed(self) -> defer.Deferred[None]:
        """Fires once every client connection is closed (the client hung up)."""
        if self.connections == 0:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._all_closed.append(d)
        return d

    def requestAvatar(self, avatar_id: bytes, mind: Any, *interfaces: Any) -> Any:
        return pb.IPerspective, Recorder(self, avatar_id), lambda: None

    def listen(self, user_name: str, password: str) -> int:
        from twisted.internet import reactor

        checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(
            **{user_name: password.encode()})
        server = self

        class CountingFactory(pb.PBServerFactory):
            def buildProtocol(self, addr: Any) -> Any:
                broker = super().buildProtocol(addr)
                lost = broker.connectionLost
                server.connections += 1

                def connection_lost(reason: Any) -> None:
                    lost(reason)
                    server.connection_lost()

                broker.connectionLost = connection_lost
                return broker

        factory = CountingFactory(portal.Portal(self, [checker]))
        self.port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        return int(self.port.getHost().port)


@pytest.fixture
def pb_server() -> Any:
    from twisted.internet import reactor

    server = PbServer()
    yield server
    if server.port is not None:
        closed = server.all_closed()
        closed.addTimeout(5, reactor)  # fails the teardown if a client never hung up
        pytest_twisted.blockon(closed)
        pytest_twisted.blockon(defer.maybeDeferred(server.port.stopListening))


def options(cls: type, *argv: str) -> dict[str, Any]:
    opts = cls()
    opts.parseOptions(list(argv))
    return dict(opts)


@pytest.fixture(autouse=True)
def no_options_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


@pytest_twisted.ensureDeferred
async def test_sendchange_delivers_the_change(pb_server: PbServer,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    port = pb_server.listen("change", "changepw")
    config = options(sendchange.SendChangeOptions, "-m", f"127.0.0.1:{port}", "-W", "alice",
                     "-b", "main", "-r", "abc123", "-c", "fix it", "-p", "k:v", "-s", "git",
                     "-R", "https://example.org/r.git", "--codebase", "cb", "-w", "1700000000",
                     "a.c", "b/c.h")

    rc = await sendchange.sendchange_async(config)

    assert (rc, capsys.readouterr().out) == (0, "change sent successfully\n")
    assert pb_server.calls == [("addChange", {
        "project": "", "repository": "https://example.org/r.git", "who": "alice",
        "files": ["a.c", "b/c.h"], "comments": "fix it", "branch": "main",
        "revision": "abc123", "category": None, "when": 1700000000.0,
        "properties": {"k": "v"}, "revlink": "", "src": "git", "codebase": "cb"})]


@pytest_twisted.ensureDeferred
async def test_sendchange_with_wrong_credentials_fails(
        pb_server: PbServer, capsys: pytest.CaptureFixture[str], logged_errors: Any) -> None:
    port = pb_server.listen("change", "changepw")
    config = options(sendchange.SendChangeOptions, "-m", f"127.0.0.1:{port}", "-W", "alice",
                     "-a", "change:wrong")

    rc = await sendchange.sendchange_async(config)

    out = capsys.readouterr().out
    assert rc == 1
    assert out.startswith("change not sent:\nTraceback")
    assert "RemoteError" in out
    assert logged_errors.flush("UnauthorizedLogin")  # the stand-in server logs the refusal


@pytest_twisted.ensureDeferred
async def test_user_add_sends_the_operation(pb_server: PbServer,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    port = pb_server.listen("admin", "pw")
    config = options(user.UserOptions, "-m", f"127.0.0.1:{port}", "-u", "admin", "-p", "pw",
                     "--op", "add", "--info", "git=jo <jo@x>,email=jo@x")

    rc = await user.user_async(config)

    assert (rc, capsys.readouterr().out) == (0, "user(s) added:\nidentifier: jo\n")
    assert pb_server.calls == [("commandline", (
        "add", None, None, [],
        [{"git": "jo <jo@x>", "email": "jo@x", "identifier": "jo <jo@x>"}]))]


def test_encrypted_password_is_salted_sha1() -> None:
    import hashlib

    stored = user.encrypt_password("secret")
    salt = stored[:16]

    assert len(stored) == 16 + 40
    assert stored[16:] == hashlib.sha1(b"secret" + salt.encode()).hexdigest()
    assert user.encrypt_password("secret") != stored


# -- try ---------------------------------------------------------------------------------------


class BuildRequest(pb.Referenceable):
    """Stand-in for the master's try build request: starts one build when subscribed to."""

    def __init__(self, builder: str, results: int) -> None:
        self.builder, self.results = builder, results

    def remote_subscribe(self, watcher: Any) -> None:
        watcher.callRemote("newbuild", Build(self.results), self.builder)


class Build(pb.Referenceable):
    def __init__(self, results: int) -> None:
        self.results = results

    def remote_subscribe(self, watcher: Any, interval: int) -> None:
        pass

    def remote_waitUntilFinished(self) -> Build:
        return self

    def remote_getResults(self) -> int:
        return self.results

    def remote_getText(self) -> list[str]:
        return ["build", "done"]


class BuildSet(pb.Referenceable):
    def __init__(self, results: dict[str, int]) -> None:
        self.requests = [(name, BuildRequest(name, r)) for name, r in results.items()]

    def remote_getBuildRequests(self) -> list[tuple[str, BuildRequest]]:
        return self.requests


@pytest_twisted.ensureDeferred
async def test_try_pb_delivers_and_waits(pb_server: PbServer, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    port = pb_server.listen("alice", "pw")
    pb_server.buildset = BuildSet({"linux": 0, "win": 2})
    (tmp_path / "p.diff").write_bytes(b"--- a/x\n+++ b/x\n")
    config = options(trycmd.TryOptions, "-c", "pb", "-m", f"127.0.0.1:{port}", "-u", "alice",
                     "--passwd", "pw", "--diff", "p.diff", "-p", "1", "--baserev", "r1",
                     "--branch", "main", "-b", "linux", "-b", "win", "-w", "alice",
                     "-C", "please", "--property", "a=1", "--wait", "-q")

    rc = await tryclient.TryClient(config).run()

    assert rc == 1  # one build failed
    assert capsys.readouterr().out.splitlines() == [
        "using 'pb' connect method",
        "Delivering job; comment= please",
        "All Builds Complete",
        "linux: success (build done)",
        "win: failure (build done)",
    ]
    assert pb_server.calls == [("try", (
        "main", "r1", (1, b"--- a/x\n+++ b/x\n"), None, "", ["linux", "win"], "alice",
        "please", {"a": "1"}))]


@pytest_twisted.ensureDeferred
async def test_try_lists_builder_names(pb_server: PbServer,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    port = pb_server.listen("alice", "pw")
    config = options(trycmd.TryOptions, "-c", "pb", "-m", f"127.0.0.1:{port}", "-u", "alice",
                     "--passwd", "pw", "--get-builder-names")

    rc = await tryclient.TryClient(config).run()

    assert (rc, capsys.readouterr().out) == (0, (
        "using 'pb' connect method\n"
        "The following builders are available for the try scheduler: \nlinux\nwin\n"))


def test_job_file_versions() -> None:
    text = tryclient.job_file("j1", SourceStamp("main", "r1", (1, b"diff\n"), "repo"), "proj",
                              "me", "c", ["b"], {"p": "1"})
    binary = tryclient.job_file("j2", SourceStamp(None, None, (0, b"\xff\xfe"), ""), "", None,
                                None, [], {})

    assert [n[0] for n in (netstrings(text), netstrings(binary))] == ["5", "6"]
    assert json.loads(netstrings(text)[1]) == {
        "jobid": "j1", "branch": "main", "baserev": "r1", "patch_level": 1,
        "repository": "repo", "project": "proj", "who": "me", "comment": "c",
        "builderNames": ["b"], "properties": {"p": "1"}, "patch_body": "diff\n"}
    assert json.loads(netstrings(binary)[1])["patch_body_base64"] == "//4="


def netstrings(text: str) -> list[str]:
    """Decode a sequence of netstrings, checking each declared length."""
    out = []
    while text:
        length, _, rest = text.partition(":")
        out.append(rest[:int(length)])
        assert rest[int(length)] == ","
        text = rest[int(length) + 1:]
    return out


def test_tryserver_writes_the_job_atomically(tmp_path: Path) -> None:
    for sub in ("tmp", "new", "cur"):
        (tmp_path / sub).mkdir()

    path = tryserver.deliver_job(str(tmp_path), b"1:5,2:{},")

    assert os.path.dirname(path) == str(tmp_path / "new")
    assert Path(path).read_bytes() == b"1:5,2:{},"
    assert os.listdir(tmp_path / "tmp") == []


@pytest.mark.integration
def test_try_over_ssh_runs_tryserver_on_the_other_side(tmp_path: Path) -> None:
    jobdir = tmp_path / "jobdir"
    for sub in ("tmp", "new", "cur"):
        (jobdir / sub).mkdir(parents=True)
    # an "ssh" that runs the remote command locally (dropping -l user and the host)
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text('#!/bin/sh\nwhile [ "$1" = -l ] || [ "$1" = -p ]; do shift 2; done\n'
                        'shift\nexec "$@"\n')
    fake_ssh.chmod(0o755)
    buildbot_bin = tmp_path / "buildbot"
    buildbot_bin.write_text(f'#!/bin/sh\nexec {sys.executable} -m buildbot.scripts.runner "$@"\n')
    buildbot_bin.chmod(0o755)
    (tmp_path / "p.diff").write_text("--- a/f\n+++ b/f\n")

    result = subprocess.run(
        [sys.executable, "-m", "buildbot.scripts.runner", "try", "-c", "ssh", "--host", "h",
         "-u", "bob", "--jobdir", str(jobdir), "--ssh", str(fake_ssh),
         "--buildbotbin", str(buildbot_bin), "--diff", "p.diff", "-b", "linux", "-w", "bob"],
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "using 'ssh' connect method", "job created", "job has been delivered",
        "not waiting for builds to finish"]
    [job] = os.listdir(jobdir / "new")
    version, body = netstrings((jobdir / "new" / job).read_text())
    assert (version, json.loads(body)["builderNames"]) == ("5", ["linux"])


# -- source stamps -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, "GIT_AUTHOR_NAME": "t",
                                          "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                                          "GIT_COMMITTER_EMAIL": "t@x"}).stdout


@pytest_twisted.ensureDeferred
async def test_git_source_stamp_is_the_base_and_the_local_diff(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    (repo / "f.txt").write_text("one\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "f.txt").write_text("two\n")

    ss = await get_source_stamp("git", str(repo))

    assert (ss.branch, ss.revision, ss.repository, ss.patch[0]) == (
        "master", head, str(repo), 1)
    assert ss.patch[1] is not None and b"-one\n+two\n" in ss.patch[1]
    assert b"--- a/f.txt\n+++ b/f.txt\n" in ss.patch[1]


@pytest_twisted.ensureDeferred
async def test_unknown_vc_is_reported() -> None:
    with pytest.raises(TryError, match="unknown vctype 'rcs'"):
        await get_source_stamp("rcs", ".")


def test_p4_patch_rewrites_depot_headers() -> None:
    diff = b"==== //depot/main/src/a.c#3 - /ws/src/a.c ====\n@@ -1 +1 @@\n-x\n+y\n"

    assert p4_patch(diff, "main") == b"--- src/a.c#3\n+++ src/a.c\n@@ -1 +1 @@\n-x\n+y\n\n"
    with pytest.raises(TryError, match="could not parse patch file"):
        p4_patch(b"nothing here\n", "main")
