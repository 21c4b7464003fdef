"""The PB port manager with an in-process Twisted PB client: registrations, the MD5 login,
the error types workers see, and the attach/detach lifecycle of avatars."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.spread import pb

from buildbot.pbmanager import PBManager
from tests.fixtures.reactor import global_reactor
from tests.worker.conftest import LOOPBACK_PORT
from tests.worker.standin import Events

pytestmark = pytest.mark.integration


class Avatar(pb.Avatar):
    def __init__(self, events: Events, name: str, fail_attach: bool = False) -> None:
        self.events = events
        self.name = name
        self.fail_attach = fail_attach

    async def attached(self, mind: Any) -> None:
        self.events.append(("attached", self.name))
        if self.fail_attach:
            raise ValueError("handshake bug")
        await mind.callRemote("hello")
        self.events.append(("handshake done", self.name))

    def detached(self, mind: Any) -> None:
        self.events.append(("detached", self.name))

    def perspective_echo(self, x: Any) -> Any:
        return x


class Mind(pb.Referenceable):
    def __init__(self, events: Events) -> None:
        self.events = events

    def remote_hello(self) -> None:
        self.events.append("mind called")


class Side:
    def __init__(self) -> None:
        self.manager = PBManager()
        self.events = Events()
        self.clients: list[pb.PBClientFactory] = []
        self.port = 0

    def factory(self, fail_attach: bool = False, refuse: bool = False) -> Any:
        async def make(mind: Any, username: str) -> Avatar:
            self.events.append(("factory", username))
            if refuse:
                raise RuntimeError("rejecting duplicate worker")
            return Avatar(self.events, username, fail_attach)

        return make

    async def login(self, user: bytes, password: bytes) -> Any:
        reactor = global_reactor()

        client = pb.PBClientFactory()
        self.clients.append(client)
        reactor.connectTCP("127.0.0.1", self.port, client)
        return await client.login(UsernamePassword(user, password), client=Mind(self.events))

    async def login_failure(self, user: bytes, password: bytes) -> Failure:
        """The (copied) failure of a login expected to fail, as the worker sees it."""
        reactor = global_reactor()

        client = pb.PBClientFactory()
        self.clients.append(client)
        reactor.connectTCP("127.0.0.1", self.port, client)
        failures: list[Failure] = []
        d = client.login(UsernamePassword(user, password), client=Mind(self.events))
        d.addCallbacks(lambda r: pytest.fail(f"login succeeded: {r!r}"), failures.append)
        await d
        return failures[0]

    async def disconnect_all(self) -> None:
        for client in self.clients:
            client.disconnect()
        self.clients.clear()


@pytest_twisted.async_yield_fixture
async def side() -> AsyncIterator[Side]:
    s = Side()
    await s.manager.startService()
    try:
        yield s
    finally:
        await s.disconnect_all()
        await s.manager.stopService()


@pytest_twisted.ensureDeferred
async def test_login_runs_attach_before_answering_and_logout_detaches(side: Side) -> None:
    reg = await side.manager.register(LOOPBACK_PORT, "w1", "pass", side.factory())
    side.port = reg.getPort()
    avatar = await side.login(b"w1", b"pass")
    assert side.events.items == [("factory", "w1"), ("attached", "w1"), "mind called",
                                 ("handshake done", "w1")]
    assert await avatar.callRemote("echo", [1, "x"]) == [1, "x"]
    await side.disconnect_all()
    await side.events.wait_for(("detached", "w1"))
    await reg.unregister()


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(("user", "password", "line"), [
    (b"w1", b"wrong", "wrong password for 'w1'"),
    (b"nobody", b"pass", "unknown name 'nobody'"),
])
async def test_bad_credentials_fail_with_unauthorized_login(
        side: Side, master_log: Any, user: bytes, password: bytes, line: str) -> None:
    # by keyword, as 4.3 names the parameters
    reg = await side.manager.register(config_portstr=LOOPBACK_PORT, username="w1",
                                      password="pass", pfactory=side.factory())
    side.port = reg.getPort()
    failure = await side.login_failure(user, password)
    assert failure.check(UnauthorizedLogin)  # the stock worker's test
    assert master_log.count(line) == 1
    assert master_log.count("(from 127.0.0.1:") == 1
    assert side.events.items == []
    await reg.unregister()


@pytest_twisted.ensureDeferred
async def test_password_may_be_rendered_at_login(side: Side) -> None:
    rendered = []

    async def secret() -> str:
        rendered.append(1)
        return "s3cret"

    reg = await side.manager.register(LOOPBACK_PORT, "w1", secret, side.factory())
    side.port = reg.getPort()
    await side.login(b"w1", b"s3cret")
    assert rendered == [1]
    await reg.unregister()


@pytest_twisted.ensureDeferred
async def test_refused_or_failed_attach_is_not_an_unauthorized_login(
        side: Side, logged_errors: Any) -> None:
    reg1 = await side.manager.register(LOOPBACK_PORT, "dup", "p", side.factory(refuse=True))
    reg2 = await side.manager.register(LOOPBACK_PORT, "buggy", "p",
                                       side.factory(fail_attach=True))
    side.port = reg1.getPort()
    # the stock worker exits on any login error that is not an UnauthorizedLogin
    failure = await side.login_failure(b"dup", b"p")
    assert not failure.check(UnauthorizedLogin)
    assert failure.getErrorMessage() == "rejecting duplicate worker"
    assert logged_errors.events == []  # a refusal is not a master error

    failure = await side.login_failure(b"buggy", b"p")
    assert not failure.check(UnauthorizedLogin)
    assert failure.getErrorMessage() == "handshake failed: handshake bug"
    await side.events.wait_for(("detached", "buggy"))  # no logout is wired: detached at once
    assert len(logged_errors.flush(ValueError)) == 1
    await reg1.unregister()
    await reg2.unregister()


@pytest_twisted.ensureDeferred
async def test_registrations_share_ports_by_normalized_string(side: Side) -> None:
    manager = side.manager
    assert [manager.normalize_portstr(p) for p in (9989, "9989", "tcp:9989:interface=::1")] == [
        "tcp:9989", "tcp:9989", "tcp:9989:interface=::1"]
    reg = await manager.register(LOOPBACK_PORT, "a", "p", side.factory())
    with pytest.raises(KeyError, match="already registered"):
        await manager.register(LOOPBACK_PORT, "a", "q", side.factory())
    await reg.unregister()
    await reg.unregister()  # idempotent
    assert manager.dispatchers == {}


@pytest_twisted.ensureDeferred
async def test_registering_before_start_listens_at_start() -> None:
    manager = PBManager()
    reg = await manager.register(LOOPBACK_PORT, "a", "p", lambda m, u: defer.succeed(None))
    with pytest.raises(RuntimeError, match="not listening"):
        reg.getPort()
    await manager.startService()
    try:
        assert reg.getPort() > 0
    finally:
        await manager.stopService()


@pytest_twisted.ensureDeferred
async def test_a_password_that_cannot_be_rendered_refuses_as_unauthorized(
        side: Side, logged_errors: Any) -> None:
    async def broken() -> str:
        raise KeyError("secret 'pw' not found")

    reg = await side.manager.register(LOOPBACK_PORT, "w1", broken, side.factory())
    side.port = reg.getPort()
    failure = await side.login_failure(b"w1", b"x")
    assert failure.check(UnauthorizedLogin)  # the worker keeps retrying
    assert len(logged_errors.flush(KeyError)) == 1
    await reg.unregister()
